/* strvec: a growable, NULL-terminated array of owned strings, for building argvs (git's strvec). */
#ifndef SEGRECOVER_STRVEC_H
#define SEGRECOVER_STRVEC_H

#include <stddef.h>

struct strvec {
	char **v;   /* NULL-terminated once anything was pushed; NULL before */
	size_t n;
	size_t alloc;
};

#define STRVEC_INIT { 0 }

void strvec_push(struct strvec *sv, const char *s);
void strvec_pushf(struct strvec *sv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The array as an argv (never NULL: an empty vector gives { NULL }). */
const char *const *strvec_argv(struct strvec *sv);
void strvec_clear(struct strvec *sv);

#endif
