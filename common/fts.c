#include "fts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "pgconn.h"
#include "replication.h"

/* What one connection attempt (with retries) learned about an instance. */
struct probe {
	PGconn *conn;     /* open when alive */
	bool alive;
	bool busy;        /* postmaster answers but refuses connections: starting, in recovery */
	bool refusing;    /* a live server that refuses the probe (pg_hba, auth, no slot left) */
	bool in_recovery; /* pg_is_in_recovery() */
	struct errbuf err;
};

const char *fts_verdict_name(enum fts_verdict v)
{
	switch (v) {
	case FTS_PAIR_IN_SYNC:
		return "in sync";
	case FTS_PAIR_MIRROR_DOWN:
		return "mirror down";
	case FTS_PAIR_FAILED_OVER:
		return "failed over";
	case FTS_PAIR_DOUBLE_FAULT:
		return "double fault";
	case FTS_PAIR_UNCHANGED:
		return "unchanged";
	case FTS_PAIR_ERROR:
		return "error";
	}
	return "?";
}

static void probe_instance(const struct segment *seg, const struct fts_options *opts,
			   int attempts, struct probe *pr)
{
	memset(pr, 0, sizeof(*pr));
	for (int i = 0; i < attempts; i++) {
		char *value = NULL;

		if (i > 0)
			usleep((useconds_t) opts->retry_delay_ms * 1000);
		pr->conn = pg_connect_segment(seg, opts->connect_timeout, false, &pr->err);
		if (pr->conn == NULL) {
			pr->busy = strcmp(pg_last_connect_sqlstate(), "57P03") == 0;
			pr->refusing = !pr->busy && pg_last_connect_answered();
			log_debug("probe of " SEG_FMT " attempt %d/%d failed: %s", SEG_ARGS(seg), i + 1,
				  attempts, pr->err.msg);
			continue;
		}
		if (pg_query_value(pr->conn, "SELECT pg_is_in_recovery()", 0, NULL, &value,
				   &pr->err) != 0) {
			/* It accepted the connection: it runs, whatever failed next. */
			pr->refusing = true;
			PQfinish(pr->conn);
			pr->conn = NULL;
			continue;
		}
		pr->alive = true;
		pr->busy = pr->refusing = false;
		pr->in_recovery = value && value[0] == 't';
		free(value);
		return;
	}
	if (attempts > 1 && !pr->busy)
		log_debug("FTS max (%d) retries exhausted for " SEG_FMT, attempts, SEG_ARGS(seg));
}

static void probe_done(struct probe *pr)
{
	PQfinish(pr->conn);
	pr->conn = NULL;
}

static void observe_probe(const struct probe *pr, enum fts_answer *answer, bool *in_recovery)
{
	/*
	 * A server that answers only to refuse is running: promoting its mirror would make two
	 * primaries. It counts as busy, like one that is starting up.
	 */
	*answer = pr->alive ? FTS_ANSWERED : pr->busy || pr->refusing ? FTS_BUSY : FTS_SILENT;
	*in_recovery = pr->in_recovery;
}

static void observe_catalog(struct fts_observation *obs, const struct segment *m)
{
	obs->has_mirror = m != NULL;
	obs->mirror_status = m ? m->status : 0;
	obs->mirror_mode = m ? m->mode : 0;
}

/*
 * Only a mirror recorded up and in sync may take over: any other may lack committed data. A busy
 * primary is on its way back, so it is left alone. A live primary's mirror stays in sync only as
 * long as it streams, and is marked in sync again once it streams again.
 */
enum fts_action fts_decide(const struct fts_observation *obs)
{
	bool mirror_in_sync = obs->has_mirror && obs->mirror_status == STATUS_UP &&
			      obs->mirror_mode == MODE_SYNCED;

	if (obs->primary == FTS_NOT_ASKED)
		return FTS_PROBE_PRIMARY;
	if (obs->switchover && obs->primary != FTS_SILENT)
		return FTS_REFUSE_SWITCHOVER;
	if (obs->primary == FTS_BUSY)
		return FTS_LEAVE_BUSY_PRIMARY;
	if (obs->primary == FTS_SILENT) {
		if (!mirror_in_sync)
			return FTS_DOUBLE_FAULT;
		if (obs->mirror == FTS_NOT_ASKED)
			return FTS_PROBE_MIRROR;
		if (obs->mirror != FTS_ANSWERED)
			return FTS_DOUBLE_FAULT;
		return obs->mirror_in_recovery ? FTS_PROMOTE_MIRROR : FTS_RECORD_FAILOVER;
	}
	if (obs->primary_in_recovery)
		return FTS_REFUSE_STANDBY_PRIMARY;
	if (!obs->has_mirror)
		return FTS_NO_MIRROR;
	if (mirror_in_sync) {
		if (obs->streaming == FTS_STREAMING_NOT_ASKED)
			return FTS_CHECK_STREAMING;
		return obs->streaming == FTS_STREAMING ? FTS_KEEP_IN_SYNC : FTS_MARK_MIRROR_DOWN;
	}
	if (obs->streaming == FTS_STREAMING_NOT_ASKED)
		return FTS_CHECK_CAUGHT_UP;
	if (obs->streaming == FTS_NOT_STREAMING)
		return FTS_KEEP_MIRROR_DOWN;
	return obs->mirror_relocated ? FTS_MARK_IN_SYNC_RELOCATED : FTS_MARK_IN_SYNC;
}

static enum fts_verdict fail(struct errbuf *err, const char *fmt, const char *detail)
{
	errbuf_set(err, fmt, detail);
	return FTS_PAIR_ERROR;
}

/* Primary unreachable: promote the mirror if it was in sync, otherwise a double fault. */
static enum fts_verdict handle_dead_primary(PGconn *coord, const struct segment *p,
					    const struct segment *m, const struct fts_options *opts,
					    const struct probe *pp, struct fts_observation *obs,
					    struct errbuf *err)
{
	struct probe mp;
	char *ok = NULL;
	enum fts_verdict verdict = FTS_PAIR_ERROR;
	bool switchover = obs->switchover;
	enum fts_action action = fts_decide(obs);

	if (action == FTS_DOUBLE_FAULT) {
		log_critical("FTS double fault detected (content=%d) primary dbid=%d, mirror dbid=%d: "
			     "primary " SEG_FMT " is unreachable (%s) and its mirror is %s; not "
			     "failing over. Bring the primary back (pg_ctl start -D %s) or recover "
			     "the content from a backup",
			     p->content, p->dbid, m ? m->dbid : -1, SEG_ARGS(p), pp->err.msg,
			     m == NULL ? "not configured"
			     : m->status != STATUS_UP ? "down"
						      : "not in sync (it may lack committed data)",
			     p->datadir);
		errbuf_set(err, "double fault on content %d", p->content);
		return FTS_PAIR_DOUBLE_FAULT;
	}
	probe_instance(m, opts, opts->retries, &mp);
	observe_probe(&mp, &obs->mirror, &obs->mirror_in_recovery);
	action = fts_decide(obs);
	if (action == FTS_DOUBLE_FAULT) {
		log_critical("FTS double fault detected (content=%d) primary dbid=%d, mirror dbid=%d: "
			     "primary " SEG_FMT " is unreachable (%s) and so is its mirror " SEG_FMT
			     " (%s); not failing over",
			     p->content, p->dbid, m->dbid, SEG_ARGS(p), pp->err.msg, SEG_ARGS(m),
			     mp.err.msg);
		errbuf_set(err, "double fault on content %d", p->content);
		probe_done(&mp);
		return FTS_PAIR_DOUBLE_FAULT;
	}
	if (switchover)
		log_info("content %d: primary " SEG_FMT " is stopped; promoting its mirror " SEG_FMT,
			 p->content, SEG_ARGS(p), SEG_ARGS(m));
	else
		log_warning("primary " SEG_FMT " of content %d is unreachable (%s); promoting its mirror "
			    SEG_FMT,
			    SEG_ARGS(p), p->content, pp->err.msg, SEG_ARGS(m));
	if (action == FTS_PROMOTE_MIRROR) {
		/*
		 * No commit may wait for a mirror that will not exist: synchronous replication off
		 * before the promotion (ALTER SYSTEM works on a standby), then promote and wait.
		 *
		 * A standby whose primary has just gone sleeps wal_retrieve_retry_interval (5 s by
		 * default) between attempts to reach it, and PostgreSQL 15 acts on a promote request
		 * only after that sleep: measured here, every rebalance waited 5.0 s for it. Retrying
		 * every 100 ms for the moment of the promotion makes it take 0.1 s; syncrep_set's
		 * reload applies it, and it is reset once the mirror runs as a primary (a mirror that
		 * kept it would flood its log while its primary is down).
		 */
		if (pg_exec(mp.conn, "ALTER SYSTEM SET wal_retrieve_retry_interval = '100ms'", 0, NULL,
			    err) != 0 ||
		    syncrep_set(mp.conn, false, opts->sync_timeout, err) != 0) {
			errbuf_prefix(err, "mirror " SEG_FMT, SEG_ARGS(m));
			goto out;
		}
		if (pg_query_value(mp.conn, "SELECT pg_promote(true, 60)", 0, NULL, &ok, err) != 0 ||
		    ok == NULL || ok[0] != 't') {
			if (errbuf_empty(err) || (ok && ok[0] != 't'))
				errbuf_set(err, "pg_promote() did not finish within 60 s");
			errbuf_prefix(err, "cannot promote mirror " SEG_FMT, SEG_ARGS(m));
			goto out;
		}
		if (pg_exec(mp.conn, "ALTER SYSTEM RESET wal_retrieve_retry_interval", 0, NULL, err) != 0 ||
		    pg_exec(mp.conn, "SELECT pg_reload_conf()", 0, NULL, err) != 0) {
			errbuf_prefix(err, "promoted mirror " SEG_FMT, SEG_ARGS(m));
			goto out;
		}
	} else {
		log_info("mirror " SEG_FMT " already runs as a primary; completing the failover in "
			 "the catalog",
			 SEG_ARGS(m));
	}
	/*
	 * PostgreSQL 15 shows the new timeline in pg_control only after a checkpoint; an
	 * incremental recovery of the old primary reads it there. The slot keeps the WAL from the
	 * timeline switch on for the mirror to come.
	 */
	if (pg_exec(mp.conn, "CHECKPOINT", 0, NULL, err) != 0 || slot_ensure(mp.conn, false, err) != 0) {
		errbuf_prefix(err, "promoted mirror " SEG_FMT, SEG_ARGS(m));
		goto out;
	}
	{
		struct catalog_change changes[2] = {
			{ .expect = p, .role = ROLE_MIRROR, .status = STATUS_DOWN, .mode = MODE_NOT_SYNCED,
			  .history = switchover ? "gprecoverseg -r: primary stopped for the rebalance; "
						  "marked down, now a mirror"
						: "FTS: primary unreachable; marked down, now a mirror" },
			{ .expect = m, .role = ROLE_PRIMARY, .mode = MODE_NOT_SYNCED,
			  .history = switchover ? "gprecoverseg -r: mirror promoted to its preferred role"
						: "FTS: mirror promoted to primary" },
		};

		if (catalog_apply(coord, changes, 2, err) != 0) {
			errbuf_prefix(err, "mirror " SEG_FMT " was promoted but the catalog was not "
					   "updated; run gpfts --once again to record it",
				      SEG_ARGS(m));
			goto out;
		}
	}
	if (switchover)
		log_info("content %d switched over: " SEG_FMT " is now the primary; " SEG_FMT
			 " is marked down until it is recovered as its mirror",
			 p->content, SEG_ARGS(m), SEG_ARGS(p));
	else
		log_warning("content %d failed over: " SEG_FMT " is now the primary; " SEG_FMT
			    " is marked down (recover it with gprecoverseg)",
			    p->content, SEG_ARGS(m), SEG_ARGS(p));
	verdict = FTS_PAIR_FAILED_OVER;
out:
	free(ok);
	probe_done(&mp);
	return verdict;
}

/* Is the mirror, seen from both ends, streaming from this primary? */
static enum fts_streaming mirror_streams(PGconn *primary, const struct segment *m,
					 const struct fts_options *opts, int attempts,
					 struct walsender_state *ws, struct errbuf *err)
{
	for (int i = 0; i < attempts; i++) {
		if (i > 0)
			usleep((useconds_t) opts->retry_delay_ms * 1000);
		if (walsender_query(primary, ws, err) != 0)
			return FTS_NOT_STREAMING;
		if (ws->present && strcmp(ws->state, "streaming") == 0) {
			struct probe mp;
			struct errbuf mirror_err;
			char *status = NULL;
			bool streaming = false;

			/*
			 * The walsender could be a stale connection: ask the mirror too. A mirror that
			 * cannot say is not streaming; that is an answer, not a failed check (an error
			 * left in ERR would keep a dead mirror in sync and the primary's commits waiting).
			 */
			probe_instance(m, opts, 1, &mp);
			if (mp.alive && mp.in_recovery &&
			    pg_query_value(mp.conn, "SELECT status FROM pg_stat_wal_receiver", 0, NULL,
					   &status, &mirror_err) == 0)
				streaming = status && strcmp(status, "streaming") == 0;
			free(status);
			probe_done(&mp);
			if (streaming)
				return FTS_STREAMING;
		}
	}
	return FTS_NOT_STREAMING;
}

/* Turn synchronous replication on and record the pair (and REL, if not NULL) as up and in sync. */
static enum fts_verdict mark_in_sync(PGconn *coord, PGconn *primary, const struct segment *p,
				     const struct segment *m, const struct segment *m_where,
				     const struct fts_options *opts, const struct fts_relocation *rel,
				     struct errbuf *err)
{
	struct catalog_change changes[2] = {
		{ .expect = p, .mode = MODE_SYNCED, .history = "FTS: mirror in sync" },
		{ .expect = m, .status = STATUS_UP, .mode = MODE_SYNCED,
		  .history = "FTS: mirror up and in sync" },
	};

	if (syncrep_set(primary, true, opts->sync_timeout, err) != 0) {
		errbuf_prefix(err, "primary " SEG_FMT, SEG_ARGS(p));
		return FTS_PAIR_ERROR;
	}
	if (rel) {
		changes[1].hostname = rel->hostname;
		changes[1].address = rel->address;
		changes[1].port = rel->port;
		changes[1].datadir = rel->datadir;
		changes[1].history = "gprecoverseg: mirror recovered to a new location, up and in sync";
	}
	if (catalog_apply(coord, changes, 2, err) != 0)
		return FTS_PAIR_ERROR;
	log_info("content %d: mirror " SEG_FMT " is up and in sync with primary " SEG_FMT
		 "; synchronous replication is on",
		 p->content, SEG_ARGS(m_where), SEG_ARGS(p));
	return FTS_PAIR_IN_SYNC;
}

enum fts_verdict fts_probe_content(PGconn *coord, const struct catalog *cat, int content,
				   const struct fts_options *opts, const struct fts_relocation *rel,
				   struct errbuf *err)
{
	const struct segment *p = catalog_acting(cat, content, ROLE_PRIMARY);
	const struct segment *m = catalog_acting(cat, content, ROLE_MIRROR);
	struct segment relocated;
	const struct segment *m_where = m;
	struct probe pp;
	struct walsender_state ws;
	enum fts_verdict verdict = FTS_PAIR_ERROR;
	bool sync_on;
	struct fts_observation obs = { 0 };
	enum fts_action action;

	errbuf_clear(err);
	if (p == NULL)
		return fail(err, "%s", "the content has no primary in gp_segment_configuration");
	observe_catalog(&obs, m);
	obs.mirror_relocated = m && rel && rel->dbid == m->dbid;
	/* A relocated mirror is probed where it lives now. */
	if (obs.mirror_relocated) {
		relocated = *m;
		relocated.hostname = (char *) rel->hostname;
		relocated.address = (char *) rel->address;
		relocated.port = rel->port;
		relocated.datadir = (char *) rel->datadir;
		m_where = &relocated;
	}
	probe_instance(p, opts, opts->retries, &pp);
	observe_probe(&pp, &obs.primary, &obs.primary_in_recovery);
	action = fts_decide(&obs);
	if (action == FTS_LEAVE_BUSY_PRIMARY && pp.refusing) {
		log_warning("primary " SEG_FMT " runs but refuses the probe (%s); it is not failed "
			    "over while it runs: let gpfts connect (pg_hba.conf, max_connections), or "
			    "stop it to fail the content over",
			    SEG_ARGS(p), pp.err.msg);
		verdict = FTS_PAIR_UNCHANGED;
		goto out;
	}
	if (action == FTS_LEAVE_BUSY_PRIMARY) {
		log_info("primary " SEG_FMT " is starting up or in crash recovery; not marking it "
			 "down",
			 SEG_ARGS(p));
		verdict = FTS_PAIR_UNCHANGED;
		goto out;
	}
	if (action == FTS_PROBE_MIRROR || action == FTS_DOUBLE_FAULT) {
		verdict = handle_dead_primary(coord, p, m, opts, &pp, &obs, err);
		goto out;
	}
	if (action == FTS_REFUSE_STANDBY_PRIMARY) {
		errbuf_set(err, "content %d: " SEG_FMT " is recorded as the primary but runs as a "
				"standby; check gp_segment_configuration",
			   content, SEG_ARGS(p));
		goto out;
	}
	if (action == FTS_NO_MIRROR) {
		verdict = FTS_PAIR_UNCHANGED;
		goto out;
	}
	if (action == FTS_CHECK_STREAMING) {
		obs.streaming = mirror_streams(pp.conn, m, opts, opts->retries, &ws, err);
		if (fts_decide(&obs) == FTS_KEEP_IN_SYNC) {
			if (syncrep_is_on(pp.conn, &sync_on, err) != 0)
				goto out;
			if (!sync_on) {
				log_warning("content %d: synchronous replication was off on primary " SEG_FMT
					    " although its mirror is in sync; turning it on",
					    content, SEG_ARGS(p));
				if (syncrep_set(pp.conn, true, opts->sync_timeout, err) != 0)
					goto out;
			}
			verdict = FTS_PAIR_IN_SYNC;
			goto out;
		}
		/* The check itself failed: no decision stands. */
		if (!errbuf_empty(err))
			goto out;
		{
			struct catalog_change changes[2] = {
				{ .expect = m, .status = STATUS_DOWN, .mode = MODE_NOT_SYNCED,
				  .history = "FTS: mirror not streaming; marked down" },
				{ .expect = p, .mode = MODE_NOT_SYNCED,
				  .history = "FTS: mirror down; primary continues alone" },
			};

			/* Record first, then let commits go on without the mirror (Greenplum's order). */
			if (catalog_apply(coord, changes, 2, err) != 0)
				goto out;
		}
		log_warning("content %d: mirror " SEG_FMT " is not streaming from primary " SEG_FMT
			    "; marked down",
			    content, SEG_ARGS(m), SEG_ARGS(p));
		if (syncrep_set(pp.conn, false, opts->sync_timeout, err) != 0) {
			errbuf_prefix(err, "primary " SEG_FMT, SEG_ARGS(p));
			goto out;
		}
		log_info("content %d: synchronous replication is off on primary " SEG_FMT
			 " so that its commits go on",
			 content, SEG_ARGS(p));
		verdict = FTS_PAIR_MIRROR_DOWN;
		goto out;
	}
	/* FTS_CHECK_CAUGHT_UP: the mirror is recorded down or not in sync. */
	obs.streaming = mirror_streams(pp.conn, m_where, opts, 1, &ws, err);
	action = fts_decide(&obs);
	if (action == FTS_MARK_IN_SYNC || action == FTS_MARK_IN_SYNC_RELOCATED) {
		verdict = mark_in_sync(coord, pp.conn, p, m, m_where, opts,
				       action == FTS_MARK_IN_SYNC_RELOCATED ? rel : NULL, err);
		goto out;
	}
	if (!errbuf_empty(err))
		goto out;
	if (syncrep_is_on(pp.conn, &sync_on, err) != 0)
		goto out;
	if (sync_on) {
		if (syncrep_set(pp.conn, false, opts->sync_timeout, err) != 0)
			goto out;
		log_info("content %d: synchronous replication turned off on primary " SEG_FMT
			 " (its mirror " SEG_FMT " is down)",
			 content, SEG_ARGS(p), SEG_ARGS(m));
	}
	verdict = FTS_PAIR_MIRROR_DOWN;
out:
	probe_done(&pp);
	return verdict;
}

/*
 * The standby coordinator is probed and reported, never acted on: activating it is the DBA's
 * decision (gpactivatestandby), as in Greenplum. It is up when the coordinator's walsender
 * streams to it or it accepts a connection.
 */
static void probe_standby(PGconn *coord, const struct catalog *cat, const struct fts_options *opts,
			  struct fts_summary *summary)
{
	const struct segment *sb = catalog_standby(cat);
	struct walsender_state ws;
	struct errbuf err;
	struct probe pr;

	if (sb == NULL)
		return;
	summary->standby = 1;
	if (walsender_query(coord, &ws, &err) == 0 && ws.present && strcmp(ws.state, "streaming") == 0) {
		log_debug("standby coordinator " SEG_FMT " streams", SEG_ARGS(sb));
		return;
	}
	probe_instance(sb, opts, opts->retries, &pr);
	if (pr.alive) {
		log_warning("standby coordinator " SEG_FMT " runs but does not stream from the "
			    "coordinator; see its log",
			    SEG_ARGS(sb));
		probe_done(&pr);
		return;
	}
	summary->standby_down = 1;
	log_warning("standby coordinator " SEG_FMT " is down (%s). The probe never activates it: "
		    "start it with gpinitstandby -n, or, if the coordinator is lost, activate it "
		    "with gpactivatestandby on its host",
		    SEG_ARGS(sb), pr.err.msg);
	probe_done(&pr);
}

int fts_probe_all(PGconn *coord, const struct fts_options *opts, struct fts_summary *summary,
		  struct errbuf *err)
{
	struct catalog cat;
	int ncontents;

	memset(summary, 0, sizeof(*summary));
	if (catalog_load(coord, &cat, err) != 0)
		return -1;
	if (catalog_validate(&cat, err) != 0) {
		catalog_free(&cat);
		return -1;
	}
	ncontents = catalog_ncontents(&cat);
	for (int c = 0; c < ncontents; c++) {
		struct errbuf perr;
		const struct segment *m = catalog_acting(&cat, c, ROLE_MIRROR);
		bool before_in_sync = m && m->status == STATUS_UP && m->mode == MODE_SYNCED;
		enum fts_verdict v = fts_probe_content(coord, &cat, c, opts, NULL, &perr);

		summary->contents++;
		switch (v) {
		case FTS_PAIR_ERROR:
			summary->errors++;
			log_error("content %d: %s", c, perr.msg);
			break;
		case FTS_PAIR_DOUBLE_FAULT:
			summary->double_faults++;
			break;
		case FTS_PAIR_FAILED_OVER:
			summary->changes++;
			break;
		case FTS_PAIR_MIRROR_DOWN:
			if (before_in_sync)
				summary->changes++;
			break;
		case FTS_PAIR_IN_SYNC:
			if (!before_in_sync)
				summary->changes++;
			break;
		case FTS_PAIR_UNCHANGED:
			break;
		}
		log_debug("content %d: %s", c, fts_verdict_name(v));
	}
	probe_standby(coord, &cat, opts, summary);
	catalog_free(&cat);
	return 0;
}

enum fts_verdict fts_switchover(PGconn *coord, const struct catalog *cat, int content,
				const struct fts_options *opts, struct errbuf *err)
{
	const struct segment *p = catalog_acting(cat, content, ROLE_PRIMARY);
	const struct segment *m = catalog_acting(cat, content, ROLE_MIRROR);
	struct probe pp;
	enum fts_verdict verdict;
	struct fts_observation obs = { .switchover = true };

	errbuf_clear(err);
	if (p == NULL || m == NULL)
		return fail(err, "%s", "the content has no primary and mirror pair in gp_segment_configuration");
	observe_catalog(&obs, m);
	probe_instance(p, opts, 1, &pp);
	observe_probe(&pp, &obs.primary, &obs.primary_in_recovery);
	if (fts_decide(&obs) == FTS_REFUSE_SWITCHOVER) {
		probe_done(&pp);
		errbuf_set(err, "primary " SEG_FMT " still accepts connections; not promoting its mirror",
			   SEG_ARGS(p));
		return FTS_PAIR_ERROR;
	}
	verdict = handle_dead_primary(coord, p, m, opts, &pp, &obs, err);
	probe_done(&pp);
	return verdict;
}
