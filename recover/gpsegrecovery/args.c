#include "gpsegrecovery/args.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "proto/agentproto.h"

static const char program[] = "gpsegrecovery";

static void usage(void)
{
	printf("gpsegrecovery: the agent of gprecoverseg on a segment host (run by gprecoverseg).\n\n"
	       "Usage:\n"
	       "  gpsegrecovery recover --type NAME --dbid N --content N --target-datadir DIR\n"
	       "                --target-port PORT --source-dbid N --source-host HOST\n"
	       "                --source-port PORT [options]\n"
	       "  gpsegrecovery estimate [the options of recover]\n"
	       "  gpsegrecovery stop --dbid N --target-datadir DIR\n"
	       "  gpsegrecovery start --dbid N --target-datadir DIR [--start-timeout SECS]\n"
	       "  gpsegrecovery update-hba --dbid N --hba-file FILE --hba-entries TEXT\n"
	       "  gpsegrecovery helper --type NAME --source-datadir DIR [--helper-arg ARG]...\n"
	       "  gpsegrecovery remove --dbid N --target-datadir DIR --target-port PORT\n"
	       "                [--protect ...]...\n\n"
	       "Verbs:\n"
	       "  recover     rebuild one instance on this host as a mirror of its source\n"
	       "  estimate    how many bytes recover would move, changing nothing\n"
	       "  stop        fast shutdown of the instance (gprecoverseg -r); tells where its WAL ends\n"
	       "  start       start the instance as it is configured\n"
	       "  update-hba  add the missing pg_hba.conf entries (one a line) to FILE on this host\n"
	       "  helper      a strategy's helper next to the source data (started by the strategy\n"
	       "              on the target's host; it speaks the strategy's own stream on stdio)\n"
	       "  remove      stop the instance listening on PORT in DIR, then remove DIR (a data\n"
	       "              directory, an unfinished copy of ours, or an empty one), after the\n"
	       "              same guard as recover (gpinitstandby -r)\n\n"
	       "Options of recover:\n"
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
	       "  --compress METHOD      the source compresses the copy: lz4, zstd or none\n"
	       "                         (full recovery; worth it when the network is slower\n"
	       "                         than the disk)\n"
	       "  --start-timeout SECS   wait this long for each of start, streaming and the\n"
	       "                         replay to a consistent state (default 600)\n"
	       "  --no-start             leave the server stopped after configuring it\n"
	       "  --progress-file NAME   keep the progress lines in NAME in the log directory\n"
	       "                         (removed on success, kept on failure)\n"
	       "Options of every verb:\n"
	       "  --watch-stdin          stop the work when standard input closes (gprecoverseg\n"
	       "                         keeps a pipe open; through ssh, so does the remote side)\n"
	       "  -l DIR                 log directory (default ~/gpAdminLogs)\n"
	       "  -v, --verbose          debug output\n"
	       "  -h, --help             this help\n\n"
	       "Output: typed lines on stdout ('@phase', '@progress', '@note', '@done', '@stopped',\n"
	       "'@started', '@hba', '@removed', '@error'); logs on stderr and in the log file.\n"
	       "Exit status: 0 done; 1 failed (see the @error line); 2 bad usage; 143 stopped.\n");
}

static int parse_verb(const char *word, enum agent_verb *verb)
{
	static const struct {
		const char *name;
		enum agent_verb verb;
	} verbs[] = {
		{ AGENT_VERB_RECOVER, VERB_RECOVER },
		{ AGENT_VERB_ESTIMATE, VERB_ESTIMATE },
		{ AGENT_VERB_STOP, VERB_STOP },
		{ AGENT_VERB_START, VERB_START },
		{ AGENT_VERB_UPDATE_HBA, VERB_UPDATE_HBA },
		{ AGENT_VERB_HELPER, VERB_HELPER },
		{ AGENT_VERB_REMOVE, VERB_REMOVE },
	};

	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(word, verbs[i].name) == 0) {
			*verb = verbs[i].verb;
			return 0;
		}
	return -1;
}

/* What each verb requires, checked once everything is parsed. */
static int check_verb_args(struct agent_args *a)
{
	struct errbuf err;

	if (a->dbid < 0 && a->verb != VERB_HELPER)
		return cli_usage_error(program, "--dbid is required");
	switch (a->verb) {
	case VERB_UPDATE_HBA:
		if (!a->hba_file || !a->hba_entries || a->hba_file[0] != '/')
			return cli_usage_error(program, "update-hba needs --hba-file (absolute) and "
							"--hba-entries");
		return EXIT_OK;
	case VERB_STOP:
	case VERB_START:
	case VERB_REMOVE:
		if (!a->target_datadir)
			return cli_usage_error(program, "%s needs --target-datadir",
					       a->verb == VERB_STOP ? "stop" :
					       a->verb == VERB_START ? "start" : "remove");
		/* pg_ctl hands the directory to /bin/sh: the same text rules as a recovery's target. */
		if (guard_path_text("--target-datadir", a->target_datadir, &err) != 0)
			return cli_usage_error(program, "%s", err.msg);
		a->guard.this_address = a->target_address;
		return EXIT_OK;
	case VERB_HELPER:
		if (!a->type || !a->source_datadir || a->source_datadir[0] != '/')
			return cli_usage_error(program, "helper needs --type and --source-datadir "
							"(absolute)");
		return EXIT_OK;
	case VERB_RECOVER:
	case VERB_ESTIMATE:
		break;
	}
	if (!a->type || a->content < -1 || !a->target_datadir || a->target_port < 0 ||
	    a->source_dbid < 0 || !a->source_host || a->source_port < 0)
		return cli_usage_error(program, "recover and estimate need --type, --dbid, --content, "
						"--target-datadir, --target-port, --source-dbid, "
						"--source-host and --source-port");
	if (a->target_datadir[0] != '/')
		return cli_usage_error(program, "--target-datadir must be an absolute path");
	a->guard.this_address = a->target_address;
	return EXIT_OK;
}

int agent_parse_args(int argc, char **argv, struct agent_args *a)
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
		{ "hba-file", required_argument, NULL, 15 },
		{ "hba-entries", required_argument, NULL, 16 },
		{ "protect", required_argument, NULL, 19 },
		{ "watch-stdin", no_argument, NULL, 20 },
		{ "helper-arg", required_argument, NULL, 21 },
		{ "compress", required_argument, NULL, 22 },
		{ "progress-file", required_argument, NULL, 23 },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(a, 0, sizeof(*a));
	a->dbid = a->target_port = a->source_dbid = a->source_port = -1;
	a->content = -2;
	a->start_timeout = 600;
	a->target_address = "localhost";
	a->verbosity = LOG_NORMAL;
	guard_init(&a->guard, NULL);
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		usage();
		exit(EXIT_OK);
	}
	if (argc < 2 || argv[1][0] == '-' || parse_verb(argv[1], &a->verb) != 0)
		return cli_usage_error(program, "the first argument names a verb: recover, estimate, "
						"stop, start, update-hba, helper or remove");
	optind = 2;
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
			/* content -1 is the coordinator: its standby is rebuilt the same way */
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
		case 15:
			a->hba_file = optarg;
			break;
		case 16:
			a->hba_entries = optarg;
			break;
		case 19:
		{
			struct errbuf err;

			if (guard_protect_spec(&a->guard, optarg, &err) != 0)
				return cli_usage_error(program, "%s", err.msg);
			break;
		}
		case 20:
			a->watch_stdin = true;
			break;
		case 21:
			if (a->nhelper_args == AGENT_MAX_HELPER_ARGS)
				return cli_usage_error(program, "at most %d --helper-arg",
						       AGENT_MAX_HELPER_ARGS);
			a->helper_args[a->nhelper_args++] = optarg;
			break;
		case 22:
			if (strcmp(optarg, "lz4") == 0 || strcmp(optarg, "zstd") == 0)
				a->compression = optarg;
			else if (strcmp(optarg, "none") == 0)
				a->compression = NULL;
			else
				return cli_usage_error(program, "--compress: unknown method \"%s\": use "
								"lz4, zstd or none",
						       optarg);
			break;
		case 23:
			/* a name in the log directory, never a path of the caller's choosing */
			if (optarg[0] == '\0' || strchr(optarg, '/') || strcmp(optarg, ".") == 0 ||
			    strcmp(optarg, "..") == 0)
				return cli_usage_error(program, "--progress-file takes a file name, not "
								"a path: \"%s\"",
						       optarg);
			a->progress_file = optarg;
			break;
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
		return cli_usage_error(program, "too many arguments: only options may follow the verb");
	return check_verb_args(a);
}
