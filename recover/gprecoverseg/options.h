/* options: gprecoverseg's command line, with Greenplum's option names and conflict rules. */
#ifndef SEGRECOVER_RECOVERSEG_OPTIONS_H
#define SEGRECOVER_RECOVERSEG_OPTIONS_H

#include <stdbool.h>

#include "errbuf.h"
#include "log.h"
#include "strbuf.h"

#define RECOVERSEG_DEFAULT_B 16   /* -B: instances recovered at once */
#define RECOVERSEG_MAX_B 64
#define RECOVERSEG_DEFAULT_b 64   /* -b: instances per host at once */
#define RECOVERSEG_MAX_b 128
#define RECOVERSEG_DEFAULT_REPLAY_LAG_GB 10.0

struct recoverseg_options {
	bool full;               /* -F */
	bool differential;       /* --differential */
	bool yes;                /* -a: do not ask */
	int parallel;            /* -B */
	int per_host;            /* -b */
	const char *input_file;  /* -i */
	const char *output_file; /* -o */
	const char *new_hosts;   /* -p h1,h2 (as given) */
	bool sequential_progress;/* -s */
	bool no_progress;        /* --no-progress */
	const char *logdir;      /* -l */
	enum log_verbosity verbosity; /* -v / -q */
	const char *coordinator_datadir; /* -d */
	long max_rate_kbps;      /* --max-rate, 0 = unlimited */
	const char *compression; /* --compress: "auto" (the default), "none", "lz4" or "zstd" */
	bool hba_hostnames;      /* --hba-hostnames */
	bool rebalance;          /* -r */
	double replay_lag_gb;    /* --replay-lag (default 10) */
	bool replay_lag_given;
	bool disable_replay_lag; /* --disable-replay-lag */
	bool fallback;           /* --fallback: full recovery for a segment whose incremental failed */
	const char *strategy;    /* --strategy NAME: a built-in or a plugin; NULL = by the rules */
	bool help;               /* -h / -? / --help: usage printed, exit 0 */
	bool version;            /* --version */
};

/*
 * Parse argv into opts (defaults filled in). On a bad option, a bad value or a conflict, returns
 * -1 with Greenplum's message in err (e.g. "Only one of -i, -p and -r may be specified");
 * the caller prints "gprecoverseg: error: <msg>" and exits 2. Warnings for options that are
 * ignored in a combination (e.g. --max-rate with -o) go to warnings (one per line).
 */
int recoverseg_parse_options(int argc, char **argv, struct recoverseg_options *opts,
			     struct strbuf *warnings, struct errbuf *err);

/* --max-rate value: a number with an optional k (kB/s, the default unit) or M suffix; 32 .. 1048576 kB/s. */
int recoverseg_parse_rate(const char *text, long *kbps, struct errbuf *err);

void recoverseg_usage(void);

#endif
