/* gpfts: the fault probe. Probes every primary and mirror once (--once) or every --interval seconds. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "coordinator.h"
#include "fsutil.h"
#include "fts.h"
#include "log.h"
#include "pidlock.h"
#include "xalloc.h"

static const char program[] = "gpfts";
static volatile sig_atomic_t stop_requested;

static void usage(void)
{
	printf("gpfts: the fault probe of a segrecover cluster.\n\n"
	       "Usage:\n"
	       "  gpfts --once [options]     probe every primary and mirror once\n"
	       "  gpfts [options]            keep probing every --interval seconds\n\n"
	       "Options:\n"
	       "  --once               probe once and exit\n"
	       "  --interval SECONDS   time between probes (default 60, 1-3600)\n"
	       "  --timeout SECONDS    connection timeout per attempt (default 5, 1-3600)\n"
	       "  --retries N          attempts before an instance counts as down (default 5, 1-100)\n"
	       "  --retry-delay MS     pause between attempts in milliseconds (default 1000)\n"
	       "  -d DIR               coordinator data directory (default $COORDINATOR_DATA_DIRECTORY)\n"
	       "  -l DIR               log directory (default ~/gpAdminLogs)\n"
	       "  -v, --verbose        debug output\n"
	       "  -q, --quiet          warnings and errors only\n"
	       "  -h, --help           this help\n"
	       "  --version            version\n\n"
	       "Exit status: 0 all contents have a primary; 1 a double fault or a probe error; 2 bad\n"
	       "usage or no coordinator.\n");
}

/*
 * One probe at a time: two probes deciding transitions for the same pair could promote twice.
 * The lock lives in the coordinator data directory, so gpfts runs on the coordinator host.
 */
static int take_lock(const char *datadir_option, struct pidlock *lock)
{
	struct coordinator coord;
	struct errbuf err;

	errbuf_clear(&err);
	if (coordinator_connect_locked(program, datadir_option, "gpfts.lock", &coord, lock, &err) != 0) {
		log_error("%s", err.msg);
		return EXIT_USAGE;
	}
	coordinator_disconnect(&coord);
	return EXIT_OK;
}

/* One probe of every content; returns the exit code a --once run would have. */
static int probe_once(const char *datadir, const struct fts_options *opts)
{
	struct coordinator coord;
	struct fts_summary summary;
	struct errbuf err;
	int rc;

	errbuf_clear(&err);
	if (coordinator_connect(datadir, &coord, &err) != 0) {
		log_error("%s", err.msg);
		return EXIT_USAGE;
	}
	rc = fts_probe_all(coord.conn, opts, &summary, &err);
	coordinator_disconnect(&coord);
	if (rc != 0) {
		log_error("%s", err.msg);
		return EXIT_USAGE;
	}
	log_info("probed %d content(s): %d change(s), %d double fault(s), %d error(s)%s",
		 summary.contents, summary.changes, summary.double_faults, summary.errors,
		 !summary.standby ? "" : summary.standby_down ? "; the standby coordinator is down"
							      : "; the standby coordinator is up");
	return summary.double_faults || summary.errors ? EXIT_FAILED : EXIT_OK;
}

static void on_signal(int sig)
{
	(void) sig;
	stop_requested = 1;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "once", no_argument, NULL, 'O' },
		{ "interval", required_argument, NULL, 'I' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "retries", required_argument, NULL, 'R' },
		{ "retry-delay", required_argument, NULL, 'D' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct fts_options opts = FTS_OPTIONS_DEFAULT;
	const char *datadir = NULL, *logdir = NULL;
	enum log_verbosity verbosity = LOG_NORMAL;
	bool once = false;
	long interval = 60, value;
	struct pidlock lock = { 0 };
	int c, rc;

	while ((c = getopt_long(argc, argv, "d:l:vqh?", longopts, NULL)) != -1) {
		switch (c) {
		case 'O':
			once = true;
			break;
		case 'I':
			if (!cli_parse_int(program, "--interval", optarg, 1, 3600, &interval))
				return EXIT_USAGE;
			break;
		case 'T':
			if (!cli_parse_int(program, "--timeout", optarg, 1, 3600, &value))
				return EXIT_USAGE;
			opts.connect_timeout = (int) value;
			break;
		case 'R':
			if (!cli_parse_int(program, "--retries", optarg, 1, 100, &value))
				return EXIT_USAGE;
			opts.retries = (int) value;
			break;
		case 'D':
			if (!cli_parse_int(program, "--retry-delay", optarg, 0, 60000, &value))
				return EXIT_USAGE;
			opts.retry_delay_ms = (int) value;
			break;
		case 'd':
			datadir = optarg;
			break;
		case 'l':
			logdir = optarg;
			break;
		case 'v':
			verbosity = LOG_VERBOSE;
			break;
		case 'q':
			verbosity = LOG_QUIET;
			break;
		case 'h':
			usage();
			return EXIT_OK;
		case 'V':
			printf("gpfts (segrecover) %s\n", SEGRECOVER_VERSION);
			return EXIT_OK;
		default:
			return cli_usage_error(program, "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error(program, "too many arguments: only options may be specified");
	rc = cli_start(program, argc, argv, logdir, verbosity);
	if (rc != EXIT_OK)
		return rc;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	rc = take_lock(datadir, &lock);
	if (rc != EXIT_OK)
		return rc;
	for (;;) {
		rc = probe_once(datadir, &opts);
		if (once || stop_requested)
			break;
		for (long waited = 0; !stop_requested && waited < interval * 10; waited++)
			usleep(100 * 1000);
		if (stop_requested)
			break;
	}
	pidlock_release(&lock);
	if (once)
		return rc;
	log_info("gpfts stopped");
	log_close();
	return EXIT_OK;
}
