#include "gpsegrecovery/recover.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "agent/target.h"
#include "base/sourcecheck.h"
#include "cli.h"
#include "clock.h"
#include "exec.h"
#include "gpsegrecovery/report.h"
#include "inject.h"
#include "log.h"
#include "proto/agentproto.h"
#include "registry.h"
#include "segment.h"
#include "strvec.h"
#include "targetguard.h"
#include "targetmark.h"

struct host_state {
	const char *strategy;      /* its name, for the in-progress marker */
	FILE *progress;            /* the per-segment progress file (--progress-file), or NULL */
	char progress_path[4096];
	double last_progress;
	uint64_t done, total;      /* the latest figures reported by the strategy */
	bool unreported;           /* figures newer than the last line printed */
};

/* The dbid this agent recovers: strategy log calls carry no recovery, and there is one per run. */
static int agent_dbid;

/* Strategy messages go to the agent's log, and the INFO and WARNING ones also to gprecoverseg,
 * which shows them to the DBA: "diverged at ...", "crash recovery first" matter during an outage. */
static void host_log(int level, const char *fmt, va_list ap)
{
	va_list copy;
	char msg[1024];

	va_copy(copy, ap);
	log_vmsg((enum log_level) level, fmt, ap);
	if (level == LOG_INFO || level == LOG_WARNING) {
		vsnprintf(msg, sizeof(msg), fmt, copy);
		agentproto_note(stdout, agent_dbid, level == LOG_INFO ? "info" : "warning", msg);
	}
	va_end(copy);
}

/* One line as pg_basebackup --progress writes it: "done/total kB (p%)". */
static void progress_file_line(struct host_state *hs, const struct recovery *r, uint64_t done,
			       uint64_t total)
{
	if (hs->progress == NULL)
		return;
	fprintf(hs->progress, "%llu/%llu kB (%d%%)", (unsigned long long) (done / 1024),
		(unsigned long long) (total / 1024),
		total > 0 ? (int) (100.0 * (double) done / (double) total) : 0);
	if (r->bytes_copied != done)
		fprintf(hs->progress, ", %llu kB sent", (unsigned long long) (r->bytes_copied / 1024));
	fputc('\n', hs->progress);
	fflush(hs->progress);
}

static void host_progress(struct recovery *r, uint64_t done, uint64_t total)
{
	struct host_state *hs = r->host_data;
	double t = now_seconds();

	hs->done = done;
	hs->total = total;
	hs->unreported = true;
	/* Twice a second is enough for a display; the last figures are printed when run() ends. */
	if (t - hs->last_progress < 0.5)
		return;
	hs->last_progress = t;
	hs->unreported = false;
	progress_file_line(hs, r, done, total);
	/* A strategy that moves less than it reads keeps bytes_copied current: shown beside. */
	agentproto_progress(stdout, r->dbid, done, total, r->bytes_copied != done ? r->bytes_copied : 0);
}

static void host_progress_flush(struct recovery *r)
{
	struct host_state *hs = r->host_data;

	if (hs->unreported) {
		agentproto_progress(stdout, r->dbid, hs->done, hs->total,
				    r->bytes_copied != hs->done ? r->bytes_copied : 0);
		progress_file_line(hs, r, hs->done, hs->total);
	}
	hs->unreported = false;
}

static void flush_progress_cb(void *arg)
{
	host_progress_flush(arg);
}

static void host_phase(struct recovery *r, const char *name)
{
	struct host_state *hs = r->host_data;

	agentproto_phase(stdout, r->dbid, name);
	log_info("dbid %d: %s", r->dbid, name);
	if (hs->progress) {
		fprintf(hs->progress, "%s\n", name);
		fflush(hs->progress);
	}
}

/*
 * Greenplum keeps a progress file per segment (pg_basebackup.<time>.dbid<N>.out) in the log
 * directory of the segment's host: the driver names it, we keep it there and say where.
 */
static void progress_file_open(struct host_state *hs, const struct agent_args *a)
{
	const char *log = log_file_path();
	const char *slash = log ? strrchr(log, '/') : NULL;

	if (a->progress_file == NULL || slash == NULL)
		return;
	snprintf(hs->progress_path, sizeof(hs->progress_path), "%.*s/%s", (int) (slash - log), log,
		 a->progress_file);
	hs->progress = fopen(hs->progress_path, "w");
	if (hs->progress == NULL) {
		log_warning("cannot write the progress file %s: %s", hs->progress_path,
			    strerror(errno));
		return;
	}
	agentproto_progress_file(stdout, (int) a->dbid, hs->progress_path);
}

/* On success the progress file goes (Greenplum 7 removes those of the segments it recovered). */
static void progress_file_close(struct host_state *hs, bool keep)
{
	if (hs->progress == NULL)
		return;
	fclose(hs->progress);
	hs->progress = NULL;
	if (!keep)
		unlink(hs->progress_path);
}

static int host_begin_changes(struct recovery *r, struct errbuf *err)
{
	const struct host_state *hs = r->host_data;

	return target_begin_changes(r->target_datadir, hs->strategy, err);
}

/* The strategy's helper on the source's host: this agent's own binary, verb helper. */
static int host_start_helper(struct recovery *r, const char *const *args, struct strategy_helper *h,
			     struct errbuf *err)
{
	const struct host_state *hs = r->host_data;
	struct exec_options eo = { .host = r->source_host, .pipe_stdin = true,
				   .capture_stdout = true };
	struct strvec av = STRVEC_INIT;
	struct child c;
	char *agent = agentproto_agent_path();
	int rc;

	strvec_push(&av, agent);
	free(agent);
	strvec_push(&av, AGENT_VERB_HELPER);
	strvec_push(&av, "--type");
	strvec_push(&av, hs->strategy);
	strvec_push(&av, "--source-datadir");
	strvec_push(&av, r->source_datadir);
	for (size_t i = 0; args && args[i]; i++) {
		strvec_push(&av, "--helper-arg");
		strvec_push(&av, args[i]);
	}
	rc = exec_spawn(&eo, strvec_argv(&av), &c, err);
	strvec_clear(&av);
	if (rc != 0)
		return errbuf_prefix(err, "cannot start the %s helper next to source dbid %d (%s:%d)",
				     hs->strategy, r->source_dbid, r->source_host, r->source_port);
	h->pid = c.pid;
	h->to_fd = c.in_fd;
	h->from_fd = c.out_fd;
	return 0;
}

static int host_finish_helper(struct strategy_helper *h, struct errbuf *err)
{
	struct child c = { .pid = h->pid, .in_fd = h->to_fd, .out_fd = h->from_fd, .err_fd = -1 };
	int status = -1;

	h->to_fd = h->from_fd = -1;
	if (exec_wait(&c, &status, err) != 0)
		return -1;
	return status;
}

static const struct strategy_host host = {
	.log = host_log,
	.progress = host_progress,
	.phase = host_phase,
	.find = strategy_find,
	.begin_changes = host_begin_changes,
	.start_helper = host_start_helper,
	.finish_helper = host_finish_helper,
};

/* A line for the DBA while the started server replays: the agent's log and gprecoverseg's. */
static void replay_note(void *ctx, const char *msg)
{
	const struct recovery *r = ctx;

	log_info("dbid %d: %s", r->dbid, msg);
	agentproto_note(stdout, r->dbid, "info", msg);
}

/*
 * The last steps: the started server streams from its primary, then replays until it is
 * consistent, each within --start-timeout; the marker goes only then. A server that dies in
 * either is reported at once with its log, not at the driver's sync timeout; and a run that
 * finds it still running (the marker says starting) waits again instead of copying again.
 */
static int wait_until_consistent(struct recovery *r, struct target *t, const struct agent_args *a,
				const char **step, struct errbuf *err)
{
	int rc;

	*step = "start";
	host_phase(r, "streaming");
	if (target_wait_streaming(t, r->source_host, r->source_port, (int) a->start_timeout, err) != 0)
		return -1;
	*step = "replay";
	host_phase(r, "replay");
	rc = target_wait_consistent(t, r->source_host, r->source_port, (int) a->start_timeout,
				    replay_note, r, err);
	if (rc < 0)
		return -1;
	/*
	 * hot_standby = off: the server refuses every connection while it is a standby, so its
	 * consistency cannot be seen. A segment's mirror is recorded in sync only by the probe,
	 * which asks the mirror itself whether it streams (fts.c): it could never be recorded, and
	 * skipping the wait would only move the failure to the driver's sync timeout, ten minutes
	 * on. So a segment fails now, with its server left running and the marker in place: once
	 * the setting is on and the server restarted, the same command waits for it
	 * (PREFLIGHT_RESUME). The coordinator's standby is judged by the coordinator's walsender
	 * alone (gpinitstandby), so there the wait is skipped with a note.
	 */
	if (rc == TARGET_NOT_HOT_STANDBY && r->content == COORDINATOR_CONTENT) {
		char note[1024];

		snprintf(note, sizeof(note), "hot_standby is off in the configuration of \"%s\": it "
					     "refuses connections even once consistent, so the end of "
					     "its replay is not waited for",
			 t->datadir);
		log_info("dbid %d: %s", r->dbid, note);
		agentproto_note(stdout, r->dbid, "info", note);
	} else if (rc == TARGET_NOT_HOT_STANDBY) {
		return errbuf_set(err, "hot_standby is off in the configuration of \"%s\": the server "
				       "refuses every connection while it is a standby, and a mirror is "
				       "recorded in sync only once it answers the fault probe. Set "
				       "hot_standby = on in its postgresql.conf or postgresql.auto.conf "
				       "(and on the source, dbid %d, whose configuration a copy brings "
				       "along), restart it (pg_ctl restart -D %s -m fast), then run the "
				       "same gprecoverseg again: it waits for that server instead of "
				       "copying again",
				  t->datadir, r->source_dbid, t->datadir);
	}
	return targetmark_remove(t->datadir, err);
}

enum { PREFLIGHT_RESUME = 1 };

/*
 * Everything before the first change: the guard on the target and on the directories its
 * tablespace links point to, the port, the lock, a stale pid file, the strategy's own check.
 * Returns 0 (the lock is held), -1 (nothing was changed), or PREFLIGHT_RESUME when the
 * server an earlier run of ours copied and started runs in the target.
 */
static int preflight(struct agent_args *a, struct recovery *r, struct target *t, const struct strategy *s,
		     struct errbuf *err)
{
	struct target_mark mark;
	pid_t pid = 0;

	if ((s->caps & STRATEGY_EMPTY_TARGET) && !a->force_overwrite)
		return errbuf_set(err, "this strategy replaces the whole directory: pass "
				       "--force-overwrite once the catalog marks the instance down "
				       "(gprecoverseg does)");
	if (a->source_datadir && host_is_local(a->source_host) &&
	    strcmp(a->source_datadir, a->target_datadir) == 0)
		return errbuf_set(err, "the target is the source's own data directory");
	switch (guard_check(&a->guard, t->datadir, &pid, err)) {
	case GUARD_OK:
		break;
	case GUARD_TARGET_RUNNING:
		targetmark_read(t->datadir, &mark);
		if (mark.state == TARGET_MARK_STARTING)
			return PREFLIGHT_RESUME;
		return errbuf_set(err, "a postmaster (PID %d) runs in \"%s\" although the catalog "
				       "marks dbid %d down; a running server is never stopped nor "
				       "overwritten. If it is a healthy mirror, run 'gpfts --once' to "
				       "record it; otherwise stop it (pg_ctl stop -D %s -m fast) and run "
				       "the recovery again",
				  (int) pid, t->datadir, r->dbid, t->datadir);
	default:
		return -1;
	}
	if (guard_check_tablespaces(&a->guard, t->datadir, err) != 0)
		return -1;
	if (target_check_port_free(t, err) != 0 || target_prepare(t, err) != 0)
		return -1;
	if (target_clear_stale_pidfile(t, err) != 0 || source_preflight(r, err) != 0 ||
	    s->check(r, err) != 0) {
		target_release(t);
		return -1;
	}
	return 0;
}

/* The recovery a strategy sees, from the command line. */
static void fill_recovery(struct recovery *r, const struct agent_args *a, struct host_state *hs)
{
	char tag[16];

	memset(r, 0, sizeof(*r));
	r->dbid = (int) a->dbid;
	agent_dbid = r->dbid;
	snprintf(tag, sizeof(tag), "%d", r->dbid);
	inject_set_tag(tag);
	r->content = (int) a->content;
	r->target_datadir = a->target_datadir;
	r->target_port = (int) a->target_port;
	r->source_dbid = (int) a->source_dbid;
	r->source_host = a->source_host;
	r->source_port = (int) a->source_port;
	r->source_datadir = a->source_datadir ? a->source_datadir : "";
	r->max_rate_kbps = a->max_rate;
	r->compression = a->compression;
	r->host = &host;
	r->host_data = hs;
}

int agent_helper(struct agent_args *a)
{
	const struct strategy *s;
	struct errbuf err;

	errbuf_clear(&err);
	strategy_registry_set_host(&host);
	s = strategy_find(a->type, &err);
	if (s != NULL && s->helper == NULL)
		errbuf_set(&err, "the %s strategy has no helper", s->name);
	/* Standard output is the strategy's own stream: errors go to the log and stderr only. */
	if (s == NULL || s->helper == NULL ||
	    s->helper(a->source_datadir, a->helper_args, STDIN_FILENO, STDOUT_FILENO, &err) != 0) {
		log_error("the %s helper next to \"%s\" failed: %s", a->type, a->source_datadir,
			  err.msg);
		return EXIT_FAILED;
	}
	return EXIT_OK;
}

int agent_estimate(struct agent_args *a)
{
	struct host_state hs = { 0 };
	struct strategy_estimate e = { 0 };
	struct recovery r;
	const struct strategy *s;
	struct errbuf err;

	errbuf_clear(&err);
	strategy_registry_set_host(&host);
	s = strategy_find(a->type, &err);
	if (s == NULL)
		return report_failure("estimate", STRATEGY_REMEDY_RETRY, err.msg);
	hs.strategy = s->name;
	fill_recovery(&r, a, &hs);
	if (s->estimate == NULL)
		return EXIT_OK; /* it learns what to move only as it goes */
	if (s->estimate(&r, &e, &err) != 0)
		return report_failure("estimate", r.remedy, err.msg);
	if (e.unknown) {
		log_info("dbid %d: no estimate: %s", r.dbid, e.method);
		return EXIT_OK;
	}
	agentproto_estimate(stdout, r.dbid, e.bytes, e.replay_bytes, e.method);
	return EXIT_OK;
}

/*
 * A copy from nothing that an earlier run of ours left unfinished (its marker names the same
 * strategy) is resumed, not started again: the differential strategy ('D', Greenplum's type)
 * compares what is there, page by page, and sends only what is missing or differs, so that a
 * copy killed at 80 % moves about a fifth of the bytes again. Whatever the directory holds is
 * checked against the source, which is what a copy from nothing guarantees too.
 */
static const struct strategy *resume_strategy(const struct agent_args *a, const struct strategy *s)
{
	const struct strategy *d = strategy_for_type('D');
	struct target_mark mark;
	char note[1024];

	if (!(s->caps & STRATEGY_EMPTY_TARGET) || d == NULL || d == s)
		return s;
	targetmark_read(a->target_datadir, &mark);
	if (mark.state != TARGET_MARK_COPYING || strcmp(mark.strategy, s->name) != 0)
		return s;
	snprintf(note, sizeof(note), "\"%s\" holds an unfinished %s copy of ours: resuming it with "
				     "the %s strategy, which sends only what is missing or differs",
		 a->target_datadir, s->name, d->name);
	log_info("dbid %ld: %s", a->dbid, note);
	agentproto_note(stdout, (int) a->dbid, "info", note);
	return d;
}

int agent_recover(struct agent_args *a)
{
	struct host_state hs = { 0 };
	struct recovery r;
	struct target t;
	const struct strategy *s;
	struct errbuf err;
	const char *step = "start";
	double started;
	int rc;

	started = now_seconds();
	errbuf_clear(&err);
	strategy_registry_set_host(&host);

	s = strategy_find(a->type, &err);
	if (s == NULL) {
		guard_free(&a->guard);
		return report_failure("strategy", STRATEGY_REMEDY_RETRY, err.msg);
	}

	s = resume_strategy(a, s);
	hs.strategy = s->name;
	fill_recovery(&r, a, &hs);
	progress_file_open(&hs, a);

	/* launched_at 0: a server found running was launched long ago (see target.h) */
	memset(&t, 0, sizeof(t));
	t.datadir = a->target_datadir;
	t.address = a->target_address;
	t.port = (int) a->target_port;
	t.lock_fd = -1;

	host_phase(&r, "preflight");
	rc = preflight(a, &r, &t, s, &err);
	guard_free(&a->guard);
	if (rc == PREFLIGHT_RESUME) {
		/* An earlier run copied and started it, and was stopped before it saw it stream. */
		char note[1024];

		snprintf(note, sizeof(note), "an earlier recovery copied \"%s\" and started its server; "
					     "nothing to copy, waiting for it to stream and be consistent",
			 t.datadir);
		log_info("dbid %d: %s", r.dbid, note);
		agentproto_note(stdout, r.dbid, "info", note);
		if (wait_until_consistent(&r, &t, a, &step, &err) != 0)
			return report_failure(step, r.remedy, err.msg);
		progress_file_close(&hs, false);
		agentproto_done(stdout, r.dbid, 0, now_seconds() - started);
		return EXIT_OK;
	}
	if (rc != 0)
		return report_failure("preflight", r.remedy, err.msg);
	if (s->caps & STRATEGY_EMPTY_TARGET) {
		host_phase(&r, "wipe");
		if (target_wipe(&t, s->name, &err) != 0) {
			target_release(&t);
			return report_failure("wipe", r.remedy, err.msg);
		}
	}
	inject_point("copy-begin");
	/* A test that pauses the copy reads its progress file: the figures held back go first. */
	inject_set_before_pause(flush_progress_cb, &r);
	rc = s->run(&r, &err);
	inject_set_before_pause(NULL, NULL);
	host_progress_flush(&r);
	if (rc != 0) {
		target_release(&t);
		return report_failure(s->name, r.remedy, err.msg);
	}
	{
		/* The copy's whole memory bill (it streams: this stays flat with the data's size). */
		struct rusage ru;

		if (getrusage(RUSAGE_SELF, &ru) == 0)
			strategy_log(&r, LOG_INFO, "peak memory of the copy on %s: %.1f MB",
				     a->target_address, (double) ru.ru_maxrss / 1024.0);
	}
	host_phase(&r, "configure");
	if (target_configure(&t, r.source_host, r.source_port, &err) != 0 ||
	    targetmark_write(t.datadir, s->name, TARGET_MARK_STARTING, &err) != 0) {
		target_release(&t);
		return report_failure("configure", r.remedy, err.msg);
	}
	target_release(&t);
	if (!a->no_start) {
		host_phase(&r, "start");
		if (target_start(&t, false, (int) a->start_timeout, &err) != 0)
			return report_failure("start", r.remedy, err.msg);
		inject_point("start");
		if (wait_until_consistent(&r, &t, a, &step, &err) != 0)
			return report_failure(step, r.remedy, err.msg);
	}
	progress_file_close(&hs, false);
	agentproto_done(stdout, r.dbid, r.bytes_copied, now_seconds() - started);
	log_info("dbid %d recovered with the %s strategy in %.1f s: %llu bytes copied", r.dbid, s->name,
		 now_seconds() - started, (unsigned long long) r.bytes_copied);
	return EXIT_OK;
}
