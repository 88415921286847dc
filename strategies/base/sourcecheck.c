#include "base/sourcecheck.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgconn.h"

static PGconn *connect_source(const struct recovery *r, bool replication, struct errbuf *err)
{
	struct pgconn_params p = { .host = r->source_host, .port = r->source_port,
				   .replication = replication };
	PGconn *conn = pg_connect(&p, err);

	if (conn == NULL)
		errbuf_prefix(err, "%s connection to source dbid %d",
			      replication ? "replication" : "normal", r->source_dbid);
	return conn;
}

int source_preflight(const struct recovery *r, struct errbuf *err)
{
	static const char sql[] =
		"SELECT pg_is_in_recovery(), current_setting('server_version_num'), "
		"current_setting('wal_level'), current_setting('max_wal_senders')";
	char src[300], msg[1024];
	PGconn *conn;
	PGresult *res;
	long version, senders;
	char wal_level[32];
	bool in_recovery;
	int rc = -1;

	snprintf(src, sizeof(src), "source dbid %d at %s:%d", r->source_dbid,
		 r->source_host ? r->source_host : "(default host)", r->source_port);
	conn = connect_source(r, false, err);
	if (conn == NULL)
		return errbuf_append(err, " The source must be up and accept connections.");
	res = pg_query(conn, sql, 0, NULL, err);
	if (res == NULL) {
		PQfinish(conn);
		return errbuf_prefix(err, "%s", src);
	}
	in_recovery = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	version = strtol(PQgetvalue(res, 0, 1), NULL, 10);
	snprintf(wal_level, sizeof(wal_level), "%s", PQgetvalue(res, 0, 2));
	senders = strtol(PQgetvalue(res, 0, 3), NULL, 10);
	PQclear(res);
	PQfinish(conn);
	if (version / 10000 != 15)
		return errbuf_set(err, "%s runs PostgreSQL %ld.%ld: segrecover copies from PostgreSQL "
				       "15 only",
				  src, version / 10000, version % 10000);
	if (in_recovery)
		return errbuf_set(err, "%s is in recovery (a mirror, or not yet promoted): a recovery "
				       "copies from the content's acting primary",
				  src);
	if (strcmp(wal_level, "replica") != 0 && strcmp(wal_level, "logical") != 0)
		return errbuf_set(err, "%s has wal_level = %s: a mirror needs replica or logical "
				       "(set it and restart the primary)",
				  src, wal_level);
	if (senders <= 0)
		return errbuf_set(err, "%s has max_wal_senders = %ld: the copy and the mirror each "
				       "need a WAL sender (set it and restart the primary)",
				  src, senders);

	/* The replication protocol must be open to us too (pg_hba.conf "replication" line). */
	conn = connect_source(r, true, err);
	if (conn == NULL)
		return errbuf_append(err, " The role needs the REPLICATION attribute and pg_hba.conf a "
					  "\"replication\" entry for this host.");
	res = PQexec(conn, "IDENTIFY_SYSTEM");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		errbuf_set(err, "%s: IDENTIFY_SYSTEM failed on the replication connection: %s", src,
			   pg_errmsg(conn, msg, sizeof(msg)));
	else
		rc = 0;
	PQclear(res);
	PQfinish(conn);
	return rc;
}

int source_log_directory(PGconn *conn, char **out, struct errbuf *err)
{
	*out = NULL;
	return pg_query_value(conn,
			      "SELECT CASE WHEN setting LIKE '/%' THEN NULL ELSE setting END FROM "
			      "pg_settings WHERE name = 'log_directory'",
			      0, NULL, out, err);
}
