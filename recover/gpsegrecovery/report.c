#include "gpsegrecovery/report.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "proto/agentproto.h"

static int instance_dbid = -1;
static char instance_address[256] = "localhost";
static int instance_port;
static char instance_datadir[4096] = "";
/* Written before it is needed: a signal handler cannot format. */
static char stop_line[8192];

static void prepare_stop_line(void)
{
	snprintf(stop_line, sizeof(stop_line),
		 "@error dbid=%d step=interrupted remedy=retry msg=gpsegrecovery was stopped on its "
		 "host while working on dbid %d (%s:%d %s): ",
		 instance_dbid, instance_dbid, instance_address, instance_port, instance_datadir);
}

void report_set_instance(int dbid, const char *address, int port, const char *datadir)
{
	instance_dbid = dbid;
	snprintf(instance_address, sizeof(instance_address), "%s", address ? address : "localhost");
	instance_port = port;
	snprintf(instance_datadir, sizeof(instance_datadir), "%s", datadir ? datadir : "");
	prepare_stop_line();
}

int report_failure(const char *step, enum strategy_remedy remedy, const char *msg)
{
	log_error("dbid %d (%s:%d %s): %s failed: %s", instance_dbid, instance_address,
		  instance_port, instance_datadir, step, msg);
	agentproto_error(stdout, instance_dbid, step,
			 remedy == STRATEGY_REMEDY_FULL ? "rebuild" : "retry", msg);
	return EXIT_FAILED;
}

void report_stop_now(const char *why)
{
	if (stop_line[0] == '\0')
		prepare_stop_line();
	if (write(STDOUT_FILENO, stop_line, strlen(stop_line)) < 0 ||
	    write(STDOUT_FILENO, why, strlen(why)) < 0 || write(STDOUT_FILENO, "\n", 1) < 0) {
		/* nobody is listening any more: stopping is all that is left */
	}
	signal(SIGTERM, SIG_DFL);
	/* As a process group leader (gprecoverseg starts us so) take our own children along. */
	if (getpgrp() == getpid())
		kill(0, SIGTERM);
	raise(SIGTERM);
}
