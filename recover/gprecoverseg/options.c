/*
 * recoverseg_options: gprecoverseg's command line. Option names, defaults, ranges and the
 * conflict messages are Greenplum's (GpRecoverSegmentProgram.createParser and
 * validateRecoveryParams in clsRecoverSegment.py); --fallback and --strategy are segrecover's.
 */
#include "gprecoverseg/options.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RATE_MIN_KBPS 32L
#define RATE_MAX_KBPS 1048576L

enum {
	OPT_DIFFERENTIAL = 256,
	OPT_NO_PROGRESS,
	OPT_MAX_RATE,
	OPT_HBA_HOSTNAMES,
	OPT_REPLAY_LAG,
	OPT_DISABLE_REPLAY_LAG,
	OPT_FALLBACK,
	OPT_STRATEGY,
	OPT_COMPRESS,
	OPT_VERSION,
};

static const struct option long_options[] = {
	{ "differential", no_argument, NULL, OPT_DIFFERENTIAL },
	{ "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "master_data_directory", required_argument, NULL, 'd' },
	{ "coordinator_data_directory", required_argument, NULL, 'd' },
	{ "max-rate", required_argument, NULL, OPT_MAX_RATE },
	{ "hba-hostnames", no_argument, NULL, OPT_HBA_HOSTNAMES },
	{ "replay-lag", required_argument, NULL, OPT_REPLAY_LAG },
	{ "disable-replay-lag", no_argument, NULL, OPT_DISABLE_REPLAY_LAG },
	{ "fallback", no_argument, NULL, OPT_FALLBACK },
	{ "strategy", required_argument, NULL, OPT_STRATEGY },
	{ "compress", required_argument, NULL, OPT_COMPRESS },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

/*
 * '+': stop at the first non-option (so argv is never permuted and a positional argument is
 * reported); ':': a missing argument returns ':' and nothing is printed by getopt.
 */
static const char short_options[] = "+:FaB:b:i:o:p:sl:vqd:rh";

/* The name of an option code, for messages. */
static const char *option_name(int code)
{
	static char shortname[3];

	if (code >= 256) {
		for (const struct option *o = long_options; o->name; o++)
			if (o->val == code) {
				static char longname[64];

				snprintf(longname, sizeof(longname), "--%s", o->name);
				return longname;
			}
	}
	shortname[0] = '-';
	shortname[1] = (char) code;
	shortname[2] = '\0';
	return shortname;
}

/* A decimal integer that fits an int; false for anything else. */
static bool parse_int(const char *text, int *out)
{
	char *end;
	long value;

	errno = 0;
	value = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || value < -2147483647L - 1 ||
	    value > 2147483647L)
		return false;
	*out = (int) value;
	return true;
}

/* -p h1,h2: comma-separated host names, none empty, no whitespace. */
static int check_hosts(const char *hosts, struct errbuf *err)
{
	const char *p = hosts;

	if (*hosts == '\0')
		return errbuf_set(err, "Invalid value for recover hosts: -p needs at least one host "
				       "name");
	for (const char *c = hosts; *c; c++)
		if (*c == ' ' || *c == '\t' || *c == '\n' || *c == '\r' || *c == '\v' || *c == '\f')
			return errbuf_set(err, "Invalid value for recover hosts: '%s' contains white "
					       "space; give the hosts as h1,h2 without spaces",
					  hosts);
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t) (comma - p) : strlen(p);

		if (len == 0)
			return errbuf_set(err, "Invalid value for recover hosts: '%s' has an empty "
					       "host name",
					  hosts);
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return 0;
}

int recoverseg_parse_rate(const char *text, long *kbps, struct errbuf *err)
{
	const char *p = text;
	int digits = 0;
	char unit = 'k';
	double value;
	char *end;

	while (*p >= '0' && *p <= '9') {
		p++;
		digits++;
	}
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9') {
			p++;
			digits++;
		}
	}
	if (digits == 0 || (p[0] != '\0' && p[1] != '\0'))
		return errbuf_set(err, "transfer rate %s is not a valid value: --max-rate takes a "
				       "number with an optional k (kB/s, the default) or M (MB/s) "
				       "suffix, e.g. 500k or 1.5M",
				  text);
	if (*p != '\0') {
		if (*p != 'k' && *p != 'M')
			return errbuf_set(err, "Invalid --max-rate unit: %c (use k for kB/s or M for "
					       "MB/s)",
					  *p);
		unit = *p;
	}
	errno = 0;
	value = strtod(text, &end);
	if (errno != 0 || end != p || !isfinite(value))
		return errbuf_set(err, "transfer rate %s is not a valid value", text);
	if (unit == 'M')
		value *= 1024.0;
	if (value < (double) RATE_MIN_KBPS || value > (double) RATE_MAX_KBPS)
		return errbuf_set(err, "transfer rate %s is out of range: --max-rate must be between "
				       "32k (32 kB/s) and 1024M (1048576 kB/s)",
				  text);
	*kbps = (long) (value + 0.5); /* positive: rounds to the nearest kB/s, no libm */
	return 0;
}

static void set_defaults(struct recoverseg_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->parallel = RECOVERSEG_DEFAULT_B;
	opts->per_host = RECOVERSEG_DEFAULT_b;
	opts->verbosity = LOG_NORMAL;
	opts->replay_lag_gb = RECOVERSEG_DEFAULT_REPLAY_LAG_GB;
	opts->compression = "auto";
}

static int nonempty(const char *opt, const char *value, struct errbuf *err)
{
	if (value[0] == '\0')
		return errbuf_set(err, "option %s: the value must not be empty", opt);
	return 0;
}

/* The value of one option into opts; -1 with a message naming the option and the value. */
static int take_option(int c, const char *arg, struct recoverseg_options *opts,
		       bool *verbose_given, bool *quiet_given, struct errbuf *err)
{
	switch (c) {
	case 'F':
		opts->full = true;
		break;
	case OPT_DIFFERENTIAL:
		opts->differential = true;
		break;
	case 'a':
		opts->yes = true;
		break;
	case 'B':
		if (!parse_int(arg, &opts->parallel))
			return errbuf_set(err, "option -B: invalid integer value: '%s'", arg);
		if (opts->parallel < 1 || opts->parallel > RECOVERSEG_MAX_B)
			return errbuf_set(err, "Invalid parallelDegree value provided with -B "
					       "argument: %d",
					  opts->parallel);
		break;
	case 'b':
		if (!parse_int(arg, &opts->per_host))
			return errbuf_set(err, "option -b: invalid integer value: '%s'", arg);
		if (opts->per_host < 1 || opts->per_host > RECOVERSEG_MAX_b)
			return errbuf_set(err, "Invalid parallelPerHost value provided with -b "
					       "argument: %d",
					  opts->per_host);
		break;
	case 'i':
		opts->input_file = arg;
		return nonempty("-i", arg, err);
	case 'o':
		opts->output_file = arg;
		return nonempty("-o", arg, err);
	case 'p':
		opts->new_hosts = arg;
		return check_hosts(arg, err);
	case 's':
		opts->sequential_progress = true;
		break;
	case OPT_NO_PROGRESS:
		opts->no_progress = true;
		break;
	case 'l':
		opts->logdir = arg;
		return nonempty("-l", arg, err);
	case 'v':
		opts->verbosity = LOG_VERBOSE;
		*verbose_given = true;
		break;
	case 'q':
		opts->verbosity = LOG_QUIET;
		*quiet_given = true;
		break;
	case 'd':
		opts->coordinator_datadir = arg;
		return nonempty("-d", arg, err);
	case OPT_MAX_RATE:
		if (recoverseg_parse_rate(arg, &opts->max_rate_kbps, err) != 0)
			return errbuf_prefix(err, "option --max-rate");
		break;
	case OPT_HBA_HOSTNAMES:
		opts->hba_hostnames = true;
		break;
	case OPT_COMPRESS:
		if (strcmp(arg, "auto") != 0 && strcmp(arg, "none") != 0 && strcmp(arg, "lz4") != 0 &&
		    strcmp(arg, "zstd") != 0)
			return errbuf_set(err, "option --compress: invalid choice: '%s' (choose from "
					       "'auto', 'none', 'lz4', 'zstd')",
					  arg);
		opts->compression = arg;
		break;
	case 'r':
		opts->rebalance = true;
		break;
	case OPT_REPLAY_LAG: {
		char *end;
		double gb;

		errno = 0;
		gb = strtod(arg, &end);
		if (errno != 0 || end == arg || *end != '\0' || !isfinite(gb))
			return errbuf_set(err, "option --replay-lag: invalid floating-point value: "
					       "'%s'",
					  arg);
		if (gb <= 0)
			return errbuf_set(err, "option --replay-lag: '%s' is out of range: the allowed "
					       "replay lag must be greater than 0 GB",
					  arg);
		opts->replay_lag_gb = gb;
		opts->replay_lag_given = true;
		break;
	}
	case OPT_DISABLE_REPLAY_LAG:
		opts->disable_replay_lag = true;
		break;
	case OPT_FALLBACK:
		opts->fallback = true;
		break;
	case OPT_STRATEGY:
		opts->strategy = arg;
		return nonempty("--strategy", arg, err);
	default:
		return errbuf_set(err, "option %s is not handled", option_name(c));
	}
	return 0;
}

/* getopt said '?' or ':'; say which option, the way optparse does. */
static int option_error(int c, int argc, char **argv, struct errbuf *err)
{
	const char *word = optind >= 1 && optind - 1 < argc ? argv[optind - 1] : "";
	int namelen = (int) strcspn(word, "=");

	if (strncmp(word, "--", 2) == 0 && strlen(word) > 2) {
		if (c == ':')
			return errbuf_set(err, "%.*s option requires an argument", namelen, word);
		if (optopt != 0)
			return errbuf_set(err, "%.*s option does not take a value", namelen, word);
		/* Unknown, or an abbreviation of more than one option. */
		int matches = 0;

		for (const struct option *o = long_options; o->name; o++)
			if (strncmp(o->name, word + 2, (size_t) namelen - 2) == 0)
				matches++;
		if (matches > 1)
			return errbuf_set(err, "ambiguous option: %.*s", namelen, word);
		return errbuf_set(err, "no such option: %.*s", namelen, word);
	}
	if (c == ':')
		return errbuf_set(err, "%s option requires an argument", option_name(optopt));
	return errbuf_set(err, "no such option: %s", option_name(optopt));
}

/* Greenplum's validateRecoveryParams, in its order, plus segrecover's own options. */
static int check_conflicts(struct recoverseg_options *opts, bool verbose_given,
			   bool quiet_given, struct strbuf *warnings, struct errbuf *err)
{
	int where = (opts->input_file != NULL) + (opts->new_hosts != NULL) + opts->rebalance;

	if (where > 1)
		return errbuf_set(err, "Only one of -i, -p and -r may be specified");
	if ((opts->new_hosts || opts->rebalance) && opts->differential)
		return errbuf_set(err, "Only one of -p, -r and --differential may be specified");
	if (opts->full && opts->differential)
		return errbuf_set(err, "Only one of -F and --differential may be specified");
	if (opts->differential && opts->output_file)
		return errbuf_set(err, "Invalid -o provided with --differential argument");
	if (opts->input_file && opts->output_file)
		return errbuf_set(err, "Invalid -i provided with -o argument");
	if (opts->rebalance && opts->output_file)
		return errbuf_set(err, "Invalid -r provided with -o argument");
	if (opts->disable_replay_lag && !opts->rebalance)
		return errbuf_set(err, "--disable-replay-lag should be used only with -r");
	if (opts->replay_lag_given && !opts->rebalance)
		return errbuf_set(err, "--replay-lag should be used only with -r");
	if (opts->replay_lag_given && opts->disable_replay_lag)
		return errbuf_set(err, "Only one of --replay-lag and --disable-replay-lag may be "
				       "specified");
	if (opts->full && opts->rebalance)
		return errbuf_set(err, "-F option is not supported with -r option");
	if (opts->full && opts->new_hosts)
		return errbuf_set(err, "-F option is not supported with -p option");
	if (opts->strategy && (opts->full || opts->differential))
		return errbuf_set(err, "--strategy cannot be combined with -F or --differential");
	if (opts->fallback && (opts->full || opts->differential || opts->rebalance ||
			       opts->output_file)) {
		const char *with = opts->full		? "-F"
				   : opts->differential ? "--differential"
				   : opts->rebalance	? "-r"
							: "-o";

		return errbuf_set(err, "--fallback cannot be combined with %s (--fallback means "
				       "incremental recovery first, differential recovery if that fails)",
				  with);
	}
	if (verbose_given && quiet_given)
		return errbuf_set(err, "Only one of -v and -q may be specified");

	if (opts->max_rate_kbps > 0 && (opts->output_file || opts->rebalance)) {
		strbuf_addf(warnings, "--max-rate is ignored with %s\n",
			    opts->output_file ? "-o" : "-r");
		opts->max_rate_kbps = 0;
	}
	return 0;
}

int recoverseg_parse_options(int argc, char **argv, struct recoverseg_options *opts,
			     struct strbuf *warnings, struct errbuf *err)
{
	bool verbose_given = false, quiet_given = false;
	int c;

	set_defaults(opts);
	errbuf_clear(err);
	/* GNU getopt: optind 0 reinitialises its state, so a test process can parse again. */
	optind = 0;
	opterr = 0;
	for (;;) {
		optopt = 0;
		c = getopt_long(argc, argv, short_options, long_options, NULL);
		if (c == -1)
			break;
		if (c == 'h' || (c == '?' && optopt == '?')) {
			/* Like optparse: help is printed as soon as it is seen. */
			opts->help = true;
			return 0;
		}
		if (c == OPT_VERSION) {
			opts->version = true;
			return 0;
		}
		if (c == '?' || c == ':')
			return option_error(c, argc, argv, err);
		if (take_option(c, optarg, opts, &verbose_given, &quiet_given, err) != 0)
			return -1;
	}
	if (optind < argc)
		return errbuf_set(err, "too many arguments: only options may be specified");
	return check_conflicts(opts, verbose_given, quiet_given, warnings, err);
}

void recoverseg_usage(void)
{
	printf("gprecoverseg: Recovers a primary or mirror segment instance that has been marked "
	       "as down\n"
	       "(if mirroring is enabled), or rebalances the segments to their preferred roles.\n"
	       "\n"
	       "Usage:\n"
	       "  gprecoverseg [[-p host[,...]] | -i file] [-d coordinator_dir] [-b seg_batch]\n"
	       "               [-B batch] [-F [-s]] [-a] [-q] [--differential] [--hba-hostnames]\n"
	       "               [--no-progress] [-l logdir] [--max-rate rate] [--fallback]\n"
	       "               [--strategy name] [--compress method]\n"
	       "  gprecoverseg -r [--replay-lag GB | --disable-replay-lag]\n"
	       "  gprecoverseg -o file [-p host[,...]]\n"
	       "  gprecoverseg -? | -h | --help\n"
	       "  gprecoverseg --version\n"
	       "\n"
	       "Options:\n"
	       "  -a                          do not prompt for confirmation\n"
	       "  -B <parallelDegree>         max number of segments recovered at once (1-%d, "
	       "default %d)\n"
	       "  -b <parallelPerHost>        max number of segments per host at once (1-%d, "
	       "default %d)\n"
	       "  -d <dir>                    the coordinator data directory (default "
	       "$COORDINATOR_DATA_DIRECTORY)\n"
	       "  --coordinator_data_directory <dir>, --master_data_directory <dir>: the same as "
	       "-d\n"
	       "  -F                          full recovery: copy the whole data directory\n"
	       "  --differential              differential recovery in place: move only what differs\n"
	       "  --fallback                  incremental recovery first, differential if it fails\n"
	       "  --strategy <name>           recovery strategy (built-in or plugin) for every "
	       "segment\n"
	       "  -i <configFile>             recovery configuration file\n"
	       "  -o <configFile>             write a sample configuration file for -i and exit\n"
	       "  -p <targetHosts>            spare new hosts to recover the failed segments to "
	       "(h1,h2)\n"
	       "  -r                          rebalance: return segments to their preferred roles\n"
	       "  --replay-lag <GB>           allowed replay lag on the mirrors for -r (default "
	       "%g)\n"
	       "  --disable-replay-lag        skip the replay lag check of -r\n"
	       "  --hba-hostnames             use host names instead of CIDR addresses in "
	       "pg_hba.conf\n"
	       "  --max-rate <rate>           maximum transfer rate of a full recovery (32k-1024M, "
	       "kB/s by default)\n"
	       "  --compress <method>         the source compresses a full copy: auto (lz4 when the "
	       "source\n"
	       "                              is on another host, the default), none, lz4 or zstd\n"
	       "  -s                          show progress sequentially instead of in place\n"
	       "  --no-progress               do not show recovery progress\n"
	       "  -l <logdir>                 log file directory (default ~/gpAdminLogs)\n"
	       "  -v, --verbose               debug output\n"
	       "  -q, --quiet                 quiet mode: warnings and errors only\n"
	       "  -h, -?, --help              show this help and exit\n"
	       "  --version                   show the version and exit\n",
	       RECOVERSEG_MAX_B, RECOVERSEG_DEFAULT_B, RECOVERSEG_MAX_b, RECOVERSEG_DEFAULT_b,
	       RECOVERSEG_DEFAULT_REPLAY_LAG_GB);
}
