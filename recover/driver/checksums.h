/*
 * checksums: Greenplum's heap checksum consistency check before a recovery. A mirror is a
 * physical copy of its primary, so the source of every copy must keep data checksums exactly
 * as the coordinator does; a difference stops the recovery before anything is done.
 */
#ifndef SEGRECOVER_DRIVER_CHECKSUMS_H
#define SEGRECOVER_DRIVER_CHECKSUMS_H

#include <libpq-fe.h>

#include "driver/plan.h"
#include "errbuf.h"

/*
 * SHOW data_checksums on the coordinator and on the source of every row of PLAN. 0 when they
 * all agree; -1 with every instance that differs (or could not be asked) named in err.
 */
int checksums_consistent(PGconn *coordinator, const struct plan *plan, struct errbuf *err);

#endif
