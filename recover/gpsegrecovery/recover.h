/*
 * recover: the agent's recover verb. Preflight (the guard, the port, the lock, a stale pid
 * file, the strategy's check), the wipe for a strategy that starts from nothing, the copy, the
 * standby configuration, start, and the wait until the new mirror streams.
 */
#ifndef SEGRECOVER_GPSEGRECOVERY_RECOVER_H
#define SEGRECOVER_GPSEGRECOVERY_RECOVER_H

#include "gpsegrecovery/args.h"

/* Returns the exit status; every failure has printed its @error line. */
int agent_recover(struct agent_args *a);

/*
 * The estimate verb: the strategy's own estimate of what recover would move (an @estimate
 * line), or nothing when it cannot know before it acts. Reads only.
 */
int agent_estimate(struct agent_args *a);

/* The helper verb: the strategy's helper body on stdin/stdout, next to the source data. */
int agent_helper(struct agent_args *a);

#endif
