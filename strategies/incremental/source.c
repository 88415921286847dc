#include "incremental/source.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "pgconn.h"
#include "strbuf.h"
#include "xalloc.h"

#define FETCH_STMT "segrecover_fetch_chunks"

/*
 * Ranges are asked for in pieces of at most FETCH_PIECE bytes, within the SOURCE_MAX_CHUNK limit.
 * A PostgreSQL 15 server allocates each pg_read_binary_file value (and its copy for the binary
 * send) afresh; with 1 MiB values glibc hands that memory back and forth to the kernel on every
 * row, and the backend spends its time faulting pages in: measured here, a whole 260 MB file
 * came at 160 MB/s in 1 MiB pieces and at 1.2 GB/s in 128 KiB pieces (still 128 MB per query).
 */
#define FETCH_PIECE (128 * 1024)
_Static_assert(FETCH_PIECE <= SOURCE_MAX_CHUNK, "pieces within the header's range limit");
#define TEXTOID 25
#define INT8OID 20
#define BYTEAOID 17

/* One requested range. */
struct chunk_req {
	char *path;
	uint64_t off;
	uint32_t len;
	/* The last range of a whole-file copy: when it comes back full, the file is longer than
	 * it was when listed, and the next range is asked for. */
	bool whole_tail;
};

struct chunk_queue {
	struct chunk_req *reqs;
	size_t head, count, alloc; /* pending: [head, count) */
	size_t hinted;             /* [head, hinted) went to the hint callback */
};

/*
 * One connection that fetches: a batch of ranges sent as one query, its rows read as they come.
 * fetchers[0] uses the session's own connection; the others are opened when first needed.
 */
struct fetcher {
	PGconn *conn;
	struct chunk_req *batch; /* the ranges of the query in flight, owned here */
	size_t n, got;
	bool busy;
	int rc; /* the first error of the batch in flight */
};

struct source {
	PGconn *conn;
	struct targetio *tio;
	char *host;
	int port;
	int dbid; /* for messages; 0 unknown */
	struct chunk_queue queue;
	struct chunk_queue followups; /* filled while a batch's rows are read */
	struct fetcher fetchers[SOURCE_FETCHERS];
	source_hint_fn hint;
	void *hint_arg;
	struct strbuf paths, offs, lens; /* a batch's array literals, reused */
	uint64_t fetched;
	uint64_t batches;
};

static int src_error(struct source *s, struct errbuf *err)
{
	if (s->dbid > 0)
		return errbuf_prefix(err, "source dbid %d (%s:%d)", s->dbid,
				     s->host ? s->host : "(default host)", s->port);
	return errbuf_prefix(err, "source %s:%d", s->host ? s->host : "(default host)", s->port);
}

void source_set_dbid(struct source *s, int dbid)
{
	s->dbid = dbid;
}

static const char *conn_msg(struct source *s, char *buf, size_t len)
{
	return pg_errmsg(s->conn, buf, len);
}

/* ------------------------------------------------------------------------------------------ */
/* Session */

/* The session every connection gets: no timeouts, read only, empty search_path, the fetch
 * statement prepared. */
static int session_setup(PGconn *conn, struct errbuf *err)
{
	static const char *const setup[] = {
		"SET statement_timeout = 0",
		"SET lock_timeout = 0",
		"SET idle_in_transaction_session_timeout = 0",
		"SET default_transaction_read_only = on",
		/* The file list's recursive query is estimated at millions of rows: JIT would spend
		 * ~190 ms (measured, warm) compiling a query that runs in 4 ms. */
		"SET jit = off",
		"SELECT pg_catalog.set_config('search_path', '', false)",
	};
	static const char *const fetch_sql =
		"SELECT path, begin, pg_catalog.pg_read_binary_file(path, begin, len, true) AS chunk "
		"FROM unnest($1::text[], $2::int8[], $3::int4[]) AS x(path, begin, len)";
	char msg[1024];
	PGresult *res;

	for (size_t i = 0; i < sizeof(setup) / sizeof(setup[0]); i++)
		if (pg_exec(conn, setup[i], 0, NULL, err) != 0)
			return -1;
	res = PQprepare(conn, FETCH_STMT, fetch_sql, 3, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		errbuf_set(err, "cannot prepare the chunk query: %s", pg_errmsg(conn, msg, sizeof(msg)));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	return 0;
}

/* A connection set up for the source; on failure err names the source (host:port) once. */
static PGconn *session_connect(struct source *s, struct errbuf *err)
{
	struct pgconn_params params = { .host = s->host, .port = s->port };
	PGconn *conn = pg_connect(&params, err); /* its message names host:port */

	if (conn != NULL && session_setup(conn, err) != 0) {
		PQfinish(conn);
		src_error(s, err);
		return NULL;
	}
	return conn;
}

int source_open(const char *host, int port, struct targetio *tio, struct source **out,
		struct errbuf *err)
{
	struct source *s;
	char *fpw = NULL;

	*out = NULL;
	s = xcalloc(1, sizeof(*s));
	s->host = host ? xstrdup(host) : NULL;
	s->port = port;
	s->tio = tio;
	strbuf_init(&s->paths, 4096);
	strbuf_init(&s->offs, 4096);
	strbuf_init(&s->lens, 4096);
	s->conn = session_connect(s, err);
	if (s->conn == NULL)
		goto fail_quiet;
	s->fetchers[0].conn = s->conn;
	if (pg_query_value(s->conn, "SHOW full_page_writes", 0, NULL, &fpw, err) != 0)
		goto fail;
	if (fpw == NULL || strcmp(fpw, "on") != 0) {
		errbuf_set(err,
			   "full_page_writes is %s on the source; the incremental strategy needs it "
			   "on (torn pages are repaired from full-page images): set full_page_writes "
			   "= on on the source, or recover with a full copy (-F)",
			   fpw ? fpw : "unknown");
		free(fpw);
		goto fail;
	}
	free(fpw);
	*out = s;
	return 0;
fail:
	src_error(s, err);
fail_quiet:
	source_close(s);
	return -1;
}

static void queue_release(struct chunk_queue *q)
{
	for (size_t i = q->head; i < q->count; i++)
		free(q->reqs[i].path);
	free(q->reqs);
	memset(q, 0, sizeof(*q));
}

static void fetcher_release(struct fetcher *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->batch[i].path);
	free(f->batch);
	f->batch = NULL;
	f->n = f->got = 0;
	f->busy = false;
}

void source_close(struct source *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < SOURCE_FETCHERS; i++) {
		fetcher_release(&s->fetchers[i]);
		if (i > 0 && s->fetchers[i].conn)
			PQfinish(s->fetchers[i].conn);
	}
	if (s->conn)
		PQfinish(s->conn);
	queue_release(&s->queue);
	queue_release(&s->followups);
	strbuf_release(&s->paths);
	strbuf_release(&s->offs);
	strbuf_release(&s->lens);
	free(s->host);
	free(s);
}

PGconn *source_conn(struct source *s)
{
	return s->conn;
}

uint64_t source_bytes_fetched(const struct source *s)
{
	return s->fetched;
}

uint64_t source_batches_sent(const struct source *s)
{
	return s->batches;
}

int source_insert_lsn(struct source *s, lsn_t *lsn, struct errbuf *err)
{
	char *text = NULL;
	unsigned long long v;

	if (pg_query_value(s->conn, "SELECT pg_catalog.pg_current_wal_insert_lsn()", 0, NULL, &text,
			   err) != 0)
		return src_error(s, err);
	if (text == NULL || !pg_parse_lsn(text, &v)) {
		errbuf_set(err, "pg_current_wal_insert_lsn() returned \"%s\", not an LSN",
			   text ? text : "NULL");
		free(text);
		return src_error(s, err);
	}
	free(text);
	*lsn = (lsn_t) v;
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* File list and small files */

int source_list_files_start(struct source *s, struct errbuf *err)
{
	/*
	 * Walk the data directory from the server side: pg_ls_dir (missing directories are
	 * tolerated, "." and ".." left out) with pg_stat_file for each entry, descending into
	 * every directory (pg_stat_file follows links, so tablespace links and a linked pg_wal are
	 * entered). Entries directly in pg_tblspc are matched to pg_tablespace to learn their
	 * link targets. A NULL size: the entry vanished between listing and stat.
	 */
	static const char *const sql =
		"WITH RECURSIVE tree(dir, name, size, isdir) AS ("
		" SELECT ''::text, f.name, st.size, st.isdir"
		"   FROM pg_catalog.pg_ls_dir('.', true, false) AS f(name),"
		"        LATERAL pg_catalog.pg_stat_file(f.name, true) AS st"
		" UNION ALL"
		" SELECT t.dir || t.name || '/', f.name, st.size, st.isdir"
		"   FROM tree AS t,"
		"        LATERAL pg_catalog.pg_ls_dir(t.dir || t.name, true, false) AS f(name),"
		"        LATERAL pg_catalog.pg_stat_file(t.dir || t.name || '/' || f.name, true) AS st"
		"  WHERE t.isdir"
		")"
		" SELECT t.dir || t.name, t.size, t.isdir,"
		"        pg_catalog.pg_tablespace_location(ts.oid)"
		"   FROM tree AS t"
		"   LEFT JOIN pg_catalog.pg_tablespace AS ts"
		"     ON t.dir = 'pg_tblspc/' AND ts.oid::text = t.name";
	char msg[1024];

	if (!PQsendQuery(s->conn, sql)) {
		errbuf_set(err, "cannot list the data directory: %s", conn_msg(s, msg, sizeof(msg)));
		return src_error(s, err);
	}
	return 0;
}

int source_list_files_finish(struct source *s, targetio_file_fn fn, void *arg, struct errbuf *err)
{
	PGresult *res = PQgetResult(s->conn), *extra;
	char msg[1024];
	int rows;

	while ((extra = PQgetResult(s->conn)) != NULL)
		PQclear(extra); /* the query is one statement: only its end */
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
		errbuf_set(err, "cannot list the data directory: %s", conn_msg(s, msg, sizeof(msg)));
		PQclear(res);
		return src_error(s, err);
	}
	if (PQnfields(res) != 4) {
		errbuf_set(err, "the file list query returned %d columns, expected 4", PQnfields(res));
		PQclear(res);
		return src_error(s, err);
	}
	rows = PQntuples(res);
	for (int i = 0; i < rows; i++) {
		const char *path = PQgetvalue(res, i, 0);
		const char *link = PQgetisnull(res, i, 3) ? NULL : PQgetvalue(res, i, 3);

		if (PQgetisnull(res, i, 0) || PQgetisnull(res, i, 1) || PQgetisnull(res, i, 2))
			continue; /* removed while we listed */
		/* pg_tablespace_location gives an absolute link target; an in-place tablespace (a
		 * plain directory) comes back relative and is a directory. */
		if (link != NULL && link[0] == '/')
			fn(arg, path, FILE_TYPE_SYMLINK, 0, link);
		else if (strcmp(PQgetvalue(res, i, 2), "t") == 0)
			fn(arg, path, FILE_TYPE_DIRECTORY, 0, NULL);
		else
			fn(arg, path, FILE_TYPE_REGULAR,
			   (uint64_t) strtoull(PQgetvalue(res, i, 1), NULL, 10), NULL);
	}
	PQclear(res);
	return 0;
}

int source_fetch_file(struct source *s, const char *path, char **data, size_t *len,
		      struct errbuf *err)
{
	const char *params[1] = { path };
	PGresult *res;
	char msg[1024];
	size_t n;

	*data = NULL;
	*len = 0;
	res = PQexecParams(s->conn, "SELECT pg_catalog.pg_read_binary_file($1)", 1, NULL, params,
			   NULL, NULL, 1);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		errbuf_set(err, "cannot read \"%s\": %s", path, conn_msg(s, msg, sizeof(msg)));
		PQclear(res);
		return src_error(s, err);
	}
	if (PQntuples(res) != 1 || PQnfields(res) != 1 || PQgetisnull(res, 0, 0) ||
	    PQftype(res, 0) != BYTEAOID || PQfformat(res, 0) != 1) {
		errbuf_set(err, "reading \"%s\" returned an unexpected result (%d rows)", path,
			   PQntuples(res));
		PQclear(res);
		return src_error(s, err);
	}
	n = (size_t) PQgetlength(res, 0, 0);
	*data = xmalloc(n + 1);
	memcpy(*data, PQgetvalue(res, 0, 0), n);
	(*data)[n] = '\0';
	*len = n;
	s->fetched += n;
	PQclear(res);
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Queued ranges */

static size_t queue_pending(const struct chunk_queue *q)
{
	return q->count - q->head;
}

static void queue_push(struct chunk_queue *q, const char *path, uint64_t off, uint32_t len,
		       bool whole_tail)
{
	if (q->count == q->alloc) {
		if (q->head > 0) {
			memmove(q->reqs, q->reqs + q->head, queue_pending(q) * sizeof(*q->reqs));
			q->count -= q->head;
			q->hinted = q->hinted > q->head ? q->hinted - q->head : 0;
			q->head = 0;
		}
		if (q->count == q->alloc) {
			q->alloc = q->alloc ? q->alloc * 2 : SOURCE_MAX_CHUNKS;
			q->reqs = xrealloc(q->reqs, q->alloc * sizeof(*q->reqs));
		}
	}
	q->reqs[q->count++] = (struct chunk_req) { xstrdup(path), off, len, whole_tail };
}

static uint64_t be64(const char *p)
{
	const unsigned char *u = (const unsigned char *) p;
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | u[i];
	return v;
}

static int queue_whole_pieces(struct source *s, struct chunk_queue *q, const char *path,
			      uint64_t off, uint64_t len, struct errbuf *err);

/* Check one row against its request and write its chunk into the target. */
static int take_row(struct source *s, PGresult *res, const struct chunk_req *req,
		    struct errbuf *err)
{
	const char *path, *chunk;
	int plen;
	uint64_t begin;
	size_t clen;

	if (PQnfields(res) != 3 || PQftype(res, 0) != TEXTOID || PQftype(res, 1) != INT8OID ||
	    PQftype(res, 2) != BYTEAOID || PQfformat(res, 0) != 1 || PQfformat(res, 1) != 1 ||
	    PQfformat(res, 2) != 1)
		return errbuf_set(err, "the chunk query returned unexpected columns");
	if (PQgetisnull(res, 0, 0) || PQgetisnull(res, 0, 1) || PQgetlength(res, 0, 1) != 8)
		return errbuf_set(err, "the chunk query returned a row without path or offset");
	path = PQgetvalue(res, 0, 0);
	plen = PQgetlength(res, 0, 0);
	begin = be64(PQgetvalue(res, 0, 1));
	if ((size_t) plen != strlen(req->path) || memcmp(path, req->path, (size_t) plen) != 0 ||
	    begin != req->off)
		return errbuf_set(err,
				  "the chunk query returned \"%.*s\" at offset %llu where \"%s\" at "
				  "offset %llu was asked for",
				  plen, path, (unsigned long long) begin, req->path,
				  (unsigned long long) req->off);
	if (PQgetisnull(res, 0, 2)) {
		/* Removed on the source since it was listed: it goes from the target too. */
		return targetio_remove(s->tio, req->path, FILE_TYPE_REGULAR, err);
	}
	chunk = PQgetvalue(res, 0, 2);
	clen = (size_t) PQgetlength(res, 0, 2);
	if (clen > req->len)
		return errbuf_set(err,
				  "the chunk query returned %zu bytes of \"%s\" at offset %llu, "
				  "more than the %u asked for",
				  clen, req->path, (unsigned long long) req->off, req->len);
	s->fetched += clen;
	if (clen > 0 && targetio_write(s->tio, req->path, req->off, chunk, clen, err) != 0)
		return -1;
	/* A whole-file copy goes on until a short chunk: the file has grown; ask for up to
	 * SOURCE_MAX_CHUNK more at a time. */
	if (req->whole_tail && clen == req->len)
		return queue_whole_pieces(s, &s->followups, req->path, req->off + clen,
					  SOURCE_MAX_CHUNK, err);
	return 0;
}

/* Drain what is left of a failed query so that the connection stays usable. */
static void drain(PGconn *conn)
{
	PGresult *res;

	while ((res = PQgetResult(conn)) != NULL)
		PQclear(res);
}

/* How many ranges each of NIDLE idle fetchers takes: the queue shared out over them, so that a
 * small recovery uses them all, within [SOURCE_MIN_BATCH, SOURCE_MAX_CHUNKS]. */
static size_t batch_share(const struct source *s, size_t nidle)
{
	size_t pending = queue_pending(&s->queue);
	size_t n = (pending + nidle - 1) / nidle;

	if (n < SOURCE_MIN_BATCH)
		n = SOURCE_MIN_BATCH;
	if (n > SOURCE_MAX_CHUNKS)
		n = SOURCE_MAX_CHUNKS;
	return n;
}

/* Send one query for the next N pending ranges on fetcher F; the ranges move to F. */
static int send_batch(struct source *s, struct fetcher *f, size_t n, struct errbuf *err)
{
	struct chunk_queue *q = &s->queue;
	const char *params[3];
	char msg[1024];

	if (f->conn == NULL && (f->conn = session_connect(s, err)) == NULL)
		return s->dbid > 0 ? errbuf_prefix(err, "source dbid %d", s->dbid) : -1;
	strbuf_reset(&s->paths);
	strbuf_reset(&s->offs);
	strbuf_reset(&s->lens);
	strbuf_addch(&s->paths, '{');
	strbuf_addch(&s->offs, '{');
	strbuf_addch(&s->lens, '{');
	for (size_t i = 0; i < n; i++) {
		const struct chunk_req *r = &q->reqs[q->head + i];

		if (i > 0)
			strbuf_addch(&s->paths, ',');
		strbuf_addch(&s->paths, '"');
		for (const char *p = r->path; *p; p++) {
			if (*p == '"' || *p == '\\')
				strbuf_addch(&s->paths, '\\');
			strbuf_addch(&s->paths, *p);
		}
		strbuf_addch(&s->paths, '"');
		strbuf_addf(&s->offs, "%s%llu", i > 0 ? "," : "", (unsigned long long) r->off);
		strbuf_addf(&s->lens, "%s%u", i > 0 ? "," : "", r->len);
	}
	strbuf_addch(&s->paths, '}');
	strbuf_addch(&s->offs, '}');
	strbuf_addch(&s->lens, '}');
	params[0] = s->paths.buf;
	params[1] = s->offs.buf;
	params[2] = s->lens.buf;

	f->batch = xmalloc(n * sizeof(*f->batch));
	memcpy(f->batch, q->reqs + q->head, n * sizeof(*f->batch));
	f->n = n;
	f->got = 0;
	f->rc = 0;
	q->head += n;
	if (q->head == q->count)
		q->head = q->count = 0;
	if (!PQsendQueryPrepared(f->conn, FETCH_STMT, 3, params, NULL, NULL, 1)) {
		errbuf_set(err, "cannot send the chunk query: %s",
			   pg_errmsg(f->conn, msg, sizeof(msg)));
		fetcher_release(f);
		return src_error(s, err);
	}
	if (!PQsetSingleRowMode(f->conn)) {
		drain(f->conn);
		fetcher_release(f);
		errbuf_set(err, "cannot read the chunk query row by row");
		return src_error(s, err);
	}
	f->busy = true;
	s->batches++;
	return 0;
}

/* The batch of F is over: check it, and put what a growing whole file still needs back in the
 * queue. */
static int finish_batch(struct source *s, struct fetcher *f, struct errbuf *err)
{
	int rc = f->rc;

	if (rc == 0 && f->got != f->n)
		rc = errbuf_set(err, "the chunk query returned %zu rows for %zu ranges", f->got, f->n);
	fetcher_release(f);
	for (size_t i = s->followups.head; i < s->followups.count; i++) {
		struct chunk_req *r = &s->followups.reqs[i];

		queue_push(&s->queue, r->path, r->off, r->len, r->whole_tail);
		free(r->path);
	}
	s->followups.head = s->followups.count = 0;
	return rc != 0 ? src_error(s, err) : 0;
}

/* Take every row F has received so far without blocking; finish its batch at its end. */
static int fetcher_step(struct source *s, struct fetcher *f, struct errbuf *err)
{
	char msg[1024];

	if (!PQconsumeInput(f->conn)) {
		errbuf_set(err, "the chunk query failed: %s", pg_errmsg(f->conn, msg, sizeof(msg)));
		fetcher_release(f);
		return src_error(s, err);
	}
	while (!PQisBusy(f->conn)) {
		PGresult *res = PQgetResult(f->conn);
		ExecStatusType st;

		if (res == NULL)
			return finish_batch(s, f, err);
		st = PQresultStatus(res);
		if (f->rc == 0) {
			if (st == PGRES_SINGLE_TUPLE) {
				if (f->got >= f->n)
					f->rc = errbuf_set(err, "the chunk query returned more than the "
								"%zu rows asked for",
							   f->n);
				else
					f->rc = take_row(s, res, &f->batch[f->got], err);
				f->got++;
			} else if (st != PGRES_TUPLES_OK) {
				f->rc = errbuf_set(err, "the chunk query failed: %s",
						   pg_errmsg(f->conn, msg, sizeof(msg)));
			}
		}
		PQclear(res); /* after an error, the rest is drained */
	}
	return 0;
}

/* Wait until at least one busy fetcher has data, and take it. */
static int wait_any(struct source *s, struct errbuf *err)
{
	struct pollfd pfd[SOURCE_FETCHERS];
	int idx[SOURCE_FETCHERS], n = 0;

	for (int i = 0; i < SOURCE_FETCHERS; i++) {
		if (!s->fetchers[i].busy)
			continue;
		pfd[n] = (struct pollfd) { .fd = PQsocket(s->fetchers[i].conn), .events = POLLIN };
		idx[n++] = i;
	}
	if (n == 0)
		return 0;
	if (poll(pfd, (nfds_t) n, -1) < 0 && errno != EINTR)
		return errbuf_set_errno(err, errno, "cannot wait for the source");
	for (int k = 0; k < n; k++)
		if ((pfd[k].revents & (POLLIN | POLLERR | POLLHUP)) &&
		    fetcher_step(s, &s->fetchers[idx[k]], err) != 0)
			return -1;
	return 0;
}

/*
 * Keep the fetchers busy with what is queued. With ALL, until everything queued has been written;
 * otherwise until the queue is below its cap again. Several connections keep several reads in
 * flight on the source: random block reads from a cold cache wait on the disk, one at a time on
 * a single connection.
 */
static int pump(struct source *s, bool all, struct errbuf *err)
{
	struct chunk_queue *q = &s->queue;

	if (s->hint != NULL) {
		for (size_t i = q->hinted > q->head ? q->hinted : q->head; i < q->count; i++)
			s->hint(s->hint_arg, q->reqs[i].path, q->reqs[i].off, q->reqs[i].len);
		q->hinted = q->count;
	}
	for (;;) {
		size_t nidle = 0, share;
		bool busy = false;

		for (int i = 0; i < SOURCE_FETCHERS; i++)
			nidle += !s->fetchers[i].busy;
		share = nidle > 0 ? batch_share(s, nidle) : 0;
		for (int i = 0; i < SOURCE_FETCHERS; i++) {
			struct fetcher *f = &s->fetchers[i];
			size_t pending = queue_pending(&s->queue);

			if (!f->busy && pending > 0 &&
			    send_batch(s, f, share < pending ? share : pending, err) != 0)
				return -1;
			busy |= f->busy;
		}
		if (!all && queue_pending(&s->queue) < SOURCE_QUEUE_CAP)
			return 0;
		if (!busy)
			return 0;
		if (wait_any(s, err) != 0)
			return -1;
	}
}

int source_queue_range(struct source *s, const char *path, uint64_t off, uint64_t len,
		       struct errbuf *err)
{
	struct chunk_queue *q = &s->queue;

	if (!path_is_safe_relative(path))
		return errbuf_set(err, "refusing to fetch \"%s\": not a path inside the data directory",
				  path);
	if (s->tio == NULL)
		return errbuf_set(err, "cannot fetch \"%s\": the source was opened without a target",
				  path);
	while (len > 0) {
		struct chunk_req *last = queue_pending(q) > 0 ? &q->reqs[q->count - 1] : NULL;
		uint64_t n;

		if (last != NULL && !last->whole_tail && last->len < FETCH_PIECE &&
		    last->off + last->len == off && strcmp(last->path, path) == 0) {
			n = FETCH_PIECE - last->len;
			if (n > len)
				n = len;
			last->len += (uint32_t) n;
		} else {
			if (queue_pending(q) >= SOURCE_QUEUE_CAP && pump(s, false, err) != 0)
				return -1;
			n = len < FETCH_PIECE ? len : FETCH_PIECE;
			queue_push(q, path, off, (uint32_t) n, false);
		}
		off += n;
		len -= n;
	}
	return 0;
}

/*
 * Pieces covering [off, off + len) (at least one), the last one whole: the last piece coming back
 * full means the file is longer than that, and more is asked for (a file that grew since it was
 * listed is copied whole).
 */
static int queue_whole_pieces(struct source *s, struct chunk_queue *q, const char *path,
			      uint64_t off, uint64_t len, struct errbuf *err)
{
	uint64_t npieces = (len + FETCH_PIECE - 1) / FETCH_PIECE;

	if (npieces == 0)
		npieces = 1;
	for (uint64_t i = 0; i < npieces; i++) {
		if (q == &s->queue && queue_pending(q) >= SOURCE_QUEUE_CAP && pump(s, false, err) != 0)
			return -1;
		queue_push(q, path, off + i * FETCH_PIECE, FETCH_PIECE, i + 1 == npieces);
	}
	return 0;
}

int source_queue_file(struct source *s, const char *path, uint64_t len, struct errbuf *err)
{
	if (!path_is_safe_relative(path))
		return errbuf_set(err, "refusing to fetch \"%s\": not a path inside the data directory",
				  path);
	if (s->tio == NULL)
		return errbuf_set(err, "cannot fetch \"%s\": the source was opened without a target",
				  path);
	if (targetio_truncate_whole(s->tio, path, err) != 0)
		return -1;
	return queue_whole_pieces(s, &s->queue, path, 0, len, err);
}

void source_set_hint(struct source *s, source_hint_fn fn, void *arg)
{
	s->hint = fn;
	s->hint_arg = arg;
}

int source_flush(struct source *s, struct errbuf *err)
{
	return pump(s, true, err);
}
