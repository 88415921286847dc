#include "gpsegrecovery/instance.h"

#include <stdio.h>

#include "agent/target.h"
#include "coordinator.h"
#include "agent/walend.h"
#include "cli.h"
#include "fsutil.h"
#include "gpsegrecovery/report.h"
#include "hba.h"
#include "log.h"
#include "postmaster.h"
#include "proto/agentproto.h"
#include "targetguard.h"
#include "targetmark.h"

int agent_stop(const struct agent_args *a)
{
	struct errbuf err;
	lsn_t end;
	uint32_t tli;

	errbuf_clear(&err);
	if (!is_pg_datadir(a->target_datadir)) {
		errbuf_set(&err, "\"%s\" is not a PostgreSQL data directory", a->target_datadir);
		return report_failure("stop", STRATEGY_REMEDY_RETRY, err.msg);
	}
	log_info("stopping the instance in \"%s\" (fast shutdown)", a->target_datadir);
	if (target_stop(a->target_datadir, 600, &err) != 0 ||
	    walend_after_shutdown(a->target_datadir, &end, &tli, &err) != 0)
		return report_failure("stop", STRATEGY_REMEDY_RETRY, err.msg);
	log_info("stopped; its WAL ends at " LSN_FMT " on timeline %u", LSN_ARGS(end), tli);
	agentproto_stopped(stdout, (int) a->dbid, end, tli);
	return EXIT_OK;
}

int agent_start(const struct agent_args *a)
{
	struct target t = { .datadir = a->target_datadir, .lock_fd = -1 };
	struct errbuf err;

	errbuf_clear(&err);
	if (postmaster_running(a->target_datadir, NULL)) {
		agentproto_started(stdout, (int) a->dbid, true);
		return EXIT_OK;
	}
	if (target_start(&t, true, (int) a->start_timeout, &err) != 0)
		return report_failure("start", STRATEGY_REMEDY_RETRY, err.msg);
	agentproto_started(stdout, (int) a->dbid, false);
	return EXIT_OK;
}

int agent_update_hba(const struct agent_args *a)
{
	struct errbuf err;
	bool changed = false;

	errbuf_clear(&err);
	if (hba_update_file(a->hba_file, a->hba_entries, &changed, &err) != 0)
		return report_failure("update-hba", STRATEGY_REMEDY_RETRY, err.msg);
	agentproto_hba(stdout, (int) a->dbid, changed);
	return EXIT_OK;
}

/*
 * The postmaster running in the directory to remove must be the instance we were asked to
 * remove (its port), never another server that took the directory over.
 */
static int stop_the_instance(const struct agent_args *a, pid_t pid, struct errbuf *err)
{
	char sockdir[1024];
	int port = 0;

	if (coordinator_read_location(a->target_datadir, &port, sockdir, sizeof(sockdir), err) != 0)
		return -1;
	if (a->target_port > 0 && port != a->target_port)
		return errbuf_set(err, "the postmaster (PID %d) running in \"%s\" listens on port %d, "
				       "not on port %ld of dbid %ld: it is not stopped, nothing is removed",
				  (int) pid, a->target_datadir, port, a->target_port, a->dbid);
	log_info("stopping the instance in \"%s\" (PID %d, fast shutdown)", a->target_datadir,
		 (int) pid);
	return target_stop(a->target_datadir, 600, err);
}

int agent_remove(struct agent_args *a)
{
	struct target_mark mark;
	struct errbuf err;
	pid_t pid = 0;

	errbuf_clear(&err);
	if (!path_exists(a->target_datadir)) {
		log_info("\"%s\" does not exist: nothing to remove", a->target_datadir);
		agentproto_removed(stdout, (int) a->dbid, false);
		return EXIT_OK;
	}
	/* The one guard, before anything is stopped or removed (invariant 5). */
	switch (guard_check(&a->guard, a->target_datadir, &pid, &err)) {
	case GUARD_OK:
		break;
	case GUARD_TARGET_RUNNING:
		errbuf_clear(&err);
		if (stop_the_instance(a, pid, &err) != 0)
			return report_failure("remove", STRATEGY_REMEDY_RETRY, err.msg);
		if (guard_check(&a->guard, a->target_datadir, &pid, &err) == GUARD_OK)
			break;
		/* fall through */
	default:
		return report_failure("remove", STRATEGY_REMEDY_RETRY, err.msg);
	}
	if (guard_check_tablespaces(&a->guard, a->target_datadir, &err) != 0)
		return report_failure("remove", STRATEGY_REMEDY_RETRY, err.msg);
	targetmark_read(a->target_datadir, &mark);
	if (!is_pg_datadir(a->target_datadir) && mark.state == TARGET_MARK_NONE &&
	    !dir_is_empty(a->target_datadir)) {
		errbuf_set(&err, "\"%s\" is neither a PostgreSQL data directory nor a copy segrecover "
				 "left unfinished, and it is not empty: it is not removed. Check what it "
				 "holds, and remove it by hand if it is the instance's",
			   a->target_datadir);
		return report_failure("remove", STRATEGY_REMEDY_RETRY, err.msg);
	}
	log_info("removing \"%s\"", a->target_datadir);
	if (remove_tree(a->target_datadir, &err) != 0 || fsync_parent(a->target_datadir, &err) != 0)
		return report_failure("remove", STRATEGY_REMEDY_RETRY, err.msg);
	agentproto_removed(stdout, (int) a->dbid, true);
	return EXIT_OK;
}
