/*
 * tablespace: where the full strategy puts a tablespace of the source on the target.
 *
 * Greenplum keeps every instance's tablespace data in a per-dbid directory below the location
 * given to CREATE TABLESPACE: the source's directory ends in "/<source dbid>", and the target's
 * is the same path ending in "/<target dbid>". PostgreSQL replays CREATE TABLESPACE by path, so
 * two instances on one host can never share a location; a location without the per-dbid suffix
 * is therefore only acceptable when the target is on another host (it is kept as is).
 */
#ifndef SEGRECOVER_FULL_TABLESPACE_H
#define SEGRECOVER_FULL_TABLESPACE_H

#include <stdbool.h>
#include <stddef.h>

#include "errbuf.h"
#include "full/extract.h"
#include "full/syncer.h"

/* Equal paths, ignoring trailing slashes. */
bool full_same_location(const char *a, const char *b);

/*
 * The target location of a tablespace the source has at LOCATION (malloc'd into *target), or
 * -1 with err: LOCATION is not absolute, or does not end in "/<source_dbid>" while the source
 * is on this host (source_local), or the result would be the source's own directory.
 */
int full_tablespace_map(const char *location, unsigned oid, int source_dbid, int dbid,
			bool source_local, char **target, struct errbuf *err);

/* Is PATH equal to DIR or below it (by name, ignoring trailing slashes)? */
bool full_path_is_under(const char *path, const char *dir);

/*
 * The mapped location must not be inside the target's data directory (the wipe and base.tar
 * own that tree), nor, when the source is on this host, inside the source's (invariant 1).
 */
int full_tablespace_check_place(const struct full_tablespace *ts, const char *target_datadir,
				const char *source_datadir, bool source_local, struct errbuf *err);

/* The mapped directory must be empty or absent (a read-only check, for check() and run()). */
int full_tablespace_check_empty(const struct full_tablespace *ts, struct errbuf *err);

/*
 * Create the mapped directory (0700, with missing parents), which must be empty or absent, and
 * record it and its parent for the final fsync.
 */
int full_tablespace_prepare(const struct full_tablespace *ts, struct full_syncer *syncer,
			    struct errbuf *err);

void full_tablespaces_free(struct full_tablespace *ts, size_t n);

#endif
