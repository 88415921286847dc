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
	int standby;      /* a standby coordinator is configured */
	int standby_down; /* and the probe found it down (reported, never acted on) */
};

/* How an instance answered the probe. */
enum fts_answer {
	FTS_NOT_ASKED = 0, /* not probed (yet) */
	FTS_ANSWERED,      /* accepted a connection and said whether it is in recovery */
	FTS_BUSY,          /* refused with SQLSTATE 57P03: starting up or in crash recovery */
	FTS_SILENT,        /* no answer after every attempt */
};

/* Whether the mirror streams from the primary, as both of them tell it. */
enum fts_streaming {
	FTS_STREAMING_NOT_ASKED = 0,
	FTS_STREAMING,
	FTS_NOT_STREAMING,
};

/*
 * What the probe of one content has seen so far: what the catalog records of its mirror, then
 * each answer as it comes. The primary is always probed; the rest only when a decision needs it.
 */
struct fts_observation {
	bool switchover;       /* gprecoverseg -r stopped the primary on purpose */
	bool has_mirror;       /* the content has a mirror in gp_segment_configuration */
	char mirror_status;    /* the mirror's status and mode there */
	char mirror_mode;
	bool mirror_relocated; /* gprecoverseg moved it (a struct fts_relocation names it) */
	enum fts_answer primary;
	bool primary_in_recovery;
	enum fts_answer mirror;
	bool mirror_in_recovery;
	enum fts_streaming streaming;
};

enum fts_action {
	/* Look further, then decide again. */
	FTS_PROBE_PRIMARY,
	FTS_PROBE_MIRROR,    /* the primary is gone: can its in-sync mirror take over? */
	FTS_CHECK_STREAMING, /* the mirror is recorded in sync: does it still stream (retries)? */
	FTS_CHECK_CAUGHT_UP, /* the mirror is recorded down or behind: is it back (once, where)? */
	/* Decisions. */
	FTS_LEAVE_BUSY_PRIMARY,     /* starting up or in crash recovery: it is not marked down */
	FTS_REFUSE_SWITCHOVER,      /* the primary to switch over from still answers */
	FTS_DOUBLE_FAULT,           /* no mirror that can take over: never fail over */
	FTS_PROMOTE_MIRROR,         /* promote the standby, then record the failover */
	FTS_RECORD_FAILOVER,        /* the mirror already runs as a primary: only record it */
	FTS_REFUSE_STANDBY_PRIMARY, /* the recorded primary runs as a standby: an error */
	FTS_NO_MIRROR,              /* nothing to decide */
	FTS_KEEP_IN_SYNC,           /* synchronous replication stays (or is turned back) on */
	FTS_MARK_MIRROR_DOWN,       /* record the mirror down, then synchronous replication off */
	FTS_MARK_IN_SYNC,           /* synchronous replication on, then record the pair in sync */
	FTS_MARK_IN_SYNC_RELOCATED, /* the same, recording the mirror's new location too */
	FTS_KEEP_MIRROR_DOWN,       /* synchronous replication stays (or is turned) off */
};

/* The probe's decisions, with no I/O: what to look at next, or what to do. */
enum fts_action fts_decide(const struct fts_observation *obs);

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
