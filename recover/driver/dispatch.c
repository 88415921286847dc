#include "driver/dispatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog.h"
#include "clock.h"
#include "driver/progressview.h"
#include "fts.h"
#include "inject.h"
#include "log.h"
#include "pgconn.h"
#include "proto/agentproto.h"
#include "registry.h"
#include "runner.h"
#include "strvec.h"
#include "targetguard.h"
#include "units.h"
#include "xalloc.h"

void dispatch_interrupt(void)
{
	runner_stop();
}

void dispatch_init(struct dispatch *d, struct plan *plan)
{
	d->rows = xcalloc(plan->nrows ? plan->nrows : 1, sizeof(struct run_row));
	d->nrows = plan->nrows;
	for (size_t i = 0; i < plan->nrows; i++) {
		struct run_row *r = &d->rows[i];

		r->plan = &plan->rows[i];
		r->state = RUN_PENDING;
	}
	if (d->sync_timeout_s <= 0)
		d->sync_timeout_s = 600;
}

void dispatch_free(struct dispatch *d)
{
	for (size_t i = 0; i < d->nrows; i++)
		strvec_clear(&d->rows[i].argv);
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
	if (strcmp(s, "interrupted") == 0)
		log_error(SEG_FMT ": %s", SEG_ARGS(&r->plan->target), m);
	else
		log_error(SEG_FMT ": %s failed: %s", SEG_ARGS(&r->plan->target), s, m);
}

/* The agent's command line for a row: VERB, the plan, every other instance. */
static void build_argv(struct dispatch *d, struct run_row *r, const char *verb)
{
	const struct plan_row *p = r->plan;
	char *agent = agentproto_agent_path();
	struct strvec *av = &r->argv;

	strvec_clear(av);
	strvec_push(av, agent);
	free(agent);
	strvec_push(av, verb);
	strvec_push(av, "--type");
	strvec_push(av, p->strategy);
	strvec_push(av, "--dbid");
	strvec_pushf(av, "%d", p->target.dbid);
	strvec_push(av, "--content");
	strvec_pushf(av, "%d", p->target.content);
	strvec_push(av, "--target-datadir");
	strvec_push(av, p->target.datadir);
	strvec_push(av, "--target-port");
	strvec_pushf(av, "%d", p->target.port);
	strvec_push(av, "--target-address");
	strvec_push(av, p->target.address);
	strvec_push(av, "--source-dbid");
	strvec_pushf(av, "%d", p->source->dbid);
	strvec_push(av, "--source-host");
	strvec_push(av, p->source->address);
	strvec_push(av, "--source-port");
	strvec_pushf(av, "%d", p->source->port);
	strvec_push(av, "--source-datadir");
	strvec_push(av, p->source->datadir);
	/* The plan only holds instances the catalog marks down (invariant 5's first condition). */
	strvec_push(av, "--force-overwrite");
	/* Every other instance: the agent refuses a target that touches one (invariant 5). */
	for (size_t i = 0; i < d->cat->nsegs; i++) {
		const struct segment *s = &d->cat->segs[i];

		if (s->dbid == p->target.dbid)
			continue;
		strvec_push(av, "--protect");
		strvec_pushf(av, "%d|%s|%s|%d|%s", s->dbid, s->hostname, s->address, s->port,
			     s->datadir);
	}
	if (d->opts->max_rate_kbps > 0 && (p->s->caps & STRATEGY_RATE_LIMITED)) {
		strvec_push(av, "--max-rate");
		strvec_pushf(av, "%ld", d->opts->max_rate_kbps);
	}
	if ((p->s->caps & STRATEGY_COMPRESSES) && strcmp(p->compression, "none") != 0) {
		strvec_push(av, "--compress");
		strvec_push(av, p->compression);
	}
	if (d->opts->logdir) {
		strvec_push(av, "-l");
		strvec_push(av, d->opts->logdir);
	}
	if (d->opts->verbosity == LOG_VERBOSE)
		strvec_push(av, "-v");
	if (strcmp(verb, AGENT_VERB_RECOVER) == 0) {
		/* Greenplum's names: pg_basebackup.<time>.dbid<N>.out and the like, per strategy. */
		const char *tool = p->s == strategy_for_type('F')   ? "pg_basebackup"
				   : p->s == strategy_for_type('I') ? "pg_rewind"
				   : p->s == strategy_for_type('D') ? "rsync"
								    : p->s->name;
		char stamp[32];
		time_t now = time(NULL);
		struct tm tm;

		localtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%d_%H%M%S", &tm);
		strvec_push(av, "--progress-file");
		strvec_pushf(av, "%s.%s.dbid%d.out", tool, stamp, p->target.dbid);
	}
	/* The agent stops its work when this pipe closes: an interrupt reaches remote hosts too. */
	strvec_push(av, "--watch-stdin");
}

static const char *row_host(void *ctx, size_t i)
{
	struct dispatch *d = ctx;

	return host_of(&d->rows[i]);
}

static int row_start(void *ctx, size_t i, struct runner_spawn *sp)
{
	struct dispatch *d = ctx;
	struct run_row *r = &d->rows[i];
	const struct plan_row *p = r->plan;

	build_argv(d, r, AGENT_VERB_RECOVER);
	{
		char *cmd = exec_describe(strvec_argv(&r->argv));

		log_debug("dbid %d: running on %s: %s", p->target.dbid, host_of(r), cmd);
		free(cmd);
	}
	r->t_start = r->t_start > 0 ? r->t_start : now_seconds();
	r->saw_done = false;
	r->needs_full = false;
	r->mirror_stopped = false;
	r->phase[0] = '\0';
	r->done = r->total = r->sent = 0;
	r->state = RUN_COPYING;
	sp->argv = strvec_argv(&r->argv);
	/* The instance is named once: SEG_FMT already starts with its dbid. */
	log_info("%s recovery of " SEG_FMT " from " SEG_FMT " started", p->s->label,
		 SEG_ARGS(&p->target), SEG_ARGS(p->source));
	return 1;
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
		r->sent = al.sent;
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
	case AGENT_STOPPED:
	case AGENT_STARTED:
	case AGENT_HBA:
	case AGENT_ESTIMATE:
	case AGENT_PROGRESS_FILE:
		snprintf(r->progress_path, sizeof(r->progress_path), "%s", al.msg);
		break;
	case AGENT_REMOVED:
		/* replies of the other verbs: not expected from a recovery */
		log_debug("dbid %d: %s", r->plan->target.dbid, line);
		break;
	}
}

static void row_line(void *ctx, size_t i, bool is_stderr, const char *line)
{
	struct dispatch *d = ctx;
	struct run_row *r = &d->rows[i];

	if (is_stderr)
		log_debug("dbid %d (%s): %s", r->plan->target.dbid, host_of(r), line);
	else
		handle_agent_line(r, line);
}

/* The agent ended: the copy is done (wait for sync), falls back to a full copy, or failed. */
static bool row_finished(void *ctx, size_t i, int status, const char *why)
{
	struct dispatch *d = ctx;
	struct run_row *r = &d->rows[i];

	if (status == 0 && r->saw_done) {
		double now = now_seconds();

		r->state = RUN_SYNCING;
		r->sync_deadline = now + d->sync_timeout_s;
		r->next_sync_probe = now;
		r->silent_since = 0;
		log_info("dbid %d: copied and started in %.2f s (%llu bytes copied); waiting for it to "
			 "catch up",
			 r->plan->target.dbid, now - r->t_start, (unsigned long long) r->bytes);
		if (r->plan->estimated) {
			/* The plan's figure against what moved: the DBA sees how far to trust the next one. */
			char moved[32], estimate[32];

			units_format_bytes(r->bytes, moved, sizeof(moved));
			units_format_bytes(r->plan->estimate_bytes, estimate, sizeof(estimate));
			log_info("dbid %d: moved %s; the plan's estimate was %s", r->plan->target.dbid, moved,
				 estimate);
		}
		inject_point("sync-wait");
		return false;
	}
	if (runner_stopped() && d->user_interrupted) {
		/* Whatever the agent said on its way out, the cause is the user's stop. */
		snprintf(r->error, sizeof(r->error),
			 "process was interrupted by the user: gprecoverseg stopped gpsegrecovery on %s "
			 "during its %s phase",
			 host_of(r), r->phase[0] ? r->phase : "first");
		snprintf(r->step, sizeof(r->step), "interrupted");
	} else if (r->error[0] == '\0' && runner_stopped()) {
		/* Our own SIGTERM ended it (through ssh: status 255), not a failure of its own. */
		snprintf(r->error, sizeof(r->error),
			 "interrupted: gprecoverseg stopped gpsegrecovery on %s during its %s phase",
			 host_of(r), r->phase[0] ? r->phase : "first");
		snprintf(r->step, sizeof(r->step), "interrupted");
	} else if (r->error[0] == '\0' && why != NULL)
		snprintf(r->error, sizeof(r->error), "cannot run gpsegrecovery on %s: %s", host_of(r),
			 why);
	else if (r->error[0] == '\0')
		snprintf(r->error, sizeof(r->error),
			 "gpsegrecovery on %s exited with status %d without reporting an error; see "
			 "its log in ~/gpAdminLogs on that host",
			 host_of(r), status);
	if (d->opts->fallback && (r->plan->s->caps & STRATEGY_FALLS_BACK) && !r->fell_back &&
	    !runner_stopped()) {
		/*
		 * --fallback: the in-place attempt failed. A differential copy repairs any state of
		 * the target, as a full copy does, and moves only what differs.
		 */
		log_warning("dbid %d: %s recovery failed at %s (%s); falling back to differential "
			    "recovery (--fallback)",
			    r->plan->target.dbid, r->plan->s->name, r->step[0] ? r->step : "?", r->error);
		snprintf(r->first_strategy, sizeof(r->first_strategy), "%s", r->plan->strategy);
		r->plan->s = strategy_for_type('D');
		snprintf(r->plan->strategy, sizeof(r->plan->strategy), "%s", r->plan->s->name);
		r->fell_back = true;
		r->state = RUN_PENDING;
		r->step[0] = r->error[0] = '\0';
		return true;
	}
	fail_row(r, r->step[0] ? r->step : "recovery", r->error);
	return false;
}

/*
 * Has the started mirror stopped? The agent reported it running and consistent: nothing
 * answering on its port at two probes at least a second apart means no postmaster listens
 * there any more, and waiting out the sync timeout would wait for nothing. A refusal (a
 * server restarting after a crash, or shutting down) is an answer.
 */
static bool mirror_stopped(struct run_row *r, double now)
{
	struct pgconn_params params = { .host = r->plan->target.address,
					 .port = r->plan->target.port, .connect_timeout = 2 };

	if (pg_ping(&params) != PQPING_NO_RESPONSE) {
		r->silent_since = 0;
		return false;
	}
	if (r->silent_since == 0) {
		r->silent_since = now;
		return false;
	}
	r->mirror_stopped = now - r->silent_since >= 1.0;
	return r->mirror_stopped;
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
	if (mirror_stopped(r, now))
		fail_row(r, "sync",
			 "the mirror was copied and started, then stopped before it caught up: nothing "
			 "answers on its port any more");
	else if (now > r->sync_deadline)
		fail_row(r, "sync",
			 "the mirror was started but was not seen streaming and caught up within the "
			 "sync timeout; it may still catch up: check gpstate -e, then run gpfts --once");
}

/* Between polls: the interrupt, the rows waiting for sync, the view. */
static bool dispatch_idle(void *ctx)
{
	struct dispatch *d = ctx;
	bool syncing = false;

	if (!runner_stopped() && d->user_wants_stop && d->user_wants_stop()) {
		d->user_interrupted = true;
		runner_stop();
	}
	if (runner_stopped() && !d->stop_seen) {
		d->stop_seen = true;
		log_warning(d->user_interrupted ? "process was interrupted by the user: stopping the "
						  "running recoveries"
						: "interrupted: stopping the running recoveries");
		for (size_t i = 0; i < d->nrows; i++) {
			struct run_row *r = &d->rows[i];

			if (r->state == RUN_PENDING)
				fail_row(r, "interrupted",
					 d->user_interrupted
						 ? "process was interrupted by the user before this "
						   "segment's recovery started"
						 : "gprecoverseg was interrupted before this segment's "
						   "recovery started");
			else if (r->state == RUN_SYNCING)
				fail_row(r, "interrupted",
					 "gprecoverseg was interrupted while waiting for the mirror to be "
					 "in sync; gpfts --once will record it once it is");
		}
	}
	for (size_t i = 0; i < d->nrows; i++) {
		struct run_row *r = &d->rows[i];

		if (r->state == RUN_SYNCING && now_seconds() >= r->next_sync_probe)
			probe_sync(d, r);
		syncing = syncing || r->state == RUN_SYNCING;
	}
	pview_update(d->view, d->rows, d->nrows, false);
	return syncing;
}

size_t dispatch_run(struct dispatch *d)
{
	static const struct runner_ops ops = {
		.host = row_host,
		.start = row_start,
		.line = row_line,
		.finished = row_finished,
		.idle = dispatch_idle,
	};
	struct progress_view view;
	struct runner runner = {
		.ntasks = d->nrows,
		.max_parallel = d->opts->parallel,
		.max_per_host = d->opts->per_host,
		.watch_pipe = true,
	};
	size_t not_done = 0;

	pview_init(&view, d->nrows, d->opts->progress, d->opts->sequential_progress,
		   d->progress_file);
	d->view = &view;
	runner_run(&runner, &ops, d);
	pview_update(&view, d->rows, d->nrows, true);
	pview_finish(&view);
	d->view = NULL;
	for (size_t i = 0; i < d->nrows; i++)
		if (d->rows[i].state != RUN_DONE)
			not_done++;
	return not_done;
}

/* ------------------------------------------------------------------------------------------ */
/* Estimates, before the plan is shown */

static int estimate_start(void *ctx, size_t i, struct runner_spawn *sp)
{
	struct dispatch *d = ctx;
	struct run_row *r = &d->rows[i];

	/* A strategy that cannot know before it acts is not asked. */
	if (r->plan->s->estimate == NULL)
		return -1;
	if ((r->plan->s->caps & STRATEGY_ESTIMATE_READS) && d->opts->no_prompt) {
		r->plan->estimate_skipped = true;
		return -1;
	}
	build_argv(d, r, AGENT_VERB_ESTIMATE);
	sp->argv = strvec_argv(&r->argv);
	return 1;
}

static void estimate_line(void *ctx, size_t i, bool is_stderr, const char *line)
{
	struct dispatch *d = ctx;
	struct plan_row *p = d->rows[i].plan;
	struct agent_line al;

	if (is_stderr || agentproto_parse(line, &al) != 0) {
		log_debug("dbid %d (%s): %s", p->target.dbid, host_of(&d->rows[i]), line);
		return;
	}
	if (al.kind == AGENT_ESTIMATE) {
		p->estimated = true;
		p->estimate_bytes = al.done;
		p->estimate_replay = al.total;
		snprintf(p->estimate_method, sizeof(p->estimate_method), "%.111s", al.msg);
	} else if (al.kind == AGENT_ERROR) {
		log_warning("dbid %d: no estimate of the bytes to move: %s", p->target.dbid, al.msg);
	}
}

static bool estimate_finished(void *ctx, size_t i, int status, const char *why)
{
	struct dispatch *d = ctx;

	if (status != 0 && why != NULL)
		log_warning("dbid %d: no estimate of the bytes to move: %s",
			    d->rows[i].plan->target.dbid, why);
	strvec_clear(&d->rows[i].argv);
	return false;
}

void dispatch_estimate(struct dispatch *d)
{
	static const struct runner_ops ops = {
		.host = row_host,
		.start = estimate_start,
		.line = estimate_line,
		.finished = estimate_finished,
	};
	struct runner runner = {
		.ntasks = d->nrows,
		.max_parallel = d->opts->parallel,
		.max_per_host = d->opts->per_host,
		.watch_pipe = true,
	};

	runner_run(&runner, &ops, d);
}
