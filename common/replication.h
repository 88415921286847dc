/* replication: the names a pair uses to replicate, and switching synchronous replication on a primary. */
#ifndef SEGRECOVER_REPLICATION_H
#define SEGRECOVER_REPLICATION_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "errbuf.h"

/* Greenplum's names: every mirror's walreceiver, and the primary's slot that keeps its WAL. */
#define REPLICATION_APP_NAME "gp_walreceiver"
#define REPLICATION_SLOT "internal_wal_replication_slot"

/* What the primary's pg_stat_replication says about its mirror's walsender. */
struct walsender_state {
	bool present;
	char state[32];      /* startup, catchup, streaming, backup, stopping */
	char sync_state[16]; /* async, potential, sync, quorum */
	long long lag_bytes; /* current WAL position minus the mirror's flush position */
	char sent_lsn[32], write_lsn[32], flush_lsn[32], replay_lsn[32];
	long long replay_lag_bytes; /* flush minus replay on the mirror */
	char client_addr[64];
};

int walsender_query(PGconn *primary, struct walsender_state *ws, struct errbuf *err);

/*
 * Turn synchronous replication on (the mirror's application name) or off ('') with ALTER
 * SYSTEM and a reload; returns once the server's setting shows the change. Turning it on waits
 * up to timeout_s for the mirror to be reported 'sync'.
 */
int syncrep_set(PGconn *primary, bool on, int timeout_s, struct errbuf *err);
int syncrep_is_on(PGconn *primary, bool *on, struct errbuf *err);

/*
 * Make sure the physical slot exists on the primary, reserving WAL from now on. With recreate,
 * an existing slot is dropped first (terminating a walsender that still holds it), so that the
 * slot does not pin WAL the new mirror will never ask for.
 */
int slot_ensure(PGconn *primary, bool recreate, struct errbuf *err);

/* Drop the slot if it exists (ending a walsender that still holds it); *dropped says if it did. */
int slot_drop(PGconn *primary, bool *dropped, struct errbuf *err);

#endif
