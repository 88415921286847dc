/*
 * full: the "full" copy strategy. A PostgreSQL 15 BASE_BACKUP over a libpq replication
 * connection, its tar stream unpacked by libarchive straight into the target as it arrives (no
 * temporary archive, no pg_basebackup process), the tablespaces mapped per dbid, the WAL needed
 * for consistency fetched inside base.tar (the pair's slot, re-created first, protects it), and
 * the disk's writeback overlapped with the receive so that little is left to sync at the end.
 *
 * Diagnostics (for measurements; the defaults are the measured best):
 *   SEGRECOVER_FULL_SYNC_THREADS=N             fsync worker threads, 0..8 (default 4)
 */
#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "clock.h"
#include "exec.h"
#include "fsutil.h"
#include "full/extract.h"
#include "full/receive.h"
#include "full/syncer.h"
#include "full/tablespace.h"
#include "inject.h"
#include "log.h"
#include "pgconn.h"
#include "pgcontrol.h"
#include "registry.h"
#include "replication.h"
#include "strategy.h"
#include "strbuf.h"
#include "units.h"
#include "xalloc.h"

/*
 * Greenplum's tools recognise a full recovery in progress by this walsender name
 * (gp_stat_replication.application_name = 'pg_basebackup'); we keep it for them.
 */
#define FULL_APPLICATION_NAME "pg_basebackup"
#define FULL_MAX_RATE_MIN 32L
#define FULL_MAX_RATE_MAX 1048576L
#define FULL_DEFAULT_SYNC_THREADS 4
#define AGAIN_HINT "run gprecoverseg -F again"

/* "source dbid 2 at host:port" */
static void source_name(const struct recovery *r, char *buf, size_t len)
{
	snprintf(buf, len, "source dbid %d at %s:%d", r->source_dbid,
		 r->source_host ? r->source_host : "(default host)", r->source_port);
}

static PGconn *connect_source(const struct recovery *r, bool replication, struct errbuf *err)
{
	struct pgconn_params p = {
		.host = r->source_host,
		.port = r->source_port,
		.replication = replication,
		.application_name = replication ? FULL_APPLICATION_NAME : NULL,
	};
	PGconn *conn = pg_connect(&p, err);

	if (conn == NULL)
		errbuf_prefix(err, "%s connection to source dbid %d",
			      replication ? "replication" : "normal", r->source_dbid);
	return conn;
}

static int check_args(const struct recovery *r, struct errbuf *err)
{
	if (r->target_datadir == NULL || r->target_datadir[0] != '/')
		return errbuf_set(err, "full strategy: the target data directory \"%s\" is not an "
				       "absolute path", r->target_datadir ? r->target_datadir : "");
	if (r->source_host == NULL || r->source_host[0] == '\0')
		return errbuf_set(err, "full strategy: dbid %d has no source host", r->dbid);
	if (r->dbid == r->source_dbid)
		return errbuf_set(err, "full strategy: dbid %d cannot be its own source", r->dbid);
	if (r->max_rate_kbps != 0 &&
	    (r->max_rate_kbps < FULL_MAX_RATE_MIN || r->max_rate_kbps > FULL_MAX_RATE_MAX))
		return errbuf_set(err, "full strategy: --max-rate %ld kB/s is out of range: use %ld to "
				       "%ld kB/s, or 0 for no limit",
				  r->max_rate_kbps, FULL_MAX_RATE_MIN, FULL_MAX_RATE_MAX);
	if (r->compression && strcmp(r->compression, "lz4") != 0 && strcmp(r->compression, "zstd") != 0)
		return errbuf_set(err, "full strategy: unknown compression \"%s\": use lz4 or zstd",
				  r->compression);
	return 0;
}

static int full_check(struct recovery *r, struct errbuf *err)
{
	char src[300];
	PGconn *conn;
	struct tablespace *ts = NULL;
	size_t nts = 0;

	if (check_args(r, err) != 0)
		return -1;
	source_name(r, src, sizeof(src));
	conn = connect_source(r, false, err);
	if (conn == NULL)
		return errbuf_append(err, " The source must be up and accept connections for a full "
					  "copy.");
	if (tablespace_list_source(conn, r, true, &ts, &nts, err) != 0) {
		PQfinish(conn);
		return errbuf_prefix(err, "%s", src);
	}
	tablespaces_free(ts, nts);
	PQfinish(conn);
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* estimate */

static int full_estimate(struct recovery *r, struct strategy_estimate *e, struct errbuf *err)
{
	char *value = NULL;
	PGconn *conn = connect_source(r, false, err);
	int rc;

	e->bytes = 0;
	if (conn == NULL)
		return -1;
	/* Every database with its tablespaces; pg_wal and global/ add a little. */
	rc = pg_query_value(conn, "SELECT sum(pg_database_size(oid))::bigint FROM pg_database", 0,
			    NULL, &value, err);
	PQfinish(conn);
	if (rc != 0)
		return -1;
	e->bytes = value ? strtoull(value, NULL, 10) : 0;
	free(value);
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* run */

/* The copy source over libpq: one CopyData message at a time, freed at the next call. */
struct pq_source {
	PGconn *conn;
	char *buf;
	bool ended;  /* PQgetCopyData said the COPY is over */
	bool broken; /* the connection failed */
};

static int pq_next(void *ctx, const char **buf, size_t *len, struct errbuf *err)
{
	struct pq_source *s = ctx;
	char msg[1024];
	int n;

	if (s->buf) {
		PQfreemem(s->buf);
		s->buf = NULL;
	}
	if (s->ended)
		return 0;
	n = PQgetCopyData(s->conn, &s->buf, 0);
	if (n > 0) {
		*buf = s->buf;
		*len = (size_t) n;
		return 1;
	}
	if (n == -1) {
		s->ended = true;
		return 0;
	}
	s->broken = true;
	return errbuf_set(err, "lost the connection while receiving the backup: %s",
			  pg_errmsg(s->conn, msg, sizeof(msg)));
}

struct run_state {
	struct recovery *r;
	uint64_t total;
};

static void on_progress(void *ctx, uint64_t received, uint64_t server_done)
{
	struct run_state *st = ctx;
	uint64_t total = st->total;

	/*
	 * Compressed, what arrives is smaller than what it unpacks to: count as the server does
	 * (uncompressed bytes, at most once a second), so that done and total stay comparable.
	 */
	if (st->r->compression)
		received = server_done;
	/*
	 * The server's estimate leaves out the WAL that comes at the end of base.tar and the
	 * manifest: once past it, keep the total a little ahead, so that "done" reaches "total"
	 * only when run() says so at the end.
	 */
	if (total <= received)
		total = received + received / 64 + 1;
	if (st->r->host && st->r->host->progress)
		st->r->host->progress(st->r, received, total);
}

static void on_log(void *ctx, int level, const char *msg)
{
	struct run_state *st = ctx;

	strategy_log(st->r, level, "%s", msg);
}

static void phase(struct recovery *r, const char *name)
{
	if (r->host && r->host->phase)
		r->host->phase(r, name);
}

static unsigned sync_threads(void)
{
	const char *t = getenv("SEGRECOVER_FULL_SYNC_THREADS");

	return t && *t ? (unsigned) strtoul(t, NULL, 10) : FULL_DEFAULT_SYNC_THREADS;
}

/* The server's message of a failed result ("<message> (SQLSTATE xxxxx)"), or libpq's. */
static void result_error(PGresult *res, PGconn *conn, char *buf, size_t len)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	char cmsg[1024];
	size_t n;

	if (primary == NULL || primary[0] == '\0') {
		const char *text = res ? PQresultErrorMessage(res) : "";

		if (text == NULL || text[0] == '\0')
			text = pg_errmsg(conn, cmsg, sizeof(cmsg));
		if (text[0] == '\0')
			text = res ? PQresStatus(PQresultStatus(res)) : "no result from the server";
		snprintf(buf, len, "%s", text);
	} else if (state && strcmp(state, "XX001") == 0) {
		snprintf(buf, len, "data checksum failure on the source: %s (SQLSTATE XX001)", primary);
	} else if (state) {
		snprintf(buf, len, "%s (SQLSTATE %s)", primary, state);
	} else {
		snprintf(buf, len, "%s", primary);
	}
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	for (char *p = buf; *p; p++)
		if (*p == '\n')
			*p = ' ';
}

/* BASE_BACKUP ( ... ) in PostgreSQL 15's parenthesised syntax. */
static char *backup_command(PGconn *conn, const struct recovery *r, struct errbuf *err)
{
	char label[128], escaped[2 * sizeof(label) + 1];
	struct strbuf cmd = STRBUF_INIT;
	int error = 0;

	snprintf(label, sizeof(label), "segrecover full: dbid %d from dbid %d", r->dbid,
		 r->source_dbid);
	PQescapeStringConn(conn, escaped, label, strlen(label), &error);
	if (error) {
		errbuf_set(err, "cannot quote the backup label");
		return NULL;
	}
	strbuf_init(&cmd, 256);
	/*
	 * WAL + WAIT false: the WAL from start to end comes in base.tar (fetch mode) without
	 * waiting for archiving; the pair's slot keeps it until then. VERIFY_CHECKSUMS false, as
	 * Greenplum does: the primary verifies page checksums whenever it reads them anyway, and a
	 * mirror built by streaming replication never had them checked either.
	 */
	strbuf_addf(&cmd,
		    "BASE_BACKUP ( LABEL '%s', PROGRESS, CHECKPOINT 'fast', WAL, WAIT false, "
		    "MANIFEST 'yes', MANIFEST_CHECKSUMS 'CRC32C', VERIFY_CHECKSUMS false, "
		    "TARGET 'client'",
		    escaped);
	if (r->max_rate_kbps > 0)
		strbuf_addf(&cmd, ", MAX_RATE %ld", r->max_rate_kbps);
	/*
	 * Level 1 for both: the point is to fit more through a slow link, and the source's one
	 * walsender process compresses; a higher level would make it the bottleneck.
	 */
	if (r->compression)
		strbuf_addf(&cmd, ", COMPRESSION '%s', COMPRESSION_DETAIL 'level=1'", r->compression);
	strbuf_addstr(&cmd, " )");
	return strbuf_detach(&cmd, NULL);
}

/* A (recptr, tli) result: the backup's start or end position. */
static int read_position(PGconn *conn, const char *which, const char *src, lsn_t *lsn,
			 unsigned *tli, struct errbuf *err)
{
	PGresult *res = PQgetResult(conn);
	unsigned long long v;
	char msg[1024];

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		result_error(res, conn, msg, sizeof(msg));
		PQclear(res);
		return errbuf_set(err, "BASE_BACKUP on %s failed before the %s position: %s", src,
				  which, msg);
	}
	if (PQntuples(res) != 1 || PQnfields(res) < 2 ||
	    !pg_parse_lsn(PQgetvalue(res, 0, 0), &v)) {
		PQclear(res);
		return errbuf_set(err, "BASE_BACKUP on %s returned a malformed %s position", src,
				  which);
	}
	*lsn = (lsn_t) v;
	*tli = (unsigned) strtoul(PQgetvalue(res, 0, 1), NULL, 10);
	PQclear(res);
	return 0;
}

/*
 * The tablespace result set: one row per tablespace, the data directory last with a NULL oid.
 * Tablespaces listed before the backup keep their mapping; one created since is mapped now.
 */
static int read_tablespaces(PGconn *conn, const struct recovery *r, const char *src,
			    struct tablespace **ts, size_t *nts, uint64_t *total,
			    struct errbuf *err)
{
	PGresult *res = PQgetResult(conn);
	struct tablespace *out;
	size_t n = 0;
	char msg[1024];
	bool local = host_is_local(r->source_host);

	*total = 0;
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQnfields(res) < 3) {
		result_error(res, conn, msg, sizeof(msg));
		PQclear(res);
		return errbuf_set(err, "BASE_BACKUP on %s did not list its tablespaces: %s", src, msg);
	}
	out = xcalloc((size_t) PQntuples(res) + 1, sizeof(*out));
	for (int i = 0; i < PQntuples(res); i++) {
		uint64_t kb = PQgetisnull(res, i, 2) ? 0 : strtoull(PQgetvalue(res, i, 2), NULL, 10);
		unsigned oid;
		const char *loc;
		size_t j;

		*total += kb * 1024;
		if (PQgetisnull(res, i, 0))
			continue; /* the data directory */
		oid = (unsigned) strtoul(PQgetvalue(res, i, 0), NULL, 10);
		loc = PQgetvalue(res, i, 1);
		out[n].oid = oid;
		out[n].size_kb = kb;
		out[n].source_location = xstrdup(loc);
		n++;
		for (j = 0; j < *nts; j++)
			if ((*ts)[j].oid == oid && tablespace_same_location((*ts)[j].source_location, loc))
				break;
		if (j < *nts) {
			out[n - 1].target_location = xstrdup((*ts)[j].target_location);
		} else if (tablespace_map(loc, oid, r->source_dbid, r->dbid, local,
					  &out[n - 1].target_location, err) != 0 ||
			   tablespace_check_place(&out[n - 1], r->target_datadir, r->source_datadir,
						  local, err) != 0) {
			PQclear(res);
			tablespaces_free(out, n);
			return errbuf_prefix(err, "%s", src);
		}
	}
	PQclear(res);
	tablespaces_free(*ts, *nts);
	*ts = out;
	*nts = n;
	return 0;
}

/* The final word on the copy: where it failed, and that the target is partial. */
static int partial(const struct recovery *r, struct errbuf *err)
{
	size_t len = strlen(err->msg);

	if (len > 0 && err->msg[len - 1] != '.' && len + 1 < sizeof(err->msg)) {
		err->msg[len] = '.';
		err->msg[len + 1] = '\0';
	}
	return errbuf_append(err, "The target directory %s is left partial (with standby.signal, so "
				  "it cannot start as a primary): " AGAIN_HINT ".",
			     r->target_datadir);
}

/*
 * Before the backup, on a normal connection: the source's log directory (not copied), its
 * tablespaces and their mapping, the target directory's mode, and the pair's slot.
 */
static int prepare_source(struct recovery *r, const char *src, struct tablespace **ts,
			  size_t *nts, char **log_directory, struct errbuf *err)
{
	PGconn *conn = connect_source(r, false, err);
	char *dirmode = NULL;
	int rc = -1;

	if (conn == NULL)
		return -1;
	if (pg_query_value(conn, "SHOW log_directory", 0, NULL, log_directory, err) != 0 ||
	    tablespace_list_source(conn, r, true, ts, nts, err) != 0 ||
	    pg_query_value(conn, "SHOW data_directory_mode", 0, NULL, &dirmode, err) != 0) {
		errbuf_prefix(err, "%s", src);
		goto out;
	}
	/* PostgreSQL starts only in a directory of mode 0700 (or 0750 with group access). */
	if (chmod(r->target_datadir, dirmode && strcmp(dirmode, "0750") == 0 ? 0750 : 0700) != 0) {
		errbuf_set_errno(err, errno, "cannot set the mode of the target directory \"%s\"",
				 r->target_datadir);
		goto out;
	}
	/*
	 * The pair's slot, re-created: it reserves WAL from now on, so the WAL of the backup cannot
	 * be recycled before it is fetched, and the new mirror streams from it at once.
	 */
	if (slot_ensure(conn, true, err) != 0) {
		errbuf_prefix(err, "%s", src);
		goto out;
	}
	strategy_log(r, LOG_INFO, "replication slot %s re-created on %s: it keeps the WAL from now on",
		     REPLICATION_SLOT, src);
	rc = 0;
out:
	free(dirmode);
	PQfinish(conn);
	return rc;
}

/*
 * After the COPY: the end position, the command's own status (XX001 = a checksum failure), and
 * the manifest that must have come.
 */
static int finish_backup(PGconn *repl, const struct recovery *r, const char *src,
			 const struct full_receive_result *res, lsn_t *end_lsn, struct errbuf *err)
{
	PGresult *pres;
	char msg[1024];
	unsigned end_tli = 0;

	if (read_position(repl, "end", src, end_lsn, &end_tli, err) != 0)
		return partial(r, err);
	pres = PQgetResult(repl);
	if (PQresultStatus(pres) != PGRES_COMMAND_OK) {
		result_error(pres, repl, msg, sizeof(msg));
		PQclear(pres);
		errbuf_set(err, "BASE_BACKUP on %s failed at the end: %s", src, msg);
		return partial(r, err);
	}
	PQclear(pres);
	while ((pres = PQgetResult(repl)) != NULL) {
		ExecStatusType s = PQresultStatus(pres);

		result_error(pres, repl, msg, sizeof(msg));
		PQclear(pres);
		if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
			errbuf_set(err, "BASE_BACKUP on %s failed at the end: %s", src, msg);
			return partial(r, err);
		}
	}
	if (!res->manifest) {
		errbuf_set(err, "BASE_BACKUP on %s sent no backup manifest", src);
		return partial(r, err);
	}
	return 0;
}

static int full_run(struct recovery *r, struct errbuf *err)
{
	struct run_state st = { .r = r };
	struct tablespace *ts = NULL;
	size_t nts = 0;
	struct full_syncer *syncer = NULL;
	struct full_receive_result res;
	struct full_syncer_stats ss;
	struct pq_source pqs = { 0 };
	struct full_copy_source source = { .next = pq_next, .ctx = &pqs };
	struct full_receive_opts ro;
	PGconn *repl = NULL;
	PGresult *pres;
	char src[300], msg[1024];
	char *log_directory = NULL, *cmd = NULL;
	lsn_t start_lsn = 0, end_lsn = 0;
	unsigned start_tli = 0;
	double t0 = now_seconds(), t_copy = 0, t_sync = 0;
	int rc = -1;

	r->bytes_copied = 0;
	if (check_args(r, err) != 0)
		return -1;
	source_name(r, src, sizeof(src));

	if (prepare_source(r, src, &ts, &nts, &log_directory, err) != 0)
		goto out;

	repl = connect_source(r, true, err);
	if (repl == NULL)
		goto out;
	pqs.conn = repl;
	cmd = backup_command(repl, r, err);
	if (cmd == NULL)
		goto out;
	phase(r, "checkpoint");
	strategy_log(r, LOG_INFO, "starting the base backup on %s (fast checkpoint)", src);
	if (!PQsendQuery(repl, cmd)) {
		errbuf_set(err, "cannot send BASE_BACKUP to %s: %s", src, pg_errmsg(repl, msg, sizeof(msg)));
		goto out;
	}
	if (read_position(repl, "start", src, &start_lsn, &start_tli, err) != 0)
		goto out;
	if (read_tablespaces(repl, r, src, &ts, &nts, &st.total, err) != 0)
		goto out;
	r->bytes_total = st.total;
	strategy_log(r, LOG_INFO, "base backup started at " LSN_FMT " on timeline %u: about %llu MB "
				  "in %zu tablespace(s) besides the data directory",
		     LSN_ARGS(start_lsn), start_tli, (unsigned long long) (st.total >> 20), nts);

	syncer = full_syncer_new(sync_threads());
	for (size_t i = 0; i < nts; i++) {
		if (full_tablespace_prepare(&ts[i], r->target_datadir, syncer, err) != 0)
			goto out;
		strategy_log(r, LOG_INFO, "tablespace %u: %s on the source, %s on the target", ts[i].oid,
			     ts[i].source_location, ts[i].target_location);
	}
	pres = PQgetResult(repl);
	if (PQresultStatus(pres) != PGRES_COPY_OUT) {
		result_error(pres, repl, msg, sizeof(msg));
		PQclear(pres);
		errbuf_set(err, "BASE_BACKUP on %s did not start sending: %s", src, msg);
		goto out;
	}
	PQclear(pres);

	phase(r, "copy");
	t_copy = now_seconds();
	on_progress(&st, 0, 0);
	ro = (struct full_receive_opts){
		.target = r->target_datadir,
		.tablespaces = ts,
		.ntablespaces = nts,
		.log_directory = log_directory,
		.syncer = syncer,
		.compression = r->compression,
		.progress = on_progress,
		.log = on_log,
		.ctx = &st,
	};
	if (full_receive(&ro, &source, &res, err) != 0) {
		r->bytes_copied = res.bytes;
		if (pqs.ended) {
			/* The server ended the COPY early: its error says why. */
			pres = PQgetResult(repl);
			if (PQresultStatus(pres) == PGRES_FATAL_ERROR) {
				result_error(pres, repl, msg, sizeof(msg));
				errbuf_set(err, "BASE_BACKUP on %s failed: %s", src, msg);
			} else {
				errbuf_prefix(err, "receiving the backup from %s", src);
			}
			PQclear(pres);
		} else {
			errbuf_prefix(err, "receiving the backup from %s", src);
		}
		partial(r, err);
		goto out;
	}
	if (pqs.buf) {
		PQfreemem(pqs.buf);
		pqs.buf = NULL;
	}
	r->bytes_copied = res.bytes;
	t_copy = now_seconds() - t_copy;

	if (finish_backup(repl, r, src, &res, &end_lsn, err) != 0)
		goto out;
	PQfinish(repl);
	repl = NULL;

	/* Invariant 7: every file and directory on disk before we return, then the manifest. */
	phase(r, "sync");
	inject_point("sync");
	t_sync = now_seconds();
	if (full_syncer_finish(syncer, err) != 0) {
		errbuf_prefix(err, "syncing the copy");
		partial(r, err);
		goto out;
	}
	if (full_manifest_commit(r->target_datadir, err) != 0) {
		partial(r, err);
		goto out;
	}
	t_sync = now_seconds() - t_sync;
	full_syncer_get_stats(syncer, &ss);
	r->bytes_total = r->bytes_copied;
	if (r->host && r->host->progress)
		r->host->progress(r, r->bytes_copied, r->bytes_total);
	{
		double total = now_seconds() - t0;

		strategy_log(r, LOG_INFO,
			     "full copy from %s done: %lu files, %lu directories, %lu tablespace link(s), "
			     "%llu MB received (%.0f MB/s), backup " LSN_FMT " to " LSN_FMT
			     "; copy %.2f s, final sync %.2f s, total %.2f s",
			     src, res.extract.files, res.extract.dirs, res.extract.links,
			     units_whole_mb(res.bytes),
			     t_copy > 0 ? (double) res.bytes / UNITS_MB / t_copy : 0.0, LSN_ARGS(start_lsn),
			     LSN_ARGS(end_lsn), t_copy, t_sync, total);
		if (r->compression)
			strategy_log(r, LOG_INFO,
				     "%s compression on the source: %llu MB received for %llu MB of "
				     "files (%.1f:1)",
				     r->compression, units_whole_mb(res.bytes),
				     units_whole_mb(res.extract.file_bytes),
				     res.bytes > 0 ? (double) res.extract.file_bytes / (double) res.bytes
						   : 0.0);
	}
	rc = 0;
out:
	if (pqs.buf)
		PQfreemem(pqs.buf);
	if (repl)
		PQfinish(repl); /* mid-COPY, this ends the backup on the server */
	full_syncer_free(syncer);
	tablespaces_free(ts, nts);
	free(log_directory);
	free(cmd);
	return rc;
}

const struct strategy strategy_full = {
	.abi_version = STRATEGY_ABI_VERSION,
	.name = "full",
	.label = "Full",
	.caps = STRATEGY_EMPTY_TARGET | STRATEGY_RATE_LIMITED | STRATEGY_COMPRESSES,
	.check = full_check,
	.estimate = full_estimate,
	.run = full_run,
};
