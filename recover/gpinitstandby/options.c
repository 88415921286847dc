#include "gpinitstandby/options.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

void initstandby_usage(void)
{
	printf("gpinitstandby: adds, starts or removes the standby coordinator of a segrecover "
	       "cluster.\n\n"
	       "Usage:\n"
	       "  gpinitstandby -s STANDBY_HOST [-P PORT] [-S DATADIR] [--hba-hostnames] [-a] [-q]\n"
	       "                [-D] [-l LOGDIR]\n"
	       "  gpinitstandby -n [-a] [-q] [-l LOGDIR]\n"
	       "  gpinitstandby -r [-a] [-q] [-l LOGDIR]\n"
	       "  gpinitstandby -? | --help | -v | --version\n\n"
	       "Options:\n"
	       "  -s, --standby-host HOST     create the standby coordinator on HOST\n"
	       "  -P, --standby-port PORT     its port (default: the coordinator's)\n"
	       "  -S, --standby-datadir DIR   its data directory (default: the coordinator's path);\n"
	       "                              it must not exist, its parent must\n"
	       "  -n, --no-update             start the configured standby if it is down\n"
	       "  -r, --remove                remove the standby: catalog row, server, directory,\n"
	       "                              the coordinator's replication slot\n"
	       "  --hba-hostnames             pg_hba.conf entries by host name, not address\n"
	       "  -a                          do not ask for confirmation\n"
	       "  -q, --quiet                 warnings and errors only on screen\n"
	       "  -D, --debug                 debug output\n"
	       "  -l, --logfile DIR           log directory (default ~/gpAdminLogs); it must exist\n"
	       "  -M, --mode MODE             accepted and ignored, as by Greenplum\n"
	       "  -?, --help                  this help\n"
	       "  -v, --version               the version\n\n"
	       "A create or a remove that is interrupted (even by kill -9) is finished by running the\n"
	       "same command again; gpinitstandby -r undoes an interrupted create.\n"
	       "Exit status: 0 done; 2 an error, or the user said no.\n");
}

int initstandby_parse_options(int argc, char **argv, struct initstandby_options *o,
			      struct errbuf *err)
{
	static const struct option longopts[] = {
		{ "standby-host", required_argument, NULL, 's' },
		{ "standby-port", required_argument, NULL, 'P' },
		{ "standby-datadir", required_argument, NULL, 'S' },
		{ "no-update", no_argument, NULL, 'n' },
		{ "remove", no_argument, NULL, 'r' },
		{ "hba-hostnames", no_argument, NULL, 1 },
		{ "quiet", no_argument, NULL, 'q' },
		{ "debug", no_argument, NULL, 'D' },
		{ "logfile", required_argument, NULL, 'l' },
		{ "mode", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct stat st;
	int c;

	memset(o, 0, sizeof(*o));
	o->verbosity = LOG_NORMAL;
	opterr = 0;
	optind = 1;
	for (;;) {
		optopt = 0;
		c = getopt_long(argc, argv, ":s:P:S:nrqDl:M:avh", longopts, NULL);
		if (c == -1)
			break;
		switch (c) {
		case 's':
			o->standby_host = optarg;
			break;
		case 'P': {
			char *end;

			errno = 0;
			o->standby_port = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || end == optarg || o->standby_port < 1 ||
			    o->standby_port > 65535)
				return errbuf_set(err, "option -P: invalid port \"%s\" (1-65535)", optarg);
			break;
		}
		case 'S':
			o->standby_datadir = optarg;
			break;
		case 'n':
			o->start = true;
			break;
		case 'r':
			o->remove = true;
			break;
		case 1:
			o->hba_hostnames = true;
			break;
		case 'q':
			o->verbosity = LOG_QUIET;
			break;
		case 'D':
			o->verbosity = LOG_VERBOSE;
			break;
		case 'l':
			o->logdir = optarg;
			break;
		case 'M':
			break; /* Greenplum keeps -M for old tools; it does nothing */
		case 'a':
			o->yes = true;
			break;
		case 'v':
			o->version = true;
			return 0;
		case 'h':
			o->help = true;
			return 0;
		case '?':
		case ':': {
			char msg[256];

			if (cli_getopt_help_or_error(c, argv, msg, sizeof(msg))) {
				o->help = true;
				return 0;
			}
			return errbuf_set(err, "%s", msg);
		}
		}
	}
	if (optind < argc)
		return errbuf_set(err, "unexpected argument \"%s\"", argv[optind]);
	if (o->logdir && (stat(o->logdir, &st) != 0 || !S_ISDIR(st.st_mode)))
		return errbuf_set(err, "Log directory %s does not exist.", o->logdir);
	if (o->standby_host && o->start)
		return errbuf_set(err, "Options -s and -n cannot be specified together.");
	if (o->standby_datadir && o->start)
		return errbuf_set(err, "Options -S and -n cannot be specified together.");
	if (o->standby_host && o->remove)
		return errbuf_set(err, "Options -s and -r cannot be specified together.");
	if (o->start && o->remove)
		return errbuf_set(err, "Options -n and -r cannot be specified together.");
	if (!o->remove && !o->standby_host && !o->start)
		return errbuf_set(err, "No action provided in the options.");
	if ((o->standby_port || o->standby_datadir || o->hba_hostnames) && !o->standby_host)
		return errbuf_set(err, "Options -P, -S and --hba-hostnames apply to a create (-s) only.");
	if (o->standby_host && o->standby_host[0] == '\0')
		return errbuf_set(err, "option -s: the standby host must not be empty");
	return 0;
}
