#include "strvec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "xalloc.h"

static void append(struct strvec *sv, char *owned)
{
	if (sv->n + 2 > sv->alloc) {
		sv->alloc = sv->alloc ? 2 * sv->alloc : 16;
		sv->v = xrealloc(sv->v, sv->alloc * sizeof(*sv->v));
	}
	sv->v[sv->n++] = owned;
	sv->v[sv->n] = NULL;
}

void strvec_push(struct strvec *sv, const char *s)
{
	append(sv, xstrdup(s));
}

void strvec_pushf(struct strvec *sv, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		s = xstrdup(""); /* unreachable but for memory exhaustion, which xstrdup reports */
	append(sv, s);
}

const char *const *strvec_argv(struct strvec *sv)
{
	if (sv->v == NULL) {
		sv->alloc = 16;
		sv->v = xcalloc(sv->alloc, sizeof(*sv->v));
	}
	return (const char *const *) sv->v;
}

void strvec_clear(struct strvec *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->alloc = 0;
}
