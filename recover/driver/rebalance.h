/*
 * rebalance: gprecoverseg -r. Every pair whose mirror acts as its primary gets its preferred roles
 * back: stop the acting primary (fast), check the mirror received all its WAL, promote the mirror,
 * recover the stopped one incrementally as its mirror, mark the pair in sync.
 */
#ifndef SEGRECOVER_REBALANCE_H
#define SEGRECOVER_REBALANCE_H

#include <stdbool.h>

#include "coordinator.h"
#include "driver/dispatch.h"

struct rebalance_options {
	bool yes;                   /* do not ask */
	int parallel;               /* pairs switched at once */
	double replay_lag_gb;       /* a mirror further behind stops the rebalance */
	bool disable_replay_lag;
	bool hba_hostnames;         /* for the recoveries that follow */
	struct dispatch_options recovery; /* how the stopped primaries are recovered as mirrors */
};

/* Returns the exit status: 0 balanced (or nothing to do), 1 pairs left unbalanced, 2 unusable. */
int rebalance_run(struct coordinator *coord, const struct rebalance_options *opts,
		  const char *progress_file);

#endif
