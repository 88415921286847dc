#include "driver/dispatch.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "clock.h"
#include "driver/progressview.h"
#include "fts.h"
#include "log.h"
#include "proto/agentproto.h"
#include "registry.h"
#include "targetguard.h"
#include "xalloc.h"

static volatile sig_atomic_t interrupted;

void dispatch_interrupt(void)
{
	interrupted = 1;
}

void dispatch_init(struct dispatch *d, struct plan *plan)
{
	d->rows = xcalloc(plan->nrows ? plan->nrows : 1, sizeof(struct run_row));
	d->nrows = plan->nrows;
	for (size_t i = 0; i < plan->nrows; i++) {
		struct run_row *r = &d->rows[i];

		r->plan = &plan->rows[i];
		r->state = RUN_PENDING;
		r->child.pid = -1;
		r->child.out_fd = r->child.err_fd = -1;
		strbuf_init(&r->out, 0);
		strbuf_init(&r->errout, 0);
	}
	if (d->sync_timeout_s <= 0)
		d->sync_timeout_s = 600;
}

void dispatch_free(struct dispatch *d)
{
	for (size_t i = 0; i < d->nrows; i++) {
		strbuf_release(&d->rows[i].out);
		strbuf_release(&d->rows[i].errout);
	}
	free(d->rows);
	d->rows = NULL;
}

static const char *host_of(const struct run_row *r)
{
	return r->plan->target.hostname;
}

static void fail_row(struct run_row *r, const char *step, const char *msg)
{
	/* step and msg may point into r itself: copy before writing */
	char s[sizeof(r->step)], m[sizeof(r->error)];

	snprintf(s, sizeof(s), "%s", step);
	snprintf(m, sizeof(m), "%s", msg);
	r->state = RUN_FAILED;
	r->t_end = now_seconds();
	memcpy(r->step, s, sizeof(s));
	memcpy(r->error, m, sizeof(m));
	log_error(SEG_FMT ": %s failed: %s", SEG_ARGS(&r->plan->target), s, m);
}

static int start_row(struct dispatch *d, struct run_row *r)
{
	const struct plan_row *p = r->plan;
	char dbid[16], content[16], tport[16], sdbid[16], sport[16], rate[24];
	char *agent = agentproto_agent_path();
	const char **argv = xcalloc(40 + 2 * d->cat->nsegs, sizeof(*argv));
	char **specs = xcalloc(d->cat->nsegs + 1, sizeof(*specs));
	size_t n = 0, nspecs = 0;
	int rc = 0;
	struct exec_options eo = { .host = host_of(r), .capture_stdout = true, .capture_stderr = true,
				   .new_session = true };
	struct errbuf err;

	snprintf(dbid, sizeof(dbid), "%d", p->target.dbid);
	snprintf(content, sizeof(content), "%d", p->target.content);
	snprintf(tport, sizeof(tport), "%d", p->target.port);
	snprintf(sdbid, sizeof(sdbid), "%d", p->source->dbid);
	snprintf(sport, sizeof(sport), "%d", p->source->port);
	argv[n++] = agent;
	argv[n++] = "--type";
	argv[n++] = p->strategy;
	argv[n++] = "--dbid";
	argv[n++] = dbid;
	argv[n++] = "--content";
	argv[n++] = content;
	argv[n++] = "--target-datadir";
	argv[n++] = p->target.datadir;
	argv[n++] = "--target-port";
	argv[n++] = tport;
	argv[n++] = "--target-address";
	argv[n++] = p->target.address;
	argv[n++] = "--source-dbid";
	argv[n++] = sdbid;
	argv[n++] = "--source-host";
	argv[n++] = p->source->address;
	argv[n++] = "--source-port";
	argv[n++] = sport;
	argv[n++] = "--source-datadir";
	argv[n++] = p->source->datadir;
	/* The plan only holds instances the catalog marks down (invariant 5's first condition). */
	argv[n++] = "--force-overwrite";
	/* Every other instance: the agent refuses a target that touches one (invariant 5). */
	for (size_t i = 0; i < d->cat->nsegs; i++) {
		const struct segment *s = &d->cat->segs[i];

		if (s->dbid == p->target.dbid)
			continue;
		specs[nspecs] = guard_format_spec(s->dbid, s->hostname, s->address, s->port, s->datadir);
		argv[n++] = "--protect";
		argv[n++] = specs[nspecs++];
	}
	if (d->opts->max_rate_kbps > 0 && (p->s->caps & STRATEGY_RATE_LIMITED)) {
		snprintf(rate, sizeof(rate), "%ld", d->opts->max_rate_kbps);
		argv[n++] = "--max-rate";
		argv[n++] = rate;
	}
	if (d->opts->logdir) {
		argv[n++] = "-l";
		argv[n++] = d->opts->logdir;
	}
	if (d->opts->verbosity == LOG_VERBOSE)
		argv[n++] = "-v";
	argv[n] = NULL;

	{
		char *cmd = exec_describe(argv);

		log_debug("dbid %d: running on %s: %s", p->target.dbid, host_of(r), cmd);
		free(cmd);
	}
	r->t_start = r->t_start > 0 ? r->t_start : now_seconds();
	r->saw_done = false;
	r->needs_full = false;
	r->phase[0] = '\0';
	r->done = r->total = 0;
	strbuf_reset(&r->out);
	strbuf_reset(&r->errout);
	if (exec_spawn(&eo, argv, &r->child, &err) != 0) {
		fail_row(r, "start", err.msg);
		rc = -1;
	} else {
		r->state = RUN_COPYING;
		log_info("dbid %d: %s recovery of " SEG_FMT " from " SEG_FMT " started", p->target.dbid,
			 p->s->label, SEG_ARGS(&p->target), SEG_ARGS(p->source));
	}
	for (size_t i = 0; i < nspecs; i++)
		free(specs[i]);
	free(specs);
	free(argv);
	free(agent);
	return rc;
}

static void handle_agent_line(struct run_row *r, const char *line)
{
	struct agent_line al;

	if (agentproto_parse(line, &al) != 0) {
		log_debug("dbid %d: %s", r->plan->target.dbid, line);
		return;
	}
	switch (al.kind) {
	case AGENT_PHASE:
		snprintf(r->phase, sizeof(r->phase), "%s", al.name);
		if (strcmp(al.name, "copy") == 0)
			r->t_copy_start = now_seconds();
		break;
	case AGENT_PROGRESS:
		if (strcmp(r->phase, "copy") != 0) {
			snprintf(r->phase, sizeof(r->phase), "copy");
			r->t_copy_start = now_seconds();
		}
		r->done = al.done;
		r->total = al.total;
		break;
	case AGENT_DONE:
		r->saw_done = true;
		r->bytes = al.done;
		break;
	case AGENT_ERROR:
		snprintf(r->step, sizeof(r->step), "%s", al.name);
		snprintf(r->error, sizeof(r->error), "%s", al.msg);
		r->needs_full = strcmp(al.remedy, "rebuild") == 0;
		break;
	case AGENT_NOTE:
	{
		/* Name the instance unless the strategy's message already does. */
		enum log_level level = strcmp(al.name, "warning") == 0 ? LOG_WARNING : LOG_INFO;

		if (strncmp(al.msg, "dbid ", 5) == 0)
			log_msg(level, "%s", al.msg);
		else
			log_msg(level, "dbid %d: %s", al.dbid, al.msg);
		break;
	}
	}
}

/* Split complete lines out of BUF; the rest stays for the next read. */
static void drain_lines(struct run_row *r, struct strbuf *buf, bool is_stdout)
{
	size_t start = 0;

	for (size_t i = 0; i < buf->len; i++) {
		if (buf->buf[i] != '\n')
			continue;
		buf->buf[i] = '\0';
		if (is_stdout)
			handle_agent_line(r, buf->buf + start);
		else
			log_debug("dbid %d (%s): %s", r->plan->target.dbid, host_of(r), buf->buf + start);
		start = i + 1;
	}
	if (start > 0) {
		memmove(buf->buf, buf->buf + start, buf->len - start);
		buf->len -= start;
		buf->buf[buf->len] = '\0';
	}
}

static bool read_fd(struct run_row *r, int *fd, struct strbuf *buf, bool is_stdout)
{
	char chunk[8192];
	ssize_t n = read(*fd, chunk, sizeof(chunk));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0) {
		if (buf->len > 0) {
			strbuf_addch(buf, '\n');
			drain_lines(r, buf, is_stdout);
		}
		close(*fd);
		*fd = -1;
		return false;
	}
	strbuf_add(buf, chunk, (size_t) n);
	drain_lines(r, buf, is_stdout);
	return true;
}

static void finish_child(struct dispatch *d, struct run_row *r)
{
	struct errbuf err;
	int status = -1;

	if (exec_wait(&r->child, &status, &err) != 0)
		status = -1;
	if (status == 0 && r->saw_done) {
		double now = now_seconds();

		r->state = RUN_SYNCING;
		r->sync_deadline = now + d->sync_timeout_s;
		r->next_sync_probe = now;
		log_info("dbid %d: copied and started in %.2f s (%llu bytes copied); waiting for it to "
			 "catch up",
			 r->plan->target.dbid, now - r->t_start, (unsigned long long) r->bytes);
		return;
	}
	if (r->error[0] == '\0') {
		char msg[256];

		snprintf(msg, sizeof(msg), "gpsegrecovery on %s exited with status %d without reporting "
					   "an error; see its log in ~/gpAdminLogs on that host",
			 host_of(r), status);
		snprintf(r->error, sizeof(r->error), "%s", msg);
	}
	if (d->opts->fallback && (r->plan->s->caps & STRATEGY_FALLS_BACK) && !r->fell_back &&
	    !interrupted) {
		/* --fallback: the in-place attempt failed; a full copy needs nothing of the target. */
		log_warning("dbid %d: %s recovery failed at %s (%s); falling back to full "
			    "recovery (--fallback)",
			    r->plan->target.dbid, r->plan->s->name, r->step[0] ? r->step : "?", r->error);
		snprintf(r->first_strategy, sizeof(r->first_strategy), "%s", r->plan->strategy);
		r->plan->s = strategy_for_type('F');
		snprintf(r->plan->strategy, sizeof(r->plan->strategy), "%s", r->plan->s->name);
		r->fell_back = true;
		r->state = RUN_PENDING;
		r->step[0] = r->error[0] = '\0';
		return;
	}
	fail_row(r, r->step[0] ? r->step : "recovery", r->error);
}

/* One probe of a copied row's content: marks it in sync when it is, through the probe logic. */
static void probe_sync(struct dispatch *d, struct run_row *r)
{
	struct fts_options fo = { .connect_timeout = 5, .retries = 1, .retry_delay_ms = 0, .sync_timeout = 30 };
	struct fts_relocation rel = {
		.dbid = r->plan->target.dbid,
		.hostname = r->plan->target.hostname,
		.address = r->plan->target.address,
		.port = r->plan->target.port,
		.datadir = r->plan->target.datadir,
	};
	struct catalog cat;
	struct errbuf err;
	enum fts_verdict v;
	double now = now_seconds();

	r->next_sync_probe = now + 0.5;
	errbuf_clear(&err);
	if (catalog_load(d->coordinator, &cat, &err) != 0) {
		log_warning("dbid %d: %s", r->plan->target.dbid, err.msg);
		return;
	}
	v = fts_probe_content(d->coordinator, &cat, r->plan->target.content, &fo,
			      r->plan->relocated ? &rel : NULL, &err);
	catalog_free(&cat);
	if (v == FTS_PAIR_IN_SYNC) {
		r->state = RUN_DONE;
		r->t_end = now_seconds();
		return;
	}
	if (v == FTS_PAIR_ERROR || v == FTS_PAIR_DOUBLE_FAULT)
		log_debug("dbid %d: not in sync yet: %s", r->plan->target.dbid, err.msg);
	if (now > r->sync_deadline)
		fail_row(r, "sync",
			 "the mirror was started but was not seen streaming and caught up within the "
			 "sync timeout; it may still catch up: check gpstate -e, then run gpfts --once");
}

static bool can_start(struct dispatch *d, const struct run_row *r, int running)
{
	int on_host = 0;

	if (running >= d->opts->parallel)
		return false;
	for (size_t i = 0; i < d->nrows; i++)
		if (d->rows[i].state == RUN_COPYING && strcmp(host_of(&d->rows[i]), host_of(r)) == 0)
			on_host++;
	return on_host < d->opts->per_host;
}

size_t dispatch_run(struct dispatch *d)
{
	struct progress_view view;
	bool sent_stop = false;
	size_t not_done = 0;

	pview_init(&view, d->nrows, d->opts->progress, d->opts->sequential_progress,
		   d->progress_file);
	for (;;) {
		struct pollfd fds[2 * 128 + 1];
		struct run_row *owner[2 * 128 + 1];
		size_t nfds = 0;
		int running = 0, active = 0;

		for (size_t i = 0; i < d->nrows; i++) {
			if (d->rows[i].state == RUN_COPYING)
				running++;
			if (d->rows[i].state != RUN_DONE && d->rows[i].state != RUN_FAILED)
				active++;
		}
		if (active == 0)
			break;
		if (interrupted && !sent_stop) {
			/* Each gpsegrecovery leads its own session: stop the whole group. */
			for (size_t i = 0; i < d->nrows; i++) {
				if (d->rows[i].state == RUN_COPYING && d->rows[i].child.pid > 0)
					kill(-d->rows[i].child.pid, SIGTERM);
				if (d->rows[i].state == RUN_PENDING || d->rows[i].state == RUN_SYNCING)
					fail_row(&d->rows[i], "interrupted",
						 d->rows[i].state == RUN_PENDING
							 ? "gprecoverseg was interrupted before this "
							   "segment's recovery started"
							 : "gprecoverseg was interrupted while waiting "
							   "for the mirror to be in sync; gpfts --once "
							   "will record it once it is");
			}
			sent_stop = true;
			log_warning("interrupted: stopping the running recoveries");
		}
		for (size_t i = 0; i < d->nrows && !interrupted; i++)
			if (d->rows[i].state == RUN_PENDING && can_start(d, &d->rows[i], running))
				if (start_row(d, &d->rows[i]) == 0)
					running++;
		for (size_t i = 0; i < d->nrows && nfds + 2 < sizeof(fds) / sizeof(fds[0]); i++) {
			struct run_row *r = &d->rows[i];

			if (r->state != RUN_COPYING)
				continue;
			if (r->child.out_fd >= 0) {
				fds[nfds] = (struct pollfd){ .fd = r->child.out_fd, .events = POLLIN };
				owner[nfds++] = r;
			}
			if (r->child.err_fd >= 0) {
				fds[nfds] = (struct pollfd){ .fd = r->child.err_fd, .events = POLLIN };
				owner[nfds++] = r;
			}
		}
		if (nfds > 0 && poll(fds, nfds, 200) < 0 && errno != EINTR)
			break;
		if (nfds == 0)
			usleep(200 * 1000);
		for (size_t k = 0; k < nfds; k++) {
			struct run_row *r = owner[k];

			if (!(fds[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (fds[k].fd == r->child.out_fd)
				read_fd(r, &r->child.out_fd, &r->out, true);
			else if (fds[k].fd == r->child.err_fd)
				read_fd(r, &r->child.err_fd, &r->errout, false);
		}
		for (size_t i = 0; i < d->nrows; i++) {
			struct run_row *r = &d->rows[i];

			if (r->state == RUN_COPYING && r->child.out_fd < 0 && r->child.err_fd < 0)
				finish_child(d, r);
			if (r->state == RUN_SYNCING && now_seconds() >= r->next_sync_probe)
				probe_sync(d, r);
		}
		pview_update(&view, d->rows, d->nrows, false);
	}
	pview_update(&view, d->rows, d->nrows, true);
	pview_finish(&view);
	for (size_t i = 0; i < d->nrows; i++)
		if (d->rows[i].state != RUN_DONE)
			not_done++;
	return not_done;
}
