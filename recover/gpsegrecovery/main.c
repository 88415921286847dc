/*
 * gpsegrecovery: gprecoverseg's agent on a segment host. One verb per run (recover, stop,
 * start, update-hba), typed agentproto lines on stdout for the driver, logs on stderr and in
 * ~/gpAdminLogs. Never prompts. With --watch-stdin it stops its work when the driver's pipe
 * closes, which an interrupted gprecoverseg causes on remote hosts too (through ssh).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "gpsegrecovery/args.h"
#include "gpsegrecovery/instance.h"
#include "gpsegrecovery/recover.h"
#include "gpsegrecovery/report.h"
#include "log.h"

static const char program[] = "gpsegrecovery";

static void on_terminate(int sig)
{
	(void) sig;
	report_stop_now("it received SIGTERM; run the recovery again to finish it");
}

/* The driver holds the other end; when it goes (interrupted, killed, its host lost), so do we. */
static void *watch_stdin(void *arg)
{
	char buf[256];
	ssize_t n;

	(void) arg;
	do
		n = read(STDIN_FILENO, buf, sizeof(buf));
	while (n > 0 || (n < 0 && errno == EINTR));
	log_warning("gprecoverseg closed its pipe (interrupted by the user, or its host is gone): "
		    "stopping");
	report_stop_now("gprecoverseg went away (interrupted by the user?); run the recovery again "
			"to finish it");
	return NULL;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	struct agent_args a;
	int rc;

	rc = agent_parse_args(argc, argv, &a);
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
	report_set_instance((int) a.dbid, a.target_address, (int) a.target_port, a.target_datadir);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_terminate;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	/* A reader that went away is noticed through the stdin pipe, not by dying on a write. */
	signal(SIGPIPE, SIG_IGN);
	if (a.watch_stdin) {
		pthread_t watcher;

		if (pthread_create(&watcher, NULL, watch_stdin, NULL) == 0)
			pthread_detach(watcher);
	}
	switch (a.verb) {
	case VERB_RECOVER:
		rc = agent_recover(&a);
		break;
	case VERB_ESTIMATE:
		rc = agent_estimate(&a);
		break;
	case VERB_HELPER:
		rc = agent_helper(&a);
		break;
	case VERB_STOP:
		rc = agent_stop(&a);
		break;
	case VERB_START:
		rc = agent_start(&a);
		break;
	case VERB_UPDATE_HBA:
		rc = agent_update_hba(&a);
		break;
	case VERB_REMOVE:
		rc = agent_remove(&a);
		break;
	}
	guard_free(&a.guard);
	log_close();
	return rc;
}
