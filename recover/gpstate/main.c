/*
 * gpstate: the status of a segrecover cluster, in the views of Greenplum's gpstate. It reads the
 * catalog on the coordinator, probes every instance (see gpstate/probe.h) unless the view needs
 * only the catalog, and prints the view through the log (see state_views.h).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "cli.h"
#include "coordinator.h"
#include "gpstate/probe.h"
#include "gpstate/views.h"
#include "log.h"
#include "pgconn.h"

static const char program[] = "gpstate";

enum view { VIEW_SUMMARY, VIEW_REPORT, VIEW_MIRRORS, VIEW_DETAIL, VIEW_CONFIG, VIEW_STANDBY,
	    VIEW_QUICK, VIEW_PORTS, VIEW_VERSIONS, VIEW_JSON };

struct options {
	enum view view;
	int nviews;       /* output options given, -Q not counted */
	bool quick;       /* -Q */
	const char *datadir, *logdir;
	enum log_verbosity verbosity;
	int timeout;
	int parallel;
};

static void usage(void)
{
	printf("gpstate: show the state of a segrecover cluster (coordinator, primaries, mirrors).\n\n"
	       "Usage: gpstate [view] [options]\n\n"
	       "Views (one at a time; the default is the summary):\n"
	       "  -b                   summary of the instances (the default)\n"
	       "  -e                   instances with problems: switched roles, unsynchronized\n"
	       "                       pairs, downed segments, segments in recovery\n"
	       "  -m                   the mirrors, their status and replication positions\n"
	       "  -s                   every instance in detail\n"
	       "  -c                   the primary to mirror mapping\n"
	       "  -f                   the standby coordinator\n"
	       "  -p                   every instance's port\n"
	       "  -i                   every instance's server version\n"
	       "  --json               the catalog joined with the live state, as one JSON\n"
	       "                       document on stdout (for monitoring; messages on stderr)\n"
	       "  -Q                   quick status from the catalog alone; with -b, -e, -m, -s:\n"
	       "                       that view from the catalog, without probing the instances\n\n"
	       "Options:\n"
	       "  -d DIR               coordinator data directory (default\n"
	       "                       $COORDINATOR_DATA_DIRECTORY, then PGHOST/PGPORT)\n"
	       "  -l DIR               log directory (default ~/gpAdminLogs)\n"
	       "  -t, --timeout SECONDS  connection timeout per instance (default %d, 1-3600)\n"
	       "  -B N                 instances probed at once (default %d, 1-%d)\n"
	       "  -v, --verbose        debug output\n"
	       "  -q, --quiet          warnings and errors only\n"
	       "  -h, -?, --help       this help\n"
	       "  --version            version\n\n"
	       "Exit status: 0 nothing needs attention; 1 the view shows something that needs\n"
	       "attention (a failed mirror, unsynchronized pairs, switched roles, ...); 2 bad usage,\n"
	       "no coordinator, or an invalid catalog.\n",
	       PGCONN_DEFAULT_TIMEOUT, STATE_PROBE_DEFAULT_PARALLEL, STATE_PROBE_MAX_PARALLEL);
}

static void set_view(struct options *o, enum view v)
{
	if (o->nviews == 0 || o->view != v)
		o->nviews++;
	o->view = v;
}

/* Returns -1 to go on, or the exit code. */
static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "json", no_argument, NULL, 'J' },
		{ NULL, 0, NULL, 0 },
	};
	long value;
	int c;

	/* Greenplum's tools take -? for help; getopt cannot tell it from an unknown option. */
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "-?") == 0) {
			usage();
			return EXIT_OK;
		}
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":bemscfpiQd:l:vqt:B:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			set_view(o, VIEW_SUMMARY);
			break;
		case 'e':
			set_view(o, VIEW_REPORT);
			break;
		case 'm':
			set_view(o, VIEW_MIRRORS);
			break;
		case 's':
			set_view(o, VIEW_DETAIL);
			break;
		case 'c':
			set_view(o, VIEW_CONFIG);
			break;
		case 'f':
			set_view(o, VIEW_STANDBY);
			break;
		case 'p':
			set_view(o, VIEW_PORTS);
			break;
		case 'i':
			set_view(o, VIEW_VERSIONS);
			break;
		case 'J':
			set_view(o, VIEW_JSON);
			break;
		case 'Q':
			o->quick = true;
			break;
		case 'd':
			o->datadir = optarg;
			break;
		case 'l':
			o->logdir = optarg;
			break;
		case 'v':
			o->verbosity = LOG_VERBOSE;
			break;
		case 'q':
			o->verbosity = LOG_QUIET;
			break;
		case 't':
			if (!cli_parse_int(program, "--timeout", optarg, 1, 3600, &value))
				return EXIT_USAGE;
			o->timeout = (int) value;
			break;
		case 'B':
			if (!cli_parse_int(program, "-B", optarg, 1, STATE_PROBE_MAX_PARALLEL, &value))
				return EXIT_USAGE;
			o->parallel = (int) value;
			break;
		case 'h':
			usage();
			return EXIT_OK;
		case 'V':
			printf("gpstate (segrecover) %s\n", SEGRECOVER_VERSION);
			return EXIT_OK;
		case ':':
			return cli_usage_error(program, "option %s requires a value",
					       argv[optind - 1]);
		default:
			if (optopt)
				return cli_usage_error(program, "unknown option -%c", optopt);
			return cli_usage_error(program, "unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error(program, "too many arguments: only options may be specified "
						 "(\"%s\")",
				       argv[optind]);
	if (o->nviews > 1)
		return cli_usage_error(program, "Too many output options specified: choose one of "
						 "-b, -e, -m, -s, -c, -f, -p, -i, --json");
	if (o->quick && o->nviews == 0)
		o->view = VIEW_QUICK;
	if (o->quick && o->view == VIEW_SUMMARY)
		o->view = VIEW_QUICK;
	return -1;
}

/* Does the view look at the instances themselves? -c and -Q read only the catalog. */
static bool view_probes(const struct options *o, const struct catalog *cat)
{
	if (o->quick || o->view == VIEW_CONFIG || o->view == VIEW_QUICK || o->view == VIEW_PORTS)
		return false;
	if (o->view == VIEW_STANDBY)
		return catalog_standby(cat) != NULL;
	return true;
}

static int show(const struct options *o, const struct state_view *v)
{
	switch (o->view) {
	case VIEW_SUMMARY:
		return state_show_summary(v);
	case VIEW_REPORT:
		return state_show_report(v);
	case VIEW_MIRRORS:
		return state_show_mirrors(v);
	case VIEW_DETAIL:
		return state_show_detail(v);
	case VIEW_CONFIG:
		return state_show_config(v);
	case VIEW_STANDBY:
		return state_show_standby(v);
	case VIEW_QUICK:
		return state_show_quick(v);
	case VIEW_PORTS:
		return state_show_ports(v);
	case VIEW_VERSIONS:
		return state_show_versions(v);
	case VIEW_JSON:
		return state_show_json(v);
	}
	return EXIT_USAGE;
}

static int run(const struct options *o)
{
	struct coordinator coord;
	struct catalog cat;
	struct cluster_probe probe = { 0 };
	struct state_view v;
	struct errbuf err;
	char *version = NULL;
	int rc;

	errbuf_clear(&err);
	if (coordinator_connect(o->datadir, &coord, &err) != 0) {
		log_error("%s", err.msg);
		return EXIT_USAGE;
	}
	log_info("local segrecover version: '%s'", SEGRECOVER_VERSION);
	if (pg_query_value(coord.conn, "SHOW server_version", 0, NULL, &version, &err) == 0)
		log_info("coordinator Postgres version: '%s'", version ? version : "");
	free(version);
	log_info("Obtaining Segment details from coordinator...");
	if (catalog_load(coord.conn, &cat, &err) != 0) {
		log_error("%s (coordinator data directory %s)", err.msg, coord.datadir);
		coordinator_disconnect(&coord);
		return EXIT_USAGE;
	}
	if (catalog_validate(&cat, &err) != 0) {
		log_error("gp_segment_configuration on the coordinator is not a valid cluster "
			  "configuration: %s",
			  err.msg);
		log_error("correct the rows of gp_segment_configuration (database %s on the "
			  "coordinator), then run gpstate again",
			  CATALOG_DBNAME);
		catalog_free(&cat);
		coordinator_disconnect(&coord);
		return EXIT_USAGE;
	}
	if (view_probes(o, &cat)) {
		struct state_probe_options popts = { .timeout = o->timeout,
						     .parallel = o->parallel };

		log_info("Gathering data from segments...");
		state_probe_cluster(&cat, &popts, &probe);
		state_probe_log(&probe);
	}
	v.cat = &cat;
	v.probe = probe.inst ? &probe : NULL;
	v.coord = &coord;
	rc = show(o, &v);
	state_probe_free(&probe);
	catalog_free(&cat);
	coordinator_disconnect(&coord);
	return rc;
}

int main(int argc, char **argv)
{
	struct options o = {
		.view = VIEW_SUMMARY,
		.verbosity = LOG_NORMAL,
		.timeout = PGCONN_DEFAULT_TIMEOUT,
		.parallel = STATE_PROBE_DEFAULT_PARALLEL,
	};
	int rc = parse_options(argc, argv, &o);

	if (rc >= 0)
		return rc;
	/* A monitor parses standard output: the document alone goes there. */
	if (o.view == VIEW_JSON)
		log_set_console(stderr);
	rc = cli_start(program, argc, argv, o.logdir, o.verbosity);
	if (rc != EXIT_OK)
		return rc;
	signal(SIGPIPE, SIG_IGN);
	rc = run(&o);
	log_close();
	return rc;
}
