/* plan: one row per failed instance to recover: its source, strategy and target location. */
#ifndef SEGRECOVER_PLAN_H
#define SEGRECOVER_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "driver/recoverconf.h"
#include "errbuf.h"
#include "strategy.h"

/* New locations get a port from here to 65535 (below is privileged). */
#define PLAN_MIN_PORT 1024

/* What shapes a plan. */
struct plan_options {
	bool full;               /* every row a full copy */
	bool differential;       /* every in-place row a differential copy */
	const char *strategy;    /* one strategy (built-in or plugin) for every row, or NULL */
	const char *new_hosts;   /* recover every failed host's instances to these, comma-separated */
	const char *input_file;  /* the recovery configuration file's name, for messages */
	long max_rate_kbps;      /* shown in the plan; 0 unlimited */
	const char *compression; /* "auto" (or NULL), "none", "lz4", "zstd": see plan_row */
};

struct plan_row {
	const struct segment *failed; /* the catalog row (status 'd') */
	const struct segment *source; /* the acting primary of the content (status 'u') */
	struct segment target;        /* where the instance will live: the failed row, or a new location */
	bool relocated;
	char strategy[256];           /* its name: a built-in's, or a plugin's name or path */
	const struct strategy *s;     /* the strategy itself, resolved when the plan is made */
	/*
	 * What the source compresses a copy with, for a strategy that can ("none", "lz4", "zstd").
	 * "auto" chose lz4 when the source is on another host: there the link, not the disk, is
	 * the limit, and lz4 at level 1 outruns a 10 Gbit/s link on one core; on the same host it
	 * would only cost CPU. Resolved for every row, since --fallback may turn one into a copy.
	 */
	char compression[8];
	bool estimated;               /* the strategy told what it would move: */
	uint64_t estimate_bytes;      /* this many bytes */
	bool estimate_skipped;        /* -a and an estimate that reads as much as the copy */
	uint64_t estimate_replay;     /* WAL its mirror replays after the copy (0 unknown) */
	char estimate_method[112];    /* how, in the strategy's words ("" none) */
};

struct plan {
	struct plan_row *rows;
	size_t nrows;
};

/*
 * Build the plan from the catalog and the options (conf is the parsed -i file, or NULL).
 * Errors use Greenplum's wording where it has one ("Primary segment is not up for content %d",
 * "A segment to recover was not found in configuration. This segment is described by ...",
 * "Not enough new recovery hosts given for recovery.").
 */
int plan_build(const struct catalog *cat, const struct plan_options *opts,
	       const struct recoverconf *conf, struct plan *out, struct errbuf *err);
void plan_free(struct plan *plan);

/* Do two instances sit on one host (hostname or address of either matches the other's)? */
bool plan_same_host(const struct segment *a, const struct segment *b);

/*
 * Drop the rows whose target host does not resolve, with Greenplum's warning, so that the
 * others go on (Greenplum skips them too). Returns how many were dropped.
 */
size_t plan_skip_unresolvable(struct plan *plan);

/* Drop every row whose failed instance is not one of DBIDS (rebalance recovers only its own). */
void plan_keep_only(struct plan *plan, const int *dbids, size_t ndbids);

/* Greenplum's "instance recovery parameters" display, through the log. */
void plan_display(const struct plan *plan, const struct plan_options *opts);

#endif
