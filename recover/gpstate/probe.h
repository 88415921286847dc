/*
 * probe: what gpstate learns from the instances themselves, in parallel, each step bounded
 * by the timeout so that a dead or hung instance cannot make gpstate hang:
 *  - on the instance's host: postmaster.pid (present, its PID) and whether that PID is a live
 *    postgres process (directly on this host; through ssh on another host);
 *  - a connection: pg_is_in_recovery() and the data directory the server runs in;
 *  - on a server not in recovery: its mirror's walsender row (pg_stat_replication) and its WAL
 *    positions, from which the replication lags are computed.
 */
#ifndef SEGRECOVER_GPSTATE_PROBE_H
#define SEGRECOVER_GPSTATE_PROBE_H

#include <stdbool.h>
#include <stddef.h>

#include "catalog.h"
#include "errbuf.h"
#include "replication.h"
#include "segment.h"

#define STATE_PROBE_DEFAULT_PARALLEL 16
#define STATE_PROBE_MAX_PARALLEL 64

struct state_probe_options {
	int timeout;  /* seconds, per connection and per host check */
	int parallel; /* instances probed at once */
};

struct instance_probe {
	const struct segment *seg;
	bool local;              /* its address is this host */

	/* The host: postmaster.pid and the process. */
	bool host_ok;            /* the files could be checked */
	char host_error[ERRBUF_SIZE];
	bool pidfile_found;
	long pidfile_pid;        /* first line of postmaster.pid; 0 when missing or unreadable */
	bool process_found;      /* that PID is a live postgres process */

	/* The server. */
	bool connected;
	char conn_error[ERRBUF_SIZE];
	bool in_recovery;
	char *data_directory;    /* as the server reports it; NULL when not connected */
	char server_version[64]; /* its server_version; "" when not connected */
	bool datadir_differs;    /* a local server on this port runs in another directory */

	/* Replication, asked of a server that is not in recovery. */
	bool repl_ok;
	char repl_error[ERRBUF_SIZE];
	struct walsender_state ws;      /* ws.present: the mirror's walsender was found */
	char current_lsn[32];           /* pg_current_wal_lsn() */
	char backup_start[64];          /* a base backup is being taken since; "" if none */
	long long sent_left;            /* current - sent; -1 unknown */
	long long sync_remaining;       /* current flush - sent (Greenplum's -e); -1 unknown */
	long long flush_left;           /* sent - flush; -1 unknown */
	long long replay_left;          /* sent - replay; -1 unknown */
};

struct cluster_probe {
	struct instance_probe *inst; /* one per catalog row, same order as cat->segs */
	size_t n;
};

/* Probe every instance of the catalog. Never fails: what could not be learnt is recorded. */
void state_probe_cluster(const struct catalog *cat, const struct state_probe_options *opts,
			 struct cluster_probe *out);
void state_probe_free(struct cluster_probe *cp);

/* The probe of one catalog row; NULL when cp is NULL or the row is unknown. */
const struct instance_probe *state_probe_find(const struct cluster_probe *cp,
					      const struct segment *seg);

/* b - a for two LSNs as pg_lsn prints them; -1 when either is unknown or b < a. */
long long state_lsn_diff(const char *b, const char *a);

/*
 * Parse what the remote host check prints (see state_probe.c) into pidfile_found, pidfile_pid
 * and process_found. Exposed for the unit tests.
 */
void state_probe_parse_host_check(const char *output, struct instance_probe *p);

/* Log (at debug level) what was found for every instance. */
void state_probe_log(const struct cluster_probe *cp);

#endif
