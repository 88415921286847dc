/* tablespace: the full strategy makes each mapped tablespace directory ready for the copy. */
#ifndef SEGRECOVER_FULL_TABLESPACE_H
#define SEGRECOVER_FULL_TABLESPACE_H

#include "base/tablespace.h"
#include "errbuf.h"
#include "full/syncer.h"

/*
 * Create the mapped directory (0700, with missing parents), which must be empty or absent, and
 * record it and its parent for the final fsync. Then link DATADIR/pg_tblspc/<oid> to it before
 * any data arrives, so that a copy killed while it fills the tablespace leaves a directory the
 * next run recognizes as the target's own and empties with the data directory.
 */
int full_tablespace_prepare(const struct tablespace *ts, const char *datadir,
			    struct full_syncer *syncer, struct errbuf *err);

#endif
