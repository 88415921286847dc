/* plan: one row per failed instance to recover: its source, strategy and target location. */
#ifndef SEGRECOVER_PLAN_H
#define SEGRECOVER_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "catalog.h"
#include "errbuf.h"
#include "recoverconf.h"
#include "recoverseg_options.h"

/* New locations get a port from here to 65535 (below is privileged). */
#define PLAN_MIN_PORT 1024

/* The strategy used when neither -F nor --differential nor --strategy is given. */
#define PLAN_DEFAULT_STRATEGY "incremental"

struct plan_row {
	const struct segment *failed; /* the catalog row (status 'd') */
	const struct segment *source; /* the acting primary of the content (status 'u') */
	struct segment target;        /* where the instance will live: the failed row, or a new location */
	bool relocated;
	char strategy[256];           /* "full", "incremental", or a plugin name/path */
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
int plan_build(const struct catalog *cat, const struct recoverseg_options *opts,
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
void plan_display(const struct plan *plan, const struct recoverseg_options *opts);

/* "Full", "Incremental", "Differential", or the strategy's own name. */
const char *plan_type_label(const char *strategy);
/* "full", "incremental", "differential" or the name: the type field of recovery_progress.file. */
const char *plan_type_key(const char *strategy);

#endif
