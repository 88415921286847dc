#include "driver/progressview.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "driver/dispatch.h"
#include "driver/plan.h"
#include "log.h"
#include "proto/progressfile.h"
#include "strbuf.h"
#include "units.h"
#include "xalloc.h"

static struct progress_view *active_view;

void pview_init(struct progress_view *v, size_t nrows, bool enabled, bool sequential,
		const char *progress_file)
{
	memset(v, 0, sizeof(*v));
	v->enabled = enabled;
	v->in_place = enabled && !sequential && isatty(STDOUT_FILENO) &&
		      log_get_verbosity() != LOG_QUIET;
	v->progress_file = enabled ? progress_file : NULL;
	v->nrows = nrows;
	v->last_logged = xcalloc(nrows ? nrows : 1, sizeof(char *));
	v->last_logged_at = xcalloc(nrows ? nrows : 1, sizeof(double));
	active_view = v;
	if (v->in_place) {
		log_set_console_hook(pview_clear);
		log_set_console_after_hook(pview_redraw);
	}
}

void pview_format_eta(double seconds, char *buf, size_t len)
{
	long s = seconds < 0 ? 0 : (long) (seconds + 0.5);

	if (s >= 3600)
		snprintf(buf, len, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(buf, len, "%ld:%02ld", s / 60, s % 60);
}

bool pview_total_text(const struct run_row *rows, size_t n, double now, char *buf, size_t len)
{
	uint64_t done = 0, total = 0;
	double rate = 0, earliest = 0;
	char d[32], t[32], eta[32];

	for (size_t i = 0; i < n; i++) {
		const struct run_row *r = &rows[i];

		if (r->state == RUN_COPYING && r->total > 0 && strcmp(r->phase, "copy") == 0) {
			done += r->done < r->total ? r->done : r->total;
			total += r->total;
			if (earliest == 0 || r->t_copy_start < earliest)
				earliest = r->t_copy_start;
		}
	}
	if (total == 0)
		return false;
	if (now - earliest > 0.2)
		rate = (double) done / (now - earliest);
	/* The rows' own units (pg_basebackup's kB), so that the block reads as one. */
	snprintf(d, sizeof(d), "%llu", (unsigned long long) done / 1024);
	snprintf(t, sizeof(t), "%llu kB", (unsigned long long) total / 1024);
	if (rate > 0)
		pview_format_eta((double) (total - done) / rate, eta, sizeof(eta));
	else
		snprintf(eta, sizeof(eta), "unknown");
	snprintf(buf, len, "total: %s/%s (%u%%), %.1f MB/s, ETA %s", d, t,
		 (unsigned) (done * 100 / total), rate / UNITS_MB, eta);
	return true;
}

void pview_row_text(const struct run_row *r, double now, char *buf, size_t len)
{
	switch (r->state) {
	case RUN_PENDING:
		snprintf(buf, len, "waiting for a free slot (-B/-b)");
		return;
	case RUN_COPYING:
		if (r->total > 0 && strcmp(r->phase, "copy") == 0) {
			double secs = now - r->t_copy_start;
			double rate = secs > 0.2 ? (double) r->done / secs / UNITS_MB : 0;
			unsigned pct = (unsigned) (r->done >= r->total ? 100 : r->done * 100 / r->total);

			int n = snprintf(buf, len, "%llu/%llu kB (%u%%), %.1f MB/s",
					 (unsigned long long) r->done / 1024,
					 (unsigned long long) r->total / 1024, pct, rate);

			if (rate > 0 && r->done < r->total && n > 0 && (size_t) n < len) {
				char eta[32];

				pview_format_eta((double) (r->total - r->done) / (rate * UNITS_MB), eta,
						 sizeof(eta));
				n += snprintf(buf + n, len - (size_t) n, ", ETA %s", eta);
			}

			/* Compared and moved differ for a differential copy: both are shown. */
			if (r->sent > 0 && n > 0 && (size_t) n < len)
				snprintf(buf + n, len - (size_t) n, ", %llu kB sent",
					 (unsigned long long) r->sent / 1024);
		} else if (r->done > 0 && strcmp(r->phase, "copy") == 0) {
			snprintf(buf, len, "%llu kB copied", (unsigned long long) r->done / 1024);
		} else {
			snprintf(buf, len, "%s", r->phase[0] ? r->phase : "starting");
		}
		return;
	case RUN_SYNCING:
		snprintf(buf, len, "started; waiting for the mirror to catch up and be marked in sync");
		return;
	case RUN_DONE:
		snprintf(buf, len, "done: in sync after %.1f s", r->t_end - r->t_start);
		return;
	case RUN_FAILED:
		snprintf(buf, len, "failed at %s", r->step[0] ? r->step : "?");
		return;
	}
	buf[0] = '\0';
}

static void row_label(const struct run_row *r, char *buf, size_t len)
{
	snprintf(buf, len, "%s (dbid %d)", r->plan->target.hostname, r->plan->target.dbid);
}

void pview_clear(void)
{
	struct progress_view *v = active_view;

	if (v == NULL || !v->in_place || v->lines_drawn == 0)
		return;
	/* Move to the top of the block and erase it. */
	printf("\033[%dA", v->lines_drawn);
	for (int i = 0; i < v->lines_drawn; i++)
		printf("\033[K\n");
	printf("\033[%dA", v->lines_drawn);
	fflush(stdout);
	v->lines_drawn = 0;
}

static void write_progress_file(struct progress_view *v, struct run_row *rows, size_t n, double now)
{
	struct strbuf sb = STRBUF_INIT;
	struct errbuf ignored;

	strbuf_init(&sb, 256);
	for (size_t i = 0; i < n; i++) {
		char text[256];

		if (rows[i].state == RUN_DONE || rows[i].state == RUN_FAILED)
			continue;
		pview_row_text(&rows[i], now, text, sizeof(text));
		strbuf_addf(&sb, "%s:%d:%s\n", rows[i].plan->s->name,
			    rows[i].plan->target.dbid, text);
	}
	progressfile_write(v->progress_file, sb.buf, sb.len, &ignored);
	strbuf_release(&sb);
}

static void draw(struct progress_view *v, struct run_row *rows, size_t n, double now)
{
	char total[256];
	bool with_total = n > 1 && pview_total_text(rows, n, now, total, sizeof(total));

	if (v->lines_drawn)
		printf("\033[%dA", v->lines_drawn);
	for (size_t i = 0; i < n; i++) {
		char label[256], text[256];

		row_label(&rows[i], label, sizeof(label));
		pview_row_text(&rows[i], now, text, sizeof(text));
		printf("%s: %s\033[K\n", label, text);
	}
	if (with_total)
		printf("%s\033[K\n", total);
	v->lines_drawn = (int) n + (with_total ? 1 : 0);
	v->rows = rows;
	fflush(stdout);
}

/* After a log line: the block goes back under it at once, instead of at the next update. */
void pview_redraw(void)
{
	struct progress_view *v = active_view;

	if (v == NULL || !v->in_place || v->rows == NULL || v->lines_drawn != 0)
		return;
	draw(v, v->rows, v->nrows, now_seconds());
}

void pview_update(struct progress_view *v, struct run_row *rows, size_t n, bool force)
{
	double now = now_seconds();

	if (!v->enabled)
		return;
	if (v->progress_file && (force || now - v->last_file_write >= 1.0)) {
		write_progress_file(v, rows, n, now);
		v->last_file_write = now;
	}
	if (v->in_place) {
		if (!force && now - v->last_draw < 0.5)
			return;
		v->last_draw = now;
		draw(v, rows, n, now);
		return;
	}
	/* Sequential: a log line when a row's step changes, and its figures every 5 seconds. */
	for (size_t i = 0; i < n; i++) {
		char label[256], text[256];
		bool changed;

		pview_row_text(&rows[i], now, text, sizeof(text));
		changed = v->last_logged[i] == NULL ||
			  (strcmp(v->last_logged[i], text) != 0 &&
			   (rows[i].state != RUN_COPYING || strcmp(rows[i].phase, "copy") != 0 ||
			    now - v->last_logged_at[i] >= 5.0));
		if (!changed && !force)
			continue;
		if (v->last_logged[i] && strcmp(v->last_logged[i], text) == 0)
			continue;
		row_label(&rows[i], label, sizeof(label));
		log_info("%s: %s", label, text);
		free(v->last_logged[i]);
		v->last_logged[i] = xstrdup(text);
		v->last_logged_at[i] = now;
	}
	if (n > 1 && now - v->last_total_log >= 5.0) {
		char total[256];

		if (pview_total_text(rows, n, now, total, sizeof(total))) {
			log_info("%s", total);
			v->last_total_log = now;
		}
	}
}

void pview_finish(struct progress_view *v)
{
	if (v->progress_file)
		unlink(v->progress_file);
	if (v->in_place) {
		log_set_console_hook(NULL);
		log_set_console_after_hook(NULL);
	}
	for (size_t i = 0; i < v->nrows; i++)
		free(v->last_logged[i]);
	free(v->last_logged);
	free(v->last_logged_at);
	active_view = NULL;
}
