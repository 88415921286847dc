/*
 * table: gpstate's column tables, in the manner of Greenplum's TableLogger. Rows are
 * collected first; the widths of the columns come from the widest cell; each row is then logged
 * as one line: info rows indented by three spaces, warning rows unindented (the "[WARNING]" tag is
 * three characters longer than "[INFO]", so the columns still line up) and ending with an arrow.
 */
#ifndef SEGRECOVER_GPSTATE_TABLE_H
#define SEGRECOVER_GPSTATE_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#define STATE_TABLE_SEPARATOR "----------------------------------------------------"
#define STATE_TABLE_ARROW "<<<<<<<<"
#define STATE_TABLE_GAP 3 /* spaces between columns */

struct state_row {
	char **cells;   /* NULL for a separator */
	size_t ncells;
	bool warn;
};

struct state_table {
	struct state_row *rows;
	size_t nrows, alloc;
	size_t nwarnings;
};

void state_table_init(struct state_table *t);
void state_table_free(struct state_table *t);

/* Add a row of ncells cells (copied). A warning row gets STATE_TABLE_ARROW as an extra cell. */
void state_table_add(struct state_table *t, bool warn, const char *const *cells, size_t ncells);
/* The same with the cells as arguments: state_table_row(t, warn, "a", "b", ...). */
#define state_table_row(t, warn, ...) state_table_row_(t, warn, __VA_ARGS__, (const char *) NULL)
void state_table_row_(struct state_table *t, bool warn, const char *first, ...)
	__attribute__((sentinel));
/* Two-column "label = value" rows, the shape of Greenplum's key/value blocks. */
void state_table_kv(struct state_table *t, bool warn, const char *label, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void state_table_separator(struct state_table *t);

static inline bool state_table_has_warnings(const struct state_table *t)
{
	return t->nwarnings > 0;
}

/*
 * Column widths: the widest cell of each column over the rows where that cell is followed by
 * another (a row's last cell is not padded, so a long last cell, such as an error message, does
 * not push the other rows' columns or arrows to the right). widths has room for maxcols
 * entries. Returns the number of columns.
 */
size_t state_table_widths(const struct state_table *t, size_t *widths, size_t maxcols);

/*
 * Render row i as the text that follows the log prefix: every cell but the last padded to its
 * column width plus STATE_TABLE_GAP, info rows indented by three spaces, no trailing blanks.
 * Returns a malloc'd string.
 */
char *state_table_render_row(const struct state_table *t, size_t i, const size_t *widths);

/* Log every row (log_info / log_warning), then empty the table so that it can be reused. */
void state_table_output(struct state_table *t);

#endif
