#include "gpstate/table.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "strbuf.h"
#include "xalloc.h"

#define STATE_TABLE_MAXCOLS 32

void state_table_init(struct state_table *t)
{
	memset(t, 0, sizeof(*t));
}

static void free_rows(struct state_table *t)
{
	for (size_t i = 0; i < t->nrows; i++) {
		for (size_t j = 0; j < t->rows[i].ncells; j++)
			free(t->rows[i].cells[j]);
		free(t->rows[i].cells);
	}
	t->nrows = 0;
	t->nwarnings = 0;
}

void state_table_free(struct state_table *t)
{
	free_rows(t);
	free(t->rows);
	memset(t, 0, sizeof(*t));
}

static struct state_row *new_row(struct state_table *t)
{
	struct state_row *r;

	if (t->nrows == t->alloc) {
		t->alloc = t->alloc ? t->alloc * 2 : 16;
		t->rows = xrealloc(t->rows, t->alloc * sizeof(*t->rows));
	}
	r = &t->rows[t->nrows++];
	memset(r, 0, sizeof(*r));
	return r;
}

void state_table_add(struct state_table *t, bool warn, const char *const *cells, size_t ncells)
{
	struct state_row *r = new_row(t);

	if (ncells > STATE_TABLE_MAXCOLS - 1)
		ncells = STATE_TABLE_MAXCOLS - 1;
	r->cells = xcalloc(ncells + 1, sizeof(char *));
	for (size_t i = 0; i < ncells; i++)
		r->cells[i] = xstrdup(cells[i] ? cells[i] : "");
	r->ncells = ncells;
	if (warn) {
		r->cells[r->ncells++] = xstrdup(STATE_TABLE_ARROW);
		r->warn = true;
		t->nwarnings++;
	}
}

void state_table_row_(struct state_table *t, bool warn, const char *first, ...)
{
	const char *cells[STATE_TABLE_MAXCOLS];
	size_t n = 0;
	const char *c;
	va_list ap;

	va_start(ap, first);
	for (c = first; c != NULL && n < STATE_TABLE_MAXCOLS - 1; c = va_arg(ap, const char *))
		cells[n++] = c;
	va_end(ap);
	state_table_add(t, warn, cells, n);
}

void state_table_kv(struct state_table *t, bool warn, const char *label, const char *fmt, ...)
{
	char value[2048], eq[2100];
	const char *cells[2];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	snprintf(eq, sizeof(eq), "= %s", value);
	cells[0] = label;
	cells[1] = eq;
	state_table_add(t, warn, cells, 2);
}

void state_table_separator(struct state_table *t)
{
	new_row(t);
}

size_t state_table_widths(const struct state_table *t, size_t *widths, size_t maxcols)
{
	size_t ncols = 0;

	for (size_t i = 0; i < maxcols; i++)
		widths[i] = 0;
	for (size_t i = 0; i < t->nrows; i++) {
		const struct state_row *r = &t->rows[i];

		/* The last cell of a row is never padded, so it does not widen its column. */
		for (size_t j = 0; j + 1 < r->ncells && j < maxcols; j++) {
			size_t len = strlen(r->cells[j]);

			if (len > widths[j])
				widths[j] = len;
		}
		if (r->ncells > ncols)
			ncols = r->ncells < maxcols ? r->ncells : maxcols;
	}
	return ncols;
}

char *state_table_render_row(const struct state_table *t, size_t i, const size_t *widths)
{
	const struct state_row *r = &t->rows[i];
	struct strbuf sb = STRBUF_INIT;

	strbuf_init(&sb, 128);
	if (r->cells == NULL) {
		strbuf_addstr(&sb, STATE_TABLE_SEPARATOR);
		return strbuf_detach(&sb, NULL);
	}
	if (!r->warn)
		strbuf_addstr(&sb, "   ");
	for (size_t j = 0; j < r->ncells; j++) {
		strbuf_addstr(&sb, r->cells[j]);
		if (j + 1 < r->ncells) {
			size_t pad = widths[j] + STATE_TABLE_GAP - strlen(r->cells[j]);

			while (pad-- > 0)
				strbuf_addch(&sb, ' ');
		}
	}
	strbuf_rtrim(&sb);
	return strbuf_detach(&sb, NULL);
}

void state_table_output(struct state_table *t)
{
	size_t widths[STATE_TABLE_MAXCOLS];

	state_table_widths(t, widths, STATE_TABLE_MAXCOLS);
	for (size_t i = 0; i < t->nrows; i++) {
		char *line = state_table_render_row(t, i, widths);

		if (t->rows[i].warn)
			log_warning("%s", line);
		else
			log_info("%s", line);
		free(line);
	}
	free_rows(t);
}
