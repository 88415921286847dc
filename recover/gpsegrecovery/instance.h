/*
 * instance: the agent's verbs on an instance that is not being rebuilt: stop (fast shutdown,
 * then where its WAL ends: gprecoverseg -r), start (as it is configured), and update-hba (add
 * the missing pg_hba.conf lines), remove (gpinitstandby -r). Each answers with one typed line, or an @error line.
 */
#ifndef SEGRECOVER_GPSEGRECOVERY_INSTANCE_H
#define SEGRECOVER_GPSEGRECOVERY_INSTANCE_H

#include "gpsegrecovery/args.h"

int agent_stop(const struct agent_args *a);
int agent_start(const struct agent_args *a);
int agent_update_hba(const struct agent_args *a);

/*
 * remove: the guard on the directory (--protect: every other instance), a fast shutdown of the
 * instance running in it (only when it listens on --target-port), then the directory goes —
 * only a PostgreSQL data directory, a copy of ours left unfinished, or an empty one. A missing
 * directory is already removed (@removed existed=no).
 */
int agent_remove(struct agent_args *a);

#endif
