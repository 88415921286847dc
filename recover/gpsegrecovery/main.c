/*
 * gpsegrecovery: recovers one segment on its host. Preflight, lock, strategy, standby
 * configuration, start, wait until it streams. Speaks agentproto lines on stdout (for
 * gprecoverseg); logs go to stderr and ~/gpAdminLogs. Never prompts.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/target.h"
#include "agent/walend.h"
#include "cli.h"
#include "clock.h"
#include "exec.h"
#include "fsutil.h"
#include "hba.h"
#include "inject.h"
#include "log.h"
#include "postmaster.h"
#include "proto/agentproto.h"
#include "registry.h"
#include "replication.h"
#include "standbyconf.h"
#include "targetguard.h"
#include "targetmark.h"

static const char program[] = "gpsegrecovery";

struct host_state {
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
	agentproto_progress(stdout, r->dbid, done, total);
}

static void host_progress_flush(struct recovery *r)
{
	struct host_state *hs = r->host_data;

	if (hs->unreported)
		agentproto_progress(stdout, r->dbid, hs->done, hs->total);
	hs->unreported = false;
}

static void host_phase(struct recovery *r, const char *name)
{
	agentproto_phase(stdout, r->dbid, name);
	log_info("dbid %d: %s", r->dbid, name);
}

static const struct strategy_host host = {
	.log = host_log,
	.progress = host_progress,
	.phase = host_phase,
	.find = strategy_find,
};

static void usage(void)
{
	printf("gpsegrecovery: recover one segment instance on this host (run by gprecoverseg).\n\n"
	       "Usage:\n"
	       "  gpsegrecovery --type NAME --dbid N --content N --target-datadir DIR --target-port PORT\n"
	       "                --source-dbid N --source-host HOST --source-port PORT [options]\n\n"
	       "Options:\n"
	       "  --type NAME            strategy: full, incremental, or a plugin name or path\n"
	       "  --target-address ADDR  address the recovered server listens on (default localhost)\n"
	       "  --source-datadir DIR   the source's data directory (for messages)\n"
	       "  --force-overwrite      the catalog marks the target down: a strategy that starts\n"
	       "                         from an empty directory may wipe it (a running server\n"
	       "                         is never stopped: the recovery is refused instead)\n"
	       "  --protect DBID|HOSTNAME|ADDRESS|PORT|DATADIR\n"
	       "                         another instance of the catalog (repeatable): a target\n"
	       "                         that is, contains or lies inside its data directory or a\n"
	       "                         tablespace of it on this host is refused\n"
	       "  --max-rate KBPS        throttle the copy (full recovery), 32-1048576 kB/s\n"
	       "  --start-timeout SECS   wait this long for start and streaming (default 600)\n"
	       "  --no-start             leave the server stopped after configuring it\n"
	       "  --update-hba --hba-file FILE --hba-entries TEXT\n"
	       "                         instead: add the missing pg_hba.conf entries (one a line)\n"
	       "                         to FILE on this host; prints \"changed\" or \"unchanged\"\n"
	       "  --stop-instance --target-datadir DIR\n"
	       "                         instead: fast shutdown of the instance (gprecoverseg -r);\n"
	       "                         prints \"stopped end=LSN timeline=TLI\", where its WAL ends\n"
	       "  --start-instance --target-datadir DIR\n"
	       "                         instead: start the instance as it is configured\n"
	       "  -l DIR                 log directory (default ~/gpAdminLogs)\n"
	       "  -v, --verbose          debug output\n"
	       "  -h, --help             this help\n\n"
	       "Output: one '@phase', '@progress', '@note', '@done' or '@error' line per event on stdout.\n"
	       "Exit status: 0 recovered and streaming; 1 failed (see the @error line); 2 bad usage.\n");
}

struct args {
	const char *type, *target_datadir, *target_address, *source_host, *source_datadir;
	long dbid, content, target_port, source_dbid, source_port, max_rate, start_timeout;
	bool force_overwrite, no_start, update_hba, stop_instance, start_instance;
	struct target_guard guard; /* --protect */
	const char *hba_file, *hba_entries;
	const char *logdir;
	enum log_verbosity verbosity;
};

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option longopts[] = {
		{ "type", required_argument, NULL, 't' },
		{ "dbid", required_argument, NULL, 1 },
		{ "content", required_argument, NULL, 2 },
		{ "target-datadir", required_argument, NULL, 3 },
		{ "target-port", required_argument, NULL, 4 },
		{ "target-address", required_argument, NULL, 5 },
		{ "source-dbid", required_argument, NULL, 6 },
		{ "source-host", required_argument, NULL, 7 },
		{ "source-port", required_argument, NULL, 8 },
		{ "source-datadir", required_argument, NULL, 9 },
		{ "max-rate", required_argument, NULL, 10 },
		{ "start-timeout", required_argument, NULL, 11 },
		{ "force-overwrite", no_argument, NULL, 12 },
		{ "no-start", no_argument, NULL, 13 },
		{ "update-hba", no_argument, NULL, 14 },
		{ "hba-file", required_argument, NULL, 15 },
		{ "hba-entries", required_argument, NULL, 16 },
		{ "stop-instance", no_argument, NULL, 17 },
		{ "start-instance", no_argument, NULL, 18 },
		{ "protect", required_argument, NULL, 19 },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(a, 0, sizeof(*a));
	a->dbid = a->content = a->target_port = a->source_dbid = a->source_port = -1;
	a->start_timeout = 600;
	a->target_address = "localhost";
	a->verbosity = LOG_NORMAL;
	guard_init(&a->guard, NULL);
	while ((c = getopt_long(argc, argv, "l:vh", longopts, NULL)) != -1) {
		bool ok = true;

		switch (c) {
		case 't':
			a->type = optarg;
			break;
		case 1:
			ok = cli_parse_int(program, "--dbid", optarg, 0, 32767, &a->dbid);
			break;
		case 2:
			ok = cli_parse_int(program, "--content", optarg, -1, 32767, &a->content);
			break;
		case 3:
			a->target_datadir = optarg;
			break;
		case 4:
			ok = cli_parse_int(program, "--target-port", optarg, 1, 65535, &a->target_port);
			break;
		case 5:
			a->target_address = optarg;
			break;
		case 6:
			ok = cli_parse_int(program, "--source-dbid", optarg, 0, 32767, &a->source_dbid);
			break;
		case 7:
			a->source_host = optarg;
			break;
		case 8:
			ok = cli_parse_int(program, "--source-port", optarg, 1, 65535, &a->source_port);
			break;
		case 9:
			a->source_datadir = optarg;
			break;
		case 10:
			ok = cli_parse_int(program, "--max-rate", optarg, 32, 1048576, &a->max_rate);
			break;
		case 11:
			ok = cli_parse_int(program, "--start-timeout", optarg, 1, 86400, &a->start_timeout);
			break;
		case 12:
			a->force_overwrite = true;
			break;
		case 13:
			a->no_start = true;
			break;
		case 14:
			a->update_hba = true;
			break;
		case 15:
			a->hba_file = optarg;
			break;
		case 16:
			a->hba_entries = optarg;
			break;
		case 17:
			a->stop_instance = true;
			break;
		case 18:
			a->start_instance = true;
			break;
		case 19:
		{
			struct errbuf err;

			if (guard_protect_spec(&a->guard, optarg, &err) != 0)
				return cli_usage_error(program, "%s", err.msg);
			break;
		}
		case 'l':
			a->logdir = optarg;
			break;
		case 'v':
			a->verbosity = LOG_VERBOSE;
			break;
		case 'h':
			usage();
			exit(EXIT_OK);
		default:
			return cli_usage_error(program, "unknown option");
		}
		if (!ok)
			return EXIT_USAGE;
	}
	if (optind < argc)
		return cli_usage_error(program, "too many arguments: only options may be specified");
	if (a->update_hba) {
		if (!a->hba_file || !a->hba_entries || a->hba_file[0] != '/')
			return cli_usage_error(program, "--update-hba needs --hba-file (absolute) and "
							"--hba-entries");
		return EXIT_OK;
	}
	if (a->stop_instance || a->start_instance) {
		if (a->stop_instance && a->start_instance)
			return cli_usage_error(program, "--stop-instance and --start-instance exclude each other");
		struct errbuf err;

		if (!a->target_datadir || a->target_datadir[0] != '/')
			return cli_usage_error(program, "--%s-instance needs --target-datadir (absolute)",
					       a->stop_instance ? "stop" : "start");
		/* pg_ctl hands the directory to /bin/sh: the same text rules as a recovery's target. */
		if (guard_path_text("--target-datadir", a->target_datadir, &err) != 0)
			return cli_usage_error(program, "%s", err.msg);
		return EXIT_OK;
	}
	if (!a->type || a->dbid < 0 || a->content < 0 || !a->target_datadir || a->target_port < 0 ||
	    a->source_dbid < 0 || !a->source_host || a->source_port < 0)
		return cli_usage_error(program, "--type, --dbid, --content, --target-datadir, "
						"--target-port, --source-dbid, --source-host and "
						"--source-port are required");
	if (a->target_datadir[0] != '/')
		return cli_usage_error(program, "--target-datadir must be an absolute path");
	a->guard.this_address = a->target_address;
	return EXIT_OK;
}

static const char *agent_address = "localhost";

/* Report a failed step: machine line on stdout, log line on stderr and in the log file. */
static enum strategy_remedy agent_remedy = STRATEGY_REMEDY_RETRY;

static int fail(int dbid, const char *step, const char *datadir, int port, const char *msg)
{
	log_error("dbid %d (%s:%d %s): %s failed: %s", dbid, agent_address, port, datadir, step, msg);
	agentproto_error(stdout, dbid, step, agent_remedy == STRATEGY_REMEDY_FULL ? "rebuild" : "retry",
			 msg);
	return EXIT_FAILED;
}

/* Rebalance, step one: stop the acting primary and tell where its WAL ends. */
static int stop_instance(const struct args *a)
{
	struct errbuf err;
	lsn_t end;
	uint32_t tli;

	errbuf_clear(&err);
	if (!is_pg_datadir(a->target_datadir)) {
		log_error("\"%s\" is not a PostgreSQL data directory", a->target_datadir);
		return EXIT_FAILED;
	}
	log_info("stopping the instance in \"%s\" (fast shutdown)", a->target_datadir);
	if (target_stop(a->target_datadir, 600, &err) != 0 ||
	    walend_after_shutdown(a->target_datadir, &end, &tli, &err) != 0) {
		log_error("%s", err.msg);
		return EXIT_FAILED;
	}
	log_info("stopped; its WAL ends at " LSN_FMT " on timeline %u", LSN_ARGS(end), tli);
	printf("stopped end=" LSN_FMT " timeline=%u\n", LSN_ARGS(end), tli);
	return EXIT_OK;
}

/* Rebalance, undo: the mirror lacked WAL, so the stopped primary comes back as it was. */
static int start_instance(const struct args *a)
{
	struct target t = { .datadir = a->target_datadir, .lock_fd = -1 };
	struct errbuf err;

	errbuf_clear(&err);
	if (postmaster_running(a->target_datadir, NULL)) {
		printf("running\n");
		return EXIT_OK;
	}
	if (target_start(&t, true, (int) a->start_timeout, &err) != 0) {
		log_error("%s", err.msg);
		return EXIT_FAILED;
	}
	printf("started\n");
	return EXIT_OK;
}

/* The last step: the started server streams from its primary, and the marker goes. */
static int wait_until_streaming(struct recovery *r, struct target *t, const struct args *a,
				struct errbuf *err)
{
	host_phase(r, "streaming");
	if (target_wait_streaming(t, r->source_host, r->source_port, (int) a->start_timeout, err) != 0)
		return -1;
	return targetmark_remove(t->datadir, err);
}

enum { PREFLIGHT_RESUME = 1 };

/*
 * Everything before the first change: the guard on the target and on the directories its
 * tablespace links point to, the port, the lock, a stale pid file, the strategy's own check.
 * Returns 0 (the lock is held), -1 (nothing was changed), or PREFLIGHT_RESUME when the
 * server an earlier run of ours copied and started runs in the target.
 */
static int preflight(struct args *a, struct recovery *r, struct target *t, const struct strategy *s,
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
	if (target_clear_stale_pidfile(t, err) != 0 || s->check(r, err) != 0) {
		target_release(t);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct args a;
	struct host_state hs = { 0 };
	struct recovery r;
	struct target t;
	const struct strategy *s;
	struct errbuf err;
	double started;
	int rc;

	rc = parse_args(argc, argv, &a);
	if (rc != EXIT_OK) {
		guard_free(&a.guard);
		return rc;
	}
	log_set_console(stderr);
	rc = cli_start(program, argc, argv, a.logdir, a.verbosity);
	if (rc != EXIT_OK) {
		guard_free(&a.guard);
		return rc;
	}
	signal(SIGPIPE, SIG_IGN);
	if (a.update_hba || a.stop_instance || a.start_instance)
		guard_free(&a.guard); /* only a recovery checks its target against the catalog */
	if (a.update_hba) {
		bool changed = false;

		errbuf_clear(&err);
		if (hba_update_file(a.hba_file, a.hba_entries, &changed, &err) != 0) {
			log_error("%s", err.msg);
			return EXIT_FAILED;
		}
		printf("%s\n", changed ? "changed" : "unchanged");
		return EXIT_OK;
	}
	if (a.stop_instance || a.start_instance)
		return a.stop_instance ? stop_instance(&a) : start_instance(&a);
	started = now_seconds();
	errbuf_clear(&err);
	strategy_registry_set_host(&host);

	s = strategy_find(a.type, &err);
	if (s == NULL) {
		guard_free(&a.guard);
		return fail((int) a.dbid, "strategy", a.target_datadir, (int) a.target_port, err.msg);
	}

	memset(&r, 0, sizeof(r));
	r.dbid = (int) a.dbid;
	agent_dbid = r.dbid;
	{
		char tag[16];

		snprintf(tag, sizeof(tag), "%d", r.dbid);
		inject_set_tag(tag);
	}
	r.content = (int) a.content;
	r.target_datadir = a.target_datadir;
	r.target_port = (int) a.target_port;
	r.source_dbid = (int) a.source_dbid;
	r.source_host = a.source_host;
	r.source_port = (int) a.source_port;
	r.source_datadir = a.source_datadir ? a.source_datadir : "";
	r.max_rate_kbps = a.max_rate;
	r.host = &host;
	r.host_data = &hs;

	t.datadir = a.target_datadir;
	t.address = a.target_address;
	t.port = (int) a.target_port;
	t.lock_fd = -1;

	host_phase(&r, "preflight");
	agent_address = t.address;
	rc = preflight(&a, &r, &t, s, &err);
	guard_free(&a.guard);
	agent_remedy = r.remedy;
	if (rc == PREFLIGHT_RESUME) {
		/* An earlier run copied and started it, and was stopped before it saw it stream. */
		char note[1024];

		snprintf(note, sizeof(note), "an earlier recovery copied \"%s\" and started its server; "
					     "nothing to copy, waiting for it to stream",
			 t.datadir);
		log_info("dbid %d: %s", r.dbid, note);
		agentproto_note(stdout, r.dbid, "info", note);
		if (wait_until_streaming(&r, &t, &a, &err) != 0)
			return fail(r.dbid, "start", t.datadir, t.port, err.msg);
		agentproto_done(stdout, r.dbid, 0, now_seconds() - started);
		log_close();
		return EXIT_OK;
	}
	if (rc != 0)
		return fail(r.dbid, "preflight", t.datadir, t.port, err.msg);
	if (s->caps & STRATEGY_EMPTY_TARGET) {
		host_phase(&r, "wipe");
		if (target_wipe(&t, s->name, &err) != 0) {
			target_release(&t);
			return fail(r.dbid, "wipe", t.datadir, t.port, err.msg);
		}
	}
	inject_point("copy-begin");
	rc = s->run(&r, &err);
	host_progress_flush(&r);
	if (rc != 0) {
		agent_remedy = r.remedy;
		target_release(&t);
		return fail(r.dbid, s->name, t.datadir, t.port, err.msg);
	}
	host_phase(&r, "configure");
	if (target_configure(&t, r.source_host, r.source_port, &err) != 0 ||
	    targetmark_write(t.datadir, s->name, TARGET_MARK_STARTING, &err) != 0) {
		target_release(&t);
		return fail(r.dbid, "configure", t.datadir, t.port, err.msg);
	}
	target_release(&t);
	if (!a.no_start) {
		host_phase(&r, "start");
		if (target_start(&t, false, (int) a.start_timeout, &err) != 0)
			return fail(r.dbid, "start", t.datadir, t.port, err.msg);
		inject_point("start");
		if (wait_until_streaming(&r, &t, &a, &err) != 0)
			return fail(r.dbid, "start", t.datadir, t.port, err.msg);
	}
	agentproto_done(stdout, r.dbid, r.bytes_copied, now_seconds() - started);
	log_info("dbid %d recovered with the %s strategy in %.1f s: %llu bytes copied", r.dbid, s->name,
		 now_seconds() - started, (unsigned long long) r.bytes_copied);
	log_close();
	return EXIT_OK;
}
