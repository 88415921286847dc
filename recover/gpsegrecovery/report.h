/*
 * report: how the agent tells gprecoverseg what went wrong: one @error line on stdout and the
 * same in its log, naming the instance by dbid, its real address, port and data directory;
 * and the line it leaves when it is told to stop (its pipe closed, SIGTERM).
 */
#ifndef SEGRECOVER_GPSEGRECOVERY_REPORT_H
#define SEGRECOVER_GPSEGRECOVERY_REPORT_H

#include "strategy.h"

/* The instance this agent works on, for every message and for the stop line. */
void report_set_instance(int dbid, const char *address, int port, const char *datadir);

/* An @error line for STEP and the log line; returns EXIT_FAILED. */
int report_failure(const char *step, enum strategy_remedy remedy, const char *msg);

/*
 * Stop now, from a signal handler or the stdin watcher: the @error line "step=interrupted",
 * then the agent's whole process group (it leads one under gprecoverseg) ends with SIGTERM.
 * Async-signal-safe.
 */
void report_stop_now(const char *why);

#endif
