#include "pgconn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xalloc.h"

/* The most keywords params_keywords fills, with the terminating NULL. */
#define PGCONN_MAX_KEYWORDS 16

/* Per thread: gpstate probes instances from several threads at once. */
static _Thread_local char last_connect_sqlstate[6];
static _Thread_local bool last_connect_answered;

const char *pg_errmsg(const PGconn *conn, char *buf, size_t len)
{
	const char *msg = conn ? PQerrorMessage(conn) : "out of memory";
	size_t n;

	snprintf(buf, len, "%s", msg);
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	/* libpq separates "could not connect" details with newlines; one line reads better in logs */
	for (char *p = buf; *p; p++)
		if (*p == '\n')
			*p = ' ';
	return buf;
}

const char *pg_last_connect_sqlstate(void)
{
	return last_connect_sqlstate;
}

bool pg_last_connect_answered(void)
{
	return last_connect_answered;
}

/*
 * A connection refused by a postmaster that is starting up, in recovery or shutting down
 * (SQLSTATE 57P03) must not be taken for a dead server by the probe. libpq gives that state
 * only in the (translatable) message text, so ask the server the way pg_isready does:
 * PQpingParams answers PQPING_REJECT exactly when a postmaster is there but refuses sessions.
 */
static void remember_connect_failure(const char *const *keys, const char *const *vals)
{
	PGPing ping = PQpingParams(keys, vals, 0);

	last_connect_sqlstate[0] = '\0';
	if (ping == PQPING_REJECT)
		snprintf(last_connect_sqlstate, sizeof(last_connect_sqlstate), "57P03");
	/* PQPING_OK after a failed connection: a live server refused us (auth, pg_hba, slots). */
	last_connect_answered = ping == PQPING_OK || ping == PQPING_REJECT;
}

/* The keywords of PARAMS for libpq's *Params functions; the buffers hold the numbers. */
static void params_keywords(const struct pgconn_params *p, const char **keys, const char **vals,
			    char *portbuf, size_t portlen, char *timeoutbuf, size_t timeoutlen)
{
	int n = 0;

	if (p->host) {
		keys[n] = "host";
		vals[n++] = p->host;
	}
	if (p->port > 0) {
		snprintf(portbuf, portlen, "%d", p->port);
		keys[n] = "port";
		vals[n++] = portbuf;
	}
	keys[n] = "dbname";
	vals[n++] = p->replication ? "replication" : (p->dbname ? p->dbname : SEGMENT_DBNAME);
	if (p->user) {
		keys[n] = "user";
		vals[n++] = p->user;
	}
	keys[n] = "application_name";
	vals[n++] = p->application_name ? p->application_name : log_program();
	snprintf(timeoutbuf, timeoutlen, "%d",
		 p->connect_timeout > 0 ? p->connect_timeout : PGCONN_DEFAULT_TIMEOUT);
	keys[n] = "connect_timeout";
	vals[n++] = timeoutbuf;
	if (p->replication) {
		keys[n] = "replication";
		vals[n++] = "true";
	}
	/* A source that hangs without closing the connection must not hang a recovery for hours. */
	keys[n] = "keepalives";
	vals[n++] = "1";
	keys[n] = "keepalives_idle";
	vals[n++] = "30";
	keys[n] = "keepalives_interval";
	vals[n++] = "10";
	keys[n] = "keepalives_count";
	vals[n++] = "3";
	keys[n] = NULL;
	vals[n] = NULL;
}

PGPing pg_ping(const struct pgconn_params *p)
{
	const char *keys[PGCONN_MAX_KEYWORDS];
	const char *vals[PGCONN_MAX_KEYWORDS];
	char portbuf[16], timeoutbuf[16];

	params_keywords(p, keys, vals, portbuf, sizeof(portbuf), timeoutbuf, sizeof(timeoutbuf));
	return PQpingParams(keys, vals, 0);
}

PGconn *pg_connect(const struct pgconn_params *p, struct errbuf *err)
{
	const char *keys[PGCONN_MAX_KEYWORDS];
	const char *vals[PGCONN_MAX_KEYWORDS];
	char portbuf[16], timeoutbuf[16], msg[1024];
	PGconn *conn;

	params_keywords(p, keys, vals, portbuf, sizeof(portbuf), timeoutbuf, sizeof(timeoutbuf));
	conn = PQconnectdbParams(keys, vals, 0);
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
		pg_errmsg(conn, msg, sizeof(msg));
		remember_connect_failure(keys, vals);
		errbuf_set(err, "cannot connect to %s:%s: %s", p->host ? p->host : "(default host)",
			   p->port > 0 ? portbuf : "(default port)", msg);
		PQfinish(conn);
		return NULL;
	}
	last_connect_sqlstate[0] = '\0';
	last_connect_answered = true;
	return conn;
}

PGconn *pg_connect_segment(const struct segment *seg, int connect_timeout, bool replication,
			   struct errbuf *err)
{
	struct pgconn_params params = {
		.host = seg->address,
		.port = seg->port,
		.connect_timeout = connect_timeout,
		.replication = replication,
	};
	PGconn *conn = pg_connect(&params, err);

	if (conn == NULL)
		errbuf_prefix(err, SEG_FMT, SEG_ARGS(seg));
	return conn;
}

static PGresult *run(PGconn *conn, const char *sql, int nparams, const char *const *params)
{
	if (nparams == 0)
		return PQexec(conn, sql);
	return PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
}

static void first_line(const char *sql, char *buf, size_t len)
{
	size_t i = 0;

	while (sql[i] && sql[i] != '\n' && i + 1 < len && i < 80) {
		buf[i] = sql[i];
		i++;
	}
	buf[i] = '\0';
}

int pg_exec(PGconn *conn, const char *sql, int nparams, const char *const *params,
	    struct errbuf *err)
{
	PGresult *res = run(conn, sql, nparams, params);
	ExecStatusType st = PQresultStatus(res);
	char msg[1024], what[96];

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		first_line(sql, what, sizeof(what));
		errbuf_set(err, "query \"%s\" failed: %s", what, pg_errmsg(conn, msg, sizeof(msg)));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	return 0;
}

PGresult *pg_query(PGconn *conn, const char *sql, int nparams, const char *const *params,
		   struct errbuf *err)
{
	PGresult *res = run(conn, sql, nparams, params);
	char msg[1024], what[96];

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		first_line(sql, what, sizeof(what));
		errbuf_set(err, "query \"%s\" failed: %s", what, pg_errmsg(conn, msg, sizeof(msg)));
		PQclear(res);
		return NULL;
	}
	return res;
}

int pg_query_value(PGconn *conn, const char *sql, int nparams, const char *const *params,
		   char **out, struct errbuf *err)
{
	PGresult *res = pg_query(conn, sql, nparams, params, err);
	char what[96];

	*out = NULL;
	if (res == NULL)
		return -1;
	if (PQntuples(res) != 1 || PQnfields(res) != 1) {
		first_line(sql, what, sizeof(what));
		errbuf_set(err, "query \"%s\" returned %d rows and %d columns, expected one value",
			   what, PQntuples(res), PQnfields(res));
		PQclear(res);
		return -1;
	}
	if (!PQgetisnull(res, 0, 0))
		*out = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

bool pg_parse_lsn(const char *text, unsigned long long *lsn)
{
	unsigned int hi, lo;
	char tail;

	if (text == NULL || sscanf(text, "%X/%X%c", &hi, &lo, &tail) != 2)
		return false;
	*lsn = ((unsigned long long) hi << 32) | lo;
	return true;
}
