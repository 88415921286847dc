/*
 * target: the steps of a recovery that are the same for every strategy, on the target host:
 * preflight, the directory lock, the wipe, the standby configuration, start, wait to stream.
 */
#ifndef SEGRECOVER_TARGET_H
#define SEGRECOVER_TARGET_H

#include <stdbool.h>

#include "errbuf.h"
#include "pgcontrol.h"
#include "targetmark.h"

struct target {
	const char *datadir;
	const char *address; /* where the server will listen (to see it is consistent) */
	int port;
	int lock_fd;
	/* set by target_start; zero for a server found running (it was launched long ago) */
	double launched_at;
	bool seen_postmaster;   /* its postmaster.pid named a live postmaster once */
	lsn_t consistent_at;    /* minRecoveryPoint before the start: not consistent before it
				   (0: not known before the WAL says) */
};

/*
 * Once the guard (targetguard.h) has accepted the directory: create it (0700) if missing and
 * take its lock (a second recovery of the same directory is refused). Refuses, never stops, a
 * postmaster that started in it meanwhile.
 */
int target_prepare(struct target *t, struct errbuf *err);
void target_release(struct target *t);

/*
 * Empty the directory for a strategy that starts from nothing (invariant 5): only an empty
 * one, a PostgreSQL data directory, or a copy segrecover left unfinished (TARGET_MARK_FILE).
 * standby.signal and the marker (naming STRATEGY) are written durably before the first
 * deletion and stay, with the lock, through the wipe and the copy.
 */
int target_wipe(struct target *t, const char *strategy, struct errbuf *err);

/* standby.signal, then the in-progress marker naming STRATEGY: both durable (invariant 2). */
int target_begin_changes(const char *datadir, const char *strategy, struct errbuf *err);

/* Remove a postmaster.pid that names no live postmaster of the directory. */
int target_clear_stale_pidfile(struct target *t, struct errbuf *err);

/* Refuse a port that something on this host already listens on (the server could not start). */
int target_check_port_free(const struct target *t, struct errbuf *err);

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
 * walsender holds the replication slot. Fails at once, with the end of the server log, when
 * the postmaster exits.
 */
int target_wait_streaming(struct target *t, const char *source_host, int source_port,
			  int timeout_s, struct errbuf *err);

/* target_wait_consistent's answer when the server's hot_standby is off (see there). */
#define TARGET_NOT_HOT_STANDBY 1

/*
 * After target_wait_streaming: wait until the standby is consistent, which after a copy can
 * mean replaying every WAL byte since the divergence or the backup's start, and which a hot
 * standby shows by accepting connections. A server that dies meanwhile would otherwise be
 * noticed only at the driver's sync timeout: this fails at once (within 0.1 s of the
 * postmaster's exit) with the end of the server log. Every 10 s NOTE (may be NULL) gets a line
 * on how far the replay is. Returns 0 once it accepts connections, TARGET_NOT_HOT_STANDBY when
 * hot_standby is off (it never will: nothing to wait for), or -1.
 */
int target_wait_consistent(struct target *t, const char *source_host, int source_port,
			   int timeout_s, void (*note)(void *ctx, const char *msg), void *ctx,
			   struct errbuf *err);

#endif
