/* strbuf: a growable, always NUL-terminated byte buffer (in the spirit of git's strbuf). */
#ifndef SEGRECOVER_STRBUF_H
#define SEGRECOVER_STRBUF_H

#include <stddef.h>

struct strbuf {
	char *buf;        /* never NULL after init; "" when empty */
	size_t len;
	size_t alloc;
};

#define STRBUF_INIT { 0 }

void strbuf_init(struct strbuf *sb, size_t hint);
void strbuf_release(struct strbuf *sb);
void strbuf_reset(struct strbuf *sb);
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, char c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hand the buffer to the caller (who frees it); the strbuf is left empty and reusable. */
char *strbuf_detach(struct strbuf *sb, size_t *len);
/* Drop trailing whitespace. */
void strbuf_rtrim(struct strbuf *sb);

#endif
