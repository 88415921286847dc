/*
 * progressview: gprecoverseg's live view of the recoveries: one line per segment with bytes,
 * percent and rate, redrawn in place on a terminal, or as log lines (-s, or not a terminal);
 * and recovery_progress.file for gpstate -e.
 */
#ifndef SEGRECOVER_PROGRESSVIEW_H
#define SEGRECOVER_PROGRESSVIEW_H

#include <stdbool.h>
#include <stddef.h>

struct run_row;

struct progress_view {
	bool enabled;         /* false with --no-progress */
	bool in_place;        /* redraw on a terminal */
	int lines_drawn;      /* lines of the in-place block on screen */
	double last_draw;
	double last_file_write;
	const char *progress_file;
	char **last_logged;   /* sequential mode: what was last logged per row */
	double *last_logged_at;
	size_t nrows;
	struct run_row *rows; /* as last drawn: redrawn at once after a log line */
	double last_total_log; /* sequential mode: when the total was last logged */
};

void pview_init(struct progress_view *v, size_t nrows, bool enabled, bool sequential,
		const char *progress_file);
/* Redraw if due (or if force). */
void pview_update(struct progress_view *v, struct run_row *rows, size_t nrows, bool force);
/* Erase the in-place block, so that a log line can be printed (registered as the log hook). */
void pview_clear(void);
/* Draw it again at once after the log line (the after-hook). */
void pview_redraw(void);
void pview_finish(struct progress_view *v);

/* The text shown for a row: "1164848/1371715 kB (84%), 312.0 MB/s, ETA 0:04" or its step. */
void pview_row_text(const struct run_row *r, double now, char *buf, size_t len);

/*
 * The line for every copy at once: "total: 2050781/3320312 kB (61%), 410.0 MB/s, ETA 0:03"; false
 * when no copy knows its total yet.
 */
bool pview_total_text(const struct run_row *rows, size_t n, double now, char *buf, size_t len);

/* "1:05", "12:00:03": the ETA of the copies still to do at their current rate. */
void pview_format_eta(double seconds, char *buf, size_t len);

#endif
