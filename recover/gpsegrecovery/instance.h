/*
 * instance: the agent's verbs on an instance that is not being rebuilt: stop (fast shutdown,
 * then where its WAL ends: gprecoverseg -r), start (as it is configured), and update-hba (add
 * the missing pg_hba.conf lines). Each answers with one typed line, or an @error line.
 */
#ifndef SEGRECOVER_GPSEGRECOVERY_INSTANCE_H
#define SEGRECOVER_GPSEGRECOVERY_INSTANCE_H

#include "gpsegrecovery/args.h"

int agent_stop(const struct agent_args *a);
int agent_start(const struct agent_args *a);
int agent_update_hba(const struct agent_args *a);

#endif
