/* xalloc: allocation that cannot return NULL (out of memory ends the process with a message). */
#ifndef SEGRECOVER_XALLOC_H
#define SEGRECOVER_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
