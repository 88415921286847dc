/*
 * tablespace: where a strategy puts a tablespace of the source on the target.
 *
 * Greenplum keeps every instance's tablespace data in a per-dbid directory below the location
 * given to CREATE TABLESPACE: the source's directory ends in "/<source dbid>", and the target's
 * is the same path ending in "/<target dbid>". PostgreSQL replays CREATE TABLESPACE by path, so
 * two instances on one host can never share a location; a location without the per-dbid suffix
 * is therefore only acceptable when the target is on another host (it is kept as is).
 */
#ifndef SEGRECOVER_BASE_TABLESPACE_H
#define SEGRECOVER_BASE_TABLESPACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "errbuf.h"

struct recovery;

/* One tablespace of the source and where it goes on the target. */
struct tablespace {
	unsigned oid;
	char *source_location;
	char *target_location;
	uint64_t size_kb; /* the server's estimate, 0 if unknown */
};

/* Equal paths, ignoring trailing slashes. */
bool tablespace_same_location(const char *a, const char *b);

/*
 * The target location of a tablespace the source has at LOCATION (malloc'd into *target), or
 * -1 with err: LOCATION is not absolute, or does not end in "/<source_dbid>" while the source
 * is on this host (source_local), or the result would be the source's own directory.
 */
int tablespace_map(const char *location, unsigned oid, int source_dbid, int dbid,
		   bool source_local, char **target, struct errbuf *err);

/*
 * The mapped location must not be inside the target's data directory (the wipe and the copy
 * own that tree), nor, when the source is on this host, overlap the source's (invariant 1).
 */
int tablespace_check_place(const struct tablespace *ts, const char *target_datadir,
			   const char *source_datadir, bool source_local, struct errbuf *err);

/* The mapped directory must be empty or absent (a read-only check). */
int tablespace_check_empty(const struct tablespace *ts, struct errbuf *err);

/*
 * The source's tablespaces (not pg_default/pg_global) over CONN, each mapped for R's target and
 * checked in place. With check_empty, every mapped directory must be empty or absent, or be
 * the target's own (its pg_tblspc/<oid> link points there).
 */
int tablespace_list_source(PGconn *conn, const struct recovery *r, bool check_empty,
			   struct tablespace **out, size_t *nout, struct errbuf *err);

void tablespaces_free(struct tablespace *ts, size_t n);

#endif
