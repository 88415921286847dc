/*
 * rebalance: gprecoverseg -r. Every pair whose mirror acts as its primary gets its preferred roles
 * back: stop the acting primary (fast), check the mirror received all its WAL, promote the mirror,
 * recover the stopped one incrementally as its mirror, mark the pair in sync.
 */
#ifndef SEGRECOVER_REBALANCE_H
#define SEGRECOVER_REBALANCE_H

#include "coordinator.h"
#include "recoverseg_options.h"

/* Returns the exit status: 0 balanced (or nothing to do), 1 pairs left unbalanced, 2 unusable. */
int rebalance_run(struct coordinator *coord, const struct recoverseg_options *opts,
		  const char *progress_file);

#endif
