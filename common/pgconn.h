/* pgconn: libpq connections by parameters (never a pasted conninfo) and queries with clear errors. */
#ifndef SEGRECOVER_PGCONN_H
#define SEGRECOVER_PGCONN_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "errbuf.h"
#include "segment.h"

#define PGCONN_DEFAULT_TIMEOUT 10 /* seconds */
#define SEGMENT_DBNAME "postgres"

struct pgconn_params {
	const char *host;             /* NULL: libpq default (PGHOST, socket) */
	int port;                     /* 0: libpq default (PGPORT) */
	const char *dbname;           /* NULL: "postgres" */
	const char *user;             /* NULL: libpq default (PGUSER, OS user) */
	const char *application_name; /* NULL: the program name */
	int connect_timeout;          /* seconds; 0: PGCONN_DEFAULT_TIMEOUT */
	bool replication;             /* physical replication connection */
};

/* Connect; NULL and err filled ("cannot connect to HOST:PORT: <libpq message>") on failure. */
PGconn *pg_connect(const struct pgconn_params *params, struct errbuf *err);

/*
 * PQpingParams with the keywords pg_connect would use: PQPING_OK accepts connections,
 * PQPING_REJECT a postmaster that refuses them (starting, not yet consistent, shutting down),
 * PQPING_NO_RESPONSE nothing answers. No session is opened and no password is needed.
 */
PGPing pg_ping(const struct pgconn_params *params);

/* Connect to an instance of the catalog on its address and port. */
PGconn *pg_connect_segment(const struct segment *seg, int connect_timeout, bool replication,
			   struct errbuf *err);

/* The SQLSTATE of the last connection failure recorded by pg_connect (e.g. "57P03"), or "". */
const char *pg_last_connect_sqlstate(void);
/* Did a server answer the last connection attempt, even to refuse it (PQpingParams)? */
bool pg_last_connect_answered(void);

/* Run a command that returns no rows; params may be NULL. */
int pg_exec(PGconn *conn, const char *sql, int nparams, const char *const *params,
	    struct errbuf *err);

/* Run a query that returns rows; the caller PQclear()s the result. NULL on error. */
PGresult *pg_query(PGconn *conn, const char *sql, int nparams, const char *const *params,
		   struct errbuf *err);

/* Run a query expected to return exactly one row and column; *out is malloc'd (NULL for SQL NULL). */
int pg_query_value(PGconn *conn, const char *sql, int nparams, const char *const *params,
		   char **out, struct errbuf *err);

/* libpq's message without the trailing newline. */
const char *pg_errmsg(const PGconn *conn, char *buf, size_t len);

/* Parse "X/Y" (as pg_lsn prints it) into a 64-bit LSN. */
bool pg_parse_lsn(const char *text, unsigned long long *lsn);

#endif
