/*
 * target: the steps of a recovery that are the same for every strategy, on the target host:
 * preflight, the directory lock, the wipe, the standby configuration, start, wait to stream.
 */
#ifndef SEGRECOVER_TARGET_H
#define SEGRECOVER_TARGET_H

#include <stdbool.h>

#include "errbuf.h"

#define TARGET_LOCK_FILE "segrecover.lock"

struct target {
	const char *datadir;
	const char *address; /* where the server will listen (to check it streams) */
	int port;
	int lock_fd;
};

/*
 * Refuse if a postmaster runs in the directory (or, with stop_running — the catalog marks the
 * instance down — stop it with a fast shutdown, as Greenplum does); create the directory (0700)
 * if missing; take the directory's lock (a second recovery of the same directory is refused).
 */
int target_prepare(struct target *t, bool stop_running, struct errbuf *err);
void target_release(struct target *t);

/*
 * Empty the directory for a strategy that starts from nothing (invariant 5): only a PostgreSQL
 * data directory or an empty one, never one a postmaster runs in; the lock file stays.
 */
int target_wipe(struct target *t, struct errbuf *err);

/* Fast shutdown of the postmaster running in DATADIR, if any, waiting up to timeout_s. */
int target_stop(const char *datadir, int timeout_s, struct errbuf *err);

/* The standby configuration: standby.signal, primary_conninfo, primary_slot_name, port. */
int target_configure(struct target *t, const char *source_host, int source_port, struct errbuf *err);

/*
 * pg_ctl start. With wait_ready, until the server accepts connections (timeout in seconds);
 * without, it returns once the postmaster is launched, and target_wait_streaming follows.
 */
int target_start(struct target *t, bool wait_ready, int timeout_s, struct errbuf *err);

/*
 * Wait until the started standby streams from its primary, seen from the primary's side: its
 * walsender holds the replication slot. A hot standby accepts connections only once it is
 * consistent, which after a copy can mean replaying every WAL byte since the divergence; being
 * in sync needs only the WAL flushed, so we do not wait for the replay. Fails at once, with the
 * end of the server log, when the postmaster exits.
 */
int target_wait_streaming(struct target *t, const char *source_host, int source_port,
			  int timeout_s, struct errbuf *err);

#endif
