#include "replication.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pgconn.h"
#include "xalloc.h"

int walsender_query(PGconn *primary, struct walsender_state *ws, struct errbuf *err)
{
	static const char sql[] =
		"SELECT state, sync_state,"
		" pg_wal_lsn_diff(pg_current_wal_flush_lsn(), flush_lsn)::bigint,"
		" sent_lsn, write_lsn, flush_lsn, replay_lsn,"
		" coalesce(pg_wal_lsn_diff(flush_lsn, replay_lsn)::bigint, 0),"
		" coalesce(host(client_addr), 'local')"
		" FROM pg_stat_replication WHERE application_name = $1"
		" ORDER BY (state = 'streaming') DESC, backend_start DESC LIMIT 1";
	const char *params[1] = { REPLICATION_APP_NAME };
	PGresult *res = pg_query(primary, sql, 1, params, err);

	memset(ws, 0, sizeof(*ws));
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 1) {
		ws->present = true;
		snprintf(ws->state, sizeof(ws->state), "%s", PQgetvalue(res, 0, 0));
		snprintf(ws->sync_state, sizeof(ws->sync_state), "%s", PQgetvalue(res, 0, 1));
		ws->lag_bytes = PQgetisnull(res, 0, 2) ? -1 : atoll(PQgetvalue(res, 0, 2));
		snprintf(ws->sent_lsn, sizeof(ws->sent_lsn), "%s", PQgetvalue(res, 0, 3));
		snprintf(ws->write_lsn, sizeof(ws->write_lsn), "%s", PQgetvalue(res, 0, 4));
		snprintf(ws->flush_lsn, sizeof(ws->flush_lsn), "%s", PQgetvalue(res, 0, 5));
		snprintf(ws->replay_lsn, sizeof(ws->replay_lsn), "%s", PQgetvalue(res, 0, 6));
		ws->replay_lag_bytes = atoll(PQgetvalue(res, 0, 7));
		snprintf(ws->client_addr, sizeof(ws->client_addr), "%s", PQgetvalue(res, 0, 8));
	}
	PQclear(res);
	return 0;
}

int syncrep_is_on(PGconn *primary, bool *on, struct errbuf *err)
{
	char *value = NULL;

	if (pg_query_value(primary, "SELECT current_setting('synchronous_standby_names')", 0, NULL,
			   &value, err) != 0)
		return -1;
	*on = value && value[0] != '\0';
	free(value);
	return 0;
}

int syncrep_set(PGconn *primary, bool on, int timeout_s, struct errbuf *err)
{
	const char *sql = on ? "ALTER SYSTEM SET synchronous_standby_names = '" REPLICATION_APP_NAME "'"
			     : "ALTER SYSTEM SET synchronous_standby_names = ''";
	int waited_ms = 0;

	if (pg_exec(primary, sql, 0, NULL, err) != 0 ||
	    pg_exec(primary, "SELECT pg_reload_conf()", 0, NULL, err) != 0)
		return errbuf_prefix(err, "cannot turn synchronous replication %s", on ? "on" : "off");
	/* The reload is asynchronous: wait until this backend and the walsender see it. */
	for (;;) {
		bool now_on;
		struct walsender_state ws;

		if (syncrep_is_on(primary, &now_on, err) != 0)
			return -1;
		if (now_on == on) {
			if (!on)
				return 0;
			if (walsender_query(primary, &ws, err) != 0)
				return -1;
			if (ws.present && strcmp(ws.sync_state, "sync") == 0)
				return 0;
		}
		if (waited_ms >= timeout_s * 1000) {
			if (on)
				return errbuf_set(err, "synchronous replication was switched on but the "
						       "mirror was not reported in sync within %d s",
						  timeout_s);
			return errbuf_set(err, "the server did not apply synchronous_standby_names = '' "
					       "within %d s",
					  timeout_s);
		}
		usleep(50 * 1000);
		waited_ms += 50;
	}
}

/*
 * Does the slot exist? With take_over, a walsender that still holds it is ended first, so that
 * the slot can be dropped.
 */
static int slot_lookup(PGconn *primary, bool take_over, bool *exists, struct errbuf *err)
{
	static const char find[] = "SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1";
	const char *params[1] = { REPLICATION_SLOT };
	PGresult *res;

	for (int attempt = 0; attempt < 20; attempt++) {
		res = pg_query(primary, find, 1, params, err);
		if (res == NULL)
			return errbuf_prefix(err, "cannot look up replication slot %s", REPLICATION_SLOT);
		*exists = PQntuples(res) == 1;
		if (*exists && take_over && !PQgetisnull(res, 0, 0)) {
			/* An old walsender still holds the slot: end it, then look again. */
			const char *pid[1] = { PQgetvalue(res, 0, 0) };

			pg_exec(primary, "SELECT pg_terminate_backend($1::int)", 1, pid, err);
			PQclear(res);
			usleep(100 * 1000);
			continue;
		}
		PQclear(res);
		return 0;
	}
	return errbuf_set(err, "replication slot %s stays in use by a walsender that does not end",
			  REPLICATION_SLOT);
}

static int drop_slot(PGconn *primary, struct errbuf *err)
{
	const char *params[1] = { REPLICATION_SLOT };

	if (pg_exec(primary, "SELECT pg_drop_replication_slot($1)", 1, params, err) != 0)
		return errbuf_prefix(err, "cannot drop replication slot %s", REPLICATION_SLOT);
	return 0;
}

int slot_ensure(PGconn *primary, bool recreate, struct errbuf *err)
{
	const char *params[1] = { REPLICATION_SLOT };
	bool exists;

	if (slot_lookup(primary, recreate, &exists, err) != 0)
		return -1;
	if (exists && !recreate)
		return 0;
	if (exists && drop_slot(primary, err) != 0)
		return -1;
	if (pg_exec(primary, "SELECT pg_create_physical_replication_slot($1, true)", 1, params,
		    err) != 0)
		return errbuf_prefix(err, "cannot create replication slot %s", REPLICATION_SLOT);
	return 0;
}

int slot_drop(PGconn *primary, bool *dropped, struct errbuf *err)
{
	bool exists;

	*dropped = false;
	if (slot_lookup(primary, true, &exists, err) != 0)
		return -1;
	if (exists && drop_slot(primary, err) != 0)
		return -1;
	*dropped = exists;
	return 0;
}
