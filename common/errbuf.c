#include "errbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int errbuf_set(struct errbuf *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int errbuf_set_errno(struct errbuf *err, int errnum, const char *fmt, ...)
{
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	len = strlen(err->msg);
	snprintf(err->msg + len, sizeof(err->msg) - len, ": %s", strerror(errnum));
	return -1;
}

int errbuf_prefix(struct errbuf *err, const char *fmt, ...)
{
	char old[ERRBUF_SIZE];
	va_list ap;
	size_t len;

	memcpy(old, err->msg, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	len = strlen(err->msg);
	if (old[0] != '\0')
		snprintf(err->msg + len, sizeof(err->msg) - len, ": %s", old);
	return -1;
}

int errbuf_append(struct errbuf *err, const char *fmt, ...)
{
	size_t len = strlen(err->msg);
	va_list ap;

	if (len > 0 && len + 1 < sizeof(err->msg))
		err->msg[len++] = ' ';
	err->msg[len] = '\0';
	va_start(ap, fmt);
	vsnprintf(err->msg + len, sizeof(err->msg) - len, fmt, ap);
	va_end(ap);
	return -1;
}

void errbuf_clear(struct errbuf *err)
{
	err->msg[0] = '\0';
}

bool errbuf_empty(const struct errbuf *err)
{
	return err->msg[0] == '\0';
}
