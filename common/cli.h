/* cli: what every command does first (become the cluster owner, open the log) and last. */
#ifndef SEGRECOVER_CLI_H
#define SEGRECOVER_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "log.h"

#define SEGRECOVER_VERSION "0.1.0"

/* Greenplum's exit codes. */
#define EXIT_OK 0
#define EXIT_FAILED 1   /* the work failed, or something needs attention */
#define EXIT_USAGE 2    /* bad arguments, configuration or environment */
#define EXIT_ABORTED 4  /* the user answered no */

/*
 * Switch from root to the cluster owner, then open ~/gpAdminLogs/PROGRAM_YYYYMMDD.log (or logdir)
 * and log "Starting PROGRAM with args: ...". Returns EXIT_OK or an exit code after printing why.
 */
int cli_start(const char *program, int argc, char **argv, const char *logdir,
	      enum log_verbosity verbosity);

/*
 * After getopt_long (with a leading ':' in its option string and optopt cleared before each
 * call) returned '?' or ':': true when it was "-?" (Greenplum's help), else the message for
 * the bad option, in MSG.
 */
bool cli_getopt_help_or_error(int c, char **argv, char *msg, size_t len);

/* Parse a decimal integer option within [min, max]; false (and a message printed) otherwise. */
bool cli_parse_int(const char *program, const char *option, const char *text, long min, long max,
		   long *out);

/* Greenplum's prompt: "QUESTION Yy|Nn (default=N):"; true only for an answer starting with y. */
bool cli_confirm(const char *question);

/* "gpstate: error: <msg>" on stderr plus a hint to use --help; returns EXIT_USAGE. */
int cli_usage_error(const char *program, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
