/*
 * hostcheck: which of the hosts a plan names answer over ssh right now (all at once, through the
 * runner), so that an unreachable target stops the run before anything is done, as Greenplum's
 * "The following recovery target hosts are unreachable".
 */
#ifndef SEGRECOVER_DRIVER_HOSTCHECK_H
#define SEGRECOVER_DRIVER_HOSTCHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "driver/plan.h"

/*
 * Ask every distinct target host of PLAN (ssh HOST true; this host always answers). A new
 * location on an unreachable host is an error: its hosts are listed in UNREACHABLE (comma
 * separated) and -1 is returned. An instance recovered in place on an unreachable host is
 * dropped from the plan with a warning (Greenplum skips it too); *skipped counts them.
 */
int hostcheck_plan(struct plan *plan, char *unreachable, size_t len, size_t *skipped);

#endif
