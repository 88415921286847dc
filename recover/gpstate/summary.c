/* summary: gpstate's default summary (-b), the quick status (-Q) and the standby (-f). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpstate/table.h"
#include "gpstate/views.h"
#include "log.h"
#include "pgconn.h"

void state_standby_summary(const struct state_view *v, struct state_table *t)
{
	const struct segment *standby = catalog_standby(v->cat);
	char buf[1024];
	bool warn;
	const char *text;

	if (standby == NULL) {
		state_table_kv(t, false, "Coordinator standby", "No coordinator standby configured");
		return;
	}
	state_table_kv(t, false, "Coordinator standby", "%s", standby->hostname);
	text = state_standby_text(v, standby, &warn, buf, sizeof(buf));
	state_table_kv(t, warn, "Standby coordinator state", "%s", text);
}

struct type_counts {
	int total, valid, failures;
	int pidfiles_missing, pids_missing, processes_missing;
	int acting_primary;
};

static void count_type(const struct state_view *v, char preferred, struct type_counts *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < v->cat->nsegs; i++) {
		const struct segment *s = &v->cat->segs[i];
		const struct instance_probe *p;

		if (s->content < 0 || s->preferred_role != preferred)
			continue;
		c->total++;
		if (s->status == STATUS_UP)
			c->valid++;
		else
			c->failures++;
		if (preferred == ROLE_MIRROR && s->role == ROLE_PRIMARY)
			c->acting_primary++;
		p = state_probe_of(v, s);
		if (p == NULL || !p->host_ok) {
			/* Greenplum counts an instance whose host cannot be checked as missing. */
			c->pidfiles_missing++;
			c->pids_missing++;
			c->processes_missing++;
			continue;
		}
		if (!p->pidfile_found)
			c->pidfiles_missing++;
		if (p->pidfile_pid <= 0) {
			c->pids_missing++;
			c->processes_missing++;
		} else if (!p->process_found) {
			c->processes_missing++;
		}
	}
}

int state_show_summary(const struct state_view *v)
{
	static const char *const types[] = { "Primary", "Mirror" };
	struct state_table t;
	int nsegs = 0, rc;

	for (size_t i = 0; i < v->cat->nsegs; i++)
		if (v->cat->segs[i].content >= 0)
			nsegs++;
	log_info("Greenplum instance status summary");
	state_table_init(&t);
	state_table_separator(&t);
	state_table_kv(&t, false, "Coordinator instance", "Active");
	state_standby_summary(v, &t);
	state_table_kv(&t, false, "Total segment instance count from metadata", "%d", nsegs);
	state_table_separator(&t);
	for (int k = 0; k < 2; k++) {
		char preferred = k == 0 ? ROLE_PRIMARY : ROLE_MIRROR;
		const char *lower = k == 0 ? "primary" : "mirror";
		char label[128];
		struct type_counts c;

		snprintf(label, sizeof(label), "%s Segment Status", types[k]);
		state_table_row(&t, false, label);
		state_table_separator(&t);
		count_type(v, preferred, &c);
		if (preferred == ROLE_MIRROR && c.total == 0) {
			state_table_row(&t, false, "Mirrors not configured on this array");
			state_table_separator(&t);
			continue;
		}
		snprintf(label, sizeof(label), "Total %s segments", lower);
		state_table_kv(&t, false, label, "%d", c.total);
		snprintf(label, sizeof(label), "Total %s segment valid (at coordinator)", lower);
		state_table_kv(&t, false, label, "%d", c.valid);
		snprintf(label, sizeof(label), "Total %s segment failures (at coordinator)", lower);
		state_table_kv(&t, c.failures > 0, label, "%d", c.failures);
		state_table_kv(&t, c.pidfiles_missing > 0,
			       "Total number of postmaster.pid files missing", "%d",
			       c.pidfiles_missing);
		state_table_kv(&t, false, "Total number of postmaster.pid files found", "%d",
			       c.total - c.pidfiles_missing);
		state_table_kv(&t, c.pids_missing > 0, "Total number of postmaster.pid PIDs missing",
			       "%d", c.pids_missing);
		state_table_kv(&t, false, "Total number of postmaster.pid PIDs found", "%d",
			       c.total - c.pids_missing);
		state_table_kv(&t, c.processes_missing > 0,
			       "Total number postmaster processes missing", "%d",
			       c.processes_missing);
		state_table_kv(&t, false, "Total number postmaster processes found", "%d",
			       c.total - c.processes_missing);
		if (preferred == ROLE_MIRROR) {
			state_table_kv(&t, c.acting_primary > 0,
				       "Total number mirror segments acting as primary segments", "%d",
				       c.acting_primary);
			state_table_kv(&t, false,
				       "Total number mirror segments acting as mirror segments", "%d",
				       c.total - c.acting_primary);
		}
		state_table_separator(&t);
	}
	rc = state_table_has_warnings(&t) ? 1 : 0;
	state_table_output(&t);
	state_table_free(&t);
	return rc;
}

int state_show_quick(const struct state_view *v)
{
	struct state_table t;
	int up = 0, down = 0;

	log_info("-Quick Greenplum database status from Coordinator instance only");
	log_info("----------------------------------------------------------");
	for (size_t i = 0; i < v->cat->nsegs; i++) {
		const struct segment *s = &v->cat->segs[i];

		if (s->content < 0)
			continue;
		if (s->status == STATUS_UP)
			up++;
		else
			down++;
	}
	log_info("# of up segments, from configuration table     = %d", up);
	if (down > 0) {
		log_info("# of down segments, from configuration table   = %d", down);
		state_table_init(&t);
		state_table_row(&t, false, "Down Segment", "Datadir", "Port");
		for (size_t i = 0; i < v->cat->nsegs; i++) {
			const struct segment *s = &v->cat->segs[i];
			char port[16];

			if (s->content < 0 || s->status != STATUS_DOWN)
				continue;
			snprintf(port, sizeof(port), "%d", s->port);
			state_table_row(&t, false, s->address, s->datadir, port);
		}
		state_table_output(&t);
		state_table_free(&t);
	}
	log_info("----------------------------------------------------------");
	return down > 0 ? 1 : 0;
}

static void show_coordinator_replication(const struct state_view *v)
{
	static const char sql[] =
		"SELECT state, sync_state, sent_lsn, flush_lsn, replay_lsn,"
		" pg_wal_lsn_diff(pg_current_wal_lsn(), flush_lsn)::bigint,"
		" pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint,"
		" coalesce(replay_lag::text, '0')"
		" FROM pg_stat_replication ORDER BY backend_start";
	struct errbuf err;
	PGresult *res;

	log_info("-------------------------------------------------------------");
	log_info("-pg_stat_replication");
	log_info("-------------------------------------------------------------");
	errbuf_clear(&err);
	res = pg_query(v->coord->conn, sql, 0, NULL, &err);
	if (res == NULL) {
		log_warning("cannot read pg_stat_replication on the coordinator: %s", err.msg);
	} else if (PQntuples(res) == 1) {
		log_info("-WAL Sender State: %s", PQgetvalue(res, 0, 0));
		log_info("-Sync state: %s", PQgetvalue(res, 0, 1));
		log_info("-Sent Location: %s", PQgetvalue(res, 0, 2));
		log_info("-Flush Location: %s", PQgetvalue(res, 0, 3));
		log_info("-Replay Location: %s", PQgetvalue(res, 0, 4));
		log_info("-Flush lag (bytes): %s", PQgetvalue(res, 0, 5));
		log_info("-Replay lag (bytes): %s", PQgetvalue(res, 0, 6));
		log_info("-Replay lag (time): %s", PQgetvalue(res, 0, 7));
	} else if (PQntuples(res) > 1) {
		log_warning("pg_stat_replication shows more than 1 row.");
	} else {
		log_info("No entries found.");
	}
	PQclear(res);
	log_info("-------------------------------------------------------------");
}

int state_show_standby(const struct state_view *v)
{
	const struct segment *standby = catalog_standby(v->cat);
	const struct instance_probe *p;
	struct state_table t;
	int rc = 0;

	if (standby == NULL) {
		log_info("Standby coordinator instance not configured");
		show_coordinator_replication(v);
		return 0;
	}
	p = state_probe_of(v, standby);
	log_info("Standby coordinator details");
	log_info("----------------------");
	state_table_init(&t);
	state_table_kv(&t, false, "Standby address", "%s", standby->address);
	state_table_kv(&t, false, "Standby data directory", "%s", standby->datadir);
	state_table_kv(&t, false, "Standby port", "%d", standby->port);
	if (p == NULL) {
		state_table_kv(&t, standby->status == STATUS_DOWN, "Standby status", "%s",
			       standby->status == STATUS_DOWN ? "Down in configuration"
							      : "Not checked (-Q)");
	} else if (!p->host_ok) {
		state_table_kv(&t, true, "Standby PID", "%s", p->host_error);
		state_table_kv(&t, true, "Standby status", "Status could not be determined");
	} else if (p->pidfile_pid <= 0 || !p->process_found) {
		state_table_kv(&t, true, "Standby PID", "%ld", p->pidfile_found ? p->pidfile_pid : 0);
		state_table_kv(&t, true, "Standby status", "Standby process not running");
	} else {
		state_table_kv(&t, false, "Standby PID", "%ld", p->pidfile_pid);
		state_table_kv(&t, false, "Standby status", "Standby host passive");
	}
	rc = state_table_has_warnings(&t) ? 1 : 0;
	state_table_output(&t);
	state_table_free(&t);
	show_coordinator_replication(v);
	return rc;
}
