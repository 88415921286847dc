/* options: gpinitstandby's command line, with Greenplum's option names, rules and messages. */
#ifndef SEGRECOVER_GPINITSTANDBY_OPTIONS_H
#define SEGRECOVER_GPINITSTANDBY_OPTIONS_H

#include <stdbool.h>

#include "errbuf.h"
#include "log.h"

struct initstandby_options {
	const char *standby_host;    /* -s: create */
	long standby_port;           /* -P (0: the coordinator's) */
	const char *standby_datadir; /* -S (NULL: the coordinator's path) */
	bool start;                  /* -n: start the configured standby */
	bool remove;                 /* -r */
	bool hba_hostnames;          /* --hba-hostnames */
	bool yes;                    /* -a */
	const char *logdir;          /* -l */
	enum log_verbosity verbosity;/* -q / -D */
	bool help, version;
};

/*
 * Parse argv. Returns 0, or -1 with Greenplum's message in err ("Options -s and -n cannot be
 * specified together.", "No action provided in the options.", ...): the caller exits 2.
 */
int initstandby_parse_options(int argc, char **argv, struct initstandby_options *o,
			      struct errbuf *err);
void initstandby_usage(void);

#endif
