/* log: Greenplum's gplog line format, written to the console and to ~/gpAdminLogs/PROGRAM_YYYYMMDD.log. */
#ifndef SEGRECOVER_LOG_H
#define SEGRECOVER_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "errbuf.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERROR, LOG_CRITICAL };

enum log_verbosity { LOG_QUIET = -1, LOG_NORMAL = 0, LOG_VERBOSE = 1 };

/*
 * Set up logging for one program run. logdir NULL means ~/gpAdminLogs (created if missing).
 * When the log file cannot be opened, logging goes on to the console only and err says why;
 * the caller decides whether that is fatal (it usually is not).
 */
int log_init(const char *program, const char *logdir, enum log_verbosity verbosity,
	     struct errbuf *err);
void log_close(void);

/* Console stream for log lines: stdout by default; gpsegrecovery uses stderr, its stdout is a protocol. */
void log_set_console(FILE *stream);
void log_set_verbosity(enum log_verbosity verbosity);
enum log_verbosity log_get_verbosity(void);

/* Called before each console line, e.g. to clear an in-place progress display. */
void log_set_console_hook(void (*hook)(void));
/* Called after each console line, e.g. to draw the progress display again at once. */
void log_set_console_after_hook(void (*hook)(void));

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_critical(...) log_msg(LOG_CRITICAL, __VA_ARGS__)

const char *log_file_path(void);
/* NAME in the log file's directory (~/gpAdminLogs or -l), malloc'd; NULL without a log file. */
char *log_dir_file(const char *name);
const char *log_program(void);

/*
 * Format one line without its newline: "YYYYMMDD:HH:MM:SS:pid program:host:user-[LEVEL]:-msg".
 * Pure, so that the format is unit-tested.
 */
void log_format_line(char *out, size_t outlen, time_t when, pid_t pid, const char *program,
		     const char *host, const char *user, enum log_level level, const char *msg);
const char *log_level_name(enum log_level level);

#endif
