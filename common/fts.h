/*
 * fts: the fault probe's logic, the one place that decides role, status and mode transitions.
 * gpfts runs it on every content; gprecoverseg runs it on a recovered content to mark it in sync.
 */
#ifndef SEGRECOVER_FTS_H
#define SEGRECOVER_FTS_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "catalog.h"
#include "errbuf.h"

struct fts_options {
	int connect_timeout; /* seconds for one connection attempt */
	int retries;         /* attempts before an instance counts as down */
	int retry_delay_ms;  /* pause between attempts */
	int sync_timeout;    /* seconds to wait for 'sync' after switching synchronous replication on */
};

#define FTS_OPTIONS_DEFAULT { .connect_timeout = 5, .retries = 5, .retry_delay_ms = 1000, .sync_timeout = 30 }

/* Where a mirror now lives, when gprecoverseg moved it (recorded when the pair is marked in sync). */
struct fts_relocation {
	int dbid;
	const char *hostname;
	const char *address;
	int port;
	const char *datadir;
};

enum fts_verdict {
	FTS_PAIR_IN_SYNC,     /* both up, synchronized */
	FTS_PAIR_MIRROR_DOWN, /* primary up alone, synchronous replication off */
	FTS_PAIR_FAILED_OVER, /* the mirror was promoted this time */
	FTS_PAIR_DOUBLE_FAULT,/* no usable primary: never failed over */
	FTS_PAIR_UNCHANGED,   /* nothing decided (e.g. primary in crash recovery, or no mirror) */
	FTS_PAIR_ERROR,       /* the probe itself failed; err says why */
};

struct fts_summary {
	int contents;
	int changes;
	int double_faults;
	int errors;
};

/*
 * Probe one content (its primary and mirror) and apply what the probe decides, through the
 * catalog in one transaction. relocation may be NULL.
 */
enum fts_verdict fts_probe_content(PGconn *coordinator, const struct catalog *cat, int content,
				   const struct fts_options *opts,
				   const struct fts_relocation *relocation, struct errbuf *err);

/* Probe every content once; every decision and every problem is logged with its instance. */
int fts_probe_all(PGconn *coordinator, const struct fts_options *opts, struct fts_summary *summary,
		  struct errbuf *err);

/*
 * Rebalance: the acting primary of CONTENT was stopped on purpose and its mirror has all of its
 * WAL. Promote the mirror and record the swap exactly as a failover (FTS_PAIR_FAILED_OVER).
 */
enum fts_verdict fts_switchover(PGconn *coordinator, const struct catalog *cat, int content,
				const struct fts_options *opts, struct errbuf *err);

const char *fts_verdict_name(enum fts_verdict v);

#endif
