#include "gpsegrecovery/instance.h"

#include <stdio.h>

#include "agent/target.h"
#include "agent/walend.h"
#include "cli.h"
#include "fsutil.h"
#include "gpsegrecovery/report.h"
#include "hba.h"
#include "log.h"
#include "postmaster.h"
#include "proto/agentproto.h"

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
