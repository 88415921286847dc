/*
 * catalog: the cluster configuration (gp_segment_configuration on the coordinator): load it,
 * look instances up, validate it, and change it in one transaction. All catalog SQL lives here,
 * so that a real Greenplum catalog can be served by another implementation of this header.
 */
#ifndef SEGRECOVER_CATALOG_H
#define SEGRECOVER_CATALOG_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "errbuf.h"
#include "segment.h"

#define CATALOG_DBNAME "postgres"

struct catalog {
	struct segment *segs; /* sorted by content, then dbid */
	size_t nsegs;
};

int catalog_load(PGconn *coordinator, struct catalog *cat, struct errbuf *err);
void catalog_free(struct catalog *cat);

const struct segment *catalog_by_dbid(const struct catalog *cat, int dbid);
/* The instance of a content that currently has the role ('p' or 'm'); NULL if none. */
const struct segment *catalog_acting(const struct catalog *cat, int content, char role);
/* The other member of the pair; NULL for the coordinator without a standby. */
const struct segment *catalog_peer(const struct catalog *cat, const struct segment *seg);
/* The coordinator (content -1, role 'p') and its standby (content -1, role 'm'); NULL if none. */
const struct segment *catalog_coordinator(const struct catalog *cat);
const struct segment *catalog_standby(const struct catalog *cat);
/* Number of contents >= 0 (segments), i.e. highest content + 1. */
int catalog_ncontents(const struct catalog *cat);
/* True when at least one content has a mirror. */
int catalog_has_mirrors(const struct catalog *cat);

/*
 * Check the configuration is one we can act on: unique dbids; known role/mode/status letters;
 * exactly one coordinator primary; for each content exactly one primary and at most one mirror;
 * no two instances on one host with the same port or the same data directory; pair states
 * Greenplum allows (u,s,u,s), (u,n,u,n), (u,n,d,n). Every problem is named in err.
 */
int catalog_validate(const struct catalog *cat, struct errbuf *err);

/*
 * One change to one row. Fields left at 0/NULL are not changed. 'expect' is the row as it was
 * loaded: the update applies only if the row still has those role/status/mode values, so two
 * probes racing cannot both win.
 */
struct catalog_change {
	const struct segment *expect;
	char role;
	char mode;
	char status;
	int port;
	const char *hostname;
	const char *address;
	const char *datadir;
	const char *history; /* a line for gp_configuration_history */
};

/* Apply all changes in one transaction; nothing is changed if any row no longer matches. */
int catalog_apply(PGconn *coordinator, const struct catalog_change *changes, size_t nchanges,
		  struct errbuf *err);

/*
 * The standby coordinator's row, as Greenplum's gp_add_coordinator_standby records it: content
 * -1, role and preferred role 'm', mode 's', status 'u', the next free dbid; one transaction
 * with a history line. A row with exactly this host, port and data directory (left by an
 * earlier, interrupted run) is kept and its dbid returned; any other standby row is refused.
 */
int catalog_add_standby(PGconn *coordinator, const char *hostname, const char *address, int port,
			const char *datadir, int *dbid, struct errbuf *err);

/*
 * Remove the standby row DBID (content -1, role 'm'), with a history line on the coordinator's
 * row. *removed tells whether there was one: a row already gone is not an error.
 */
int catalog_remove_standby(PGconn *coordinator, int dbid, bool *removed, struct errbuf *err);

/*
 * On a promoted standby: in one transaction, remove the old coordinator's row (every other
 * content -1 row) and make row DBID role 'p' and preferred role 'p', keeping its dbid.
 * *changed is false when the catalog says so already (a second run).
 */
int catalog_activate_standby(PGconn *coordinator, int dbid, bool *changed, struct errbuf *err);

#endif
