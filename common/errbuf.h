/* errbuf: the error buffer every fallible function fills; the command decides what to print. */
#ifndef SEGRECOVER_ERRBUF_H
#define SEGRECOVER_ERRBUF_H

#include <stdbool.h>

#define ERRBUF_SIZE 2048

struct errbuf {
	char msg[ERRBUF_SIZE];
};

/* Replace the message. Always returns -1 so that "return errbuf_set(...)" reads naturally. */
int errbuf_set(struct errbuf *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Put context in front of the current message: "<context>: <old message>". Returns -1. */
int errbuf_prefix(struct errbuf *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Append a sentence to the current message (used for "what to do next" hints). Returns -1. */
int errbuf_append(struct errbuf *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* errno text appended as ": <strerror>". Returns -1. */
int errbuf_set_errno(struct errbuf *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

void errbuf_clear(struct errbuf *err);
bool errbuf_empty(const struct errbuf *err);

#endif
