/* tablespace: the full strategy makes each mapped tablespace directory ready for the copy. */
#ifndef SEGRECOVER_FULL_TABLESPACE_H
#define SEGRECOVER_FULL_TABLESPACE_H

#include "base/tablespace.h"
#include "errbuf.h"
#include "full/syncer.h"

/*
 * Create the mapped directory (0700, with missing parents), which must be empty or absent, and
 * record it and its parent for the final fsync.
 */
int full_tablespace_prepare(const struct tablespace *ts, struct full_syncer *syncer,
			    struct errbuf *err);

#endif
