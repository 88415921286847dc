/* args: gpsegrecovery's command line: a verb, then its options. */
#ifndef SEGRECOVER_GPSEGRECOVERY_ARGS_H
#define SEGRECOVER_GPSEGRECOVERY_ARGS_H

#include <stdbool.h>

#include "log.h"
#include "targetguard.h"

enum agent_verb { VERB_RECOVER, VERB_ESTIMATE, VERB_STOP, VERB_START, VERB_UPDATE_HBA, VERB_HELPER,
		  VERB_REMOVE };

#define AGENT_MAX_HELPER_ARGS 32

struct agent_args {
	enum agent_verb verb;
	const char *type, *target_datadir, *target_address, *source_host, *source_datadir;
	long dbid, content, target_port, source_dbid, source_port, max_rate, start_timeout;
	bool force_overwrite, no_start, watch_stdin;
	struct target_guard guard; /* --protect; freed by the verb */
	const char *hba_file, *hba_entries;
	const char *helper_args[AGENT_MAX_HELPER_ARGS + 1]; /* helper: --helper-arg, in order */
	size_t nhelper_args;
	const char *compression; /* --compress lz4|zstd; NULL for none */
	const char *progress_file; /* --progress-file NAME: kept in the log directory */
	const char *logdir;
	enum log_verbosity verbosity;
};

/*
 * Parse argv into A (defaults filled in). Returns EXIT_OK, or EXIT_USAGE with the message
 * printed. -h prints the usage and exits 0.
 */
int agent_parse_args(int argc, char **argv, struct agent_args *a);

#endif
