/* detail: gpstate -s, every instance in detail (Greenplum's "Segment Instance Status Report"). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "gpstate/table.h"
#include "gpstate/views.h"
#include "log.h"
#include "pgconn.h"

#define DETAIL_RULE "----------------------------------------------------"
#define SECTION_MAX 12

/* One category of an instance's values ("Segment Info", "Status", ...); empty ones are not shown. */
struct section {
	const char *title;
	struct {
		const char *key;
		char value[1100];
		bool warn;
	} items[SECTION_MAX];
	int n;
};

static void section_init(struct section *sec, const char *title)
{
	sec->title = title;
	sec->n = 0;
}

static void add(struct section *sec, const char *key, bool warn, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void add(struct section *sec, const char *key, bool warn, const char *fmt, ...)
{
	va_list ap;

	if (sec->n == SECTION_MAX)
		return;
	sec->items[sec->n].key = key;
	sec->items[sec->n].warn = warn;
	va_start(ap, fmt);
	vsnprintf(sec->items[sec->n].value, sizeof(sec->items[sec->n].value), fmt, ap);
	va_end(ap);
	sec->n++;
}

static void emit(struct state_table *t, const struct section *sec)
{
	if (sec->n == 0)
		return;
	state_table_row(t, false, sec->title);
	for (int i = 0; i < sec->n; i++) {
		char key[128];

		snprintf(key, sizeof(key), "   %s", sec->items[i].key);
		state_table_kv(t, sec->items[i].warn, key, "%s", sec->items[i].value);
	}
}

/* Greenplum shows a walsender state capitalized, and a base backup as a copy. */
static void walsender_state_text(const char *state, char *buf, size_t len)
{
	if (strcmp(state, "backup") == 0) {
		snprintf(buf, len, "Copying files from primary");
		return;
	}
	snprintf(buf, len, "%s", state);
	if (buf[0])
		buf[0] = (char) toupper((unsigned char) buf[0]);
}

static void mirroring_info(const struct state_view *v, const struct segment *s,
			   struct section *sec)
{
	const struct instance_probe *self = state_probe_of(v, s);
	char status[64];
	const char *start = NULL;

	snprintf(status, sizeof(status), "%s", segment_mode_name(s->mode));
	if (s->role == ROLE_MIRROR) {
		const struct segment *acting = catalog_acting(v->cat, s->content, ROLE_PRIMARY);
		const struct instance_probe *pp = acting ? state_probe_of(v, acting) : NULL;

		if (pp && pp->repl_ok && pp->ws.present && pp->ws.state[0])
			walsender_state_text(pp->ws.state, status, sizeof(status));
	} else if (self && self->repl_ok && self->backup_start[0]) {
		snprintf(status, sizeof(status), "Copying files from primary");
		start = self->backup_start;
	}
	add(sec, "Current role", false, "%s", segment_role_name(s->role));
	add(sec, "Preferred role", false, "%s", segment_role_name(s->preferred_role));
	add(sec, "Mirror status", false, "%s", status);
	if (start)
		add(sec, "Mirror recovery start", false, "%s", start);
}

static void error_info(const struct instance_probe *p, struct section *sec)
{
	if (p == NULL)
		return;
	if (!p->host_ok && !p->connected)
		add(sec, "Error Getting Segment Status", true, "%s; %s", p->host_error,
		    p->conn_error);
	else if (!p->host_ok)
		add(sec, "Error Getting Segment Status", true, "%s", p->host_error);
	else if (!p->connected)
		add(sec, "Error Getting Segment Status", false, "%s", p->conn_error);
}

static void replication_info(const struct state_view *v, const struct segment *s,
			     struct section *sec)
{
	char buf[32];

	if (v->probe == NULL || catalog_peer(v->cat, s) == NULL)
		return;
	if (s->role == ROLE_MIRROR) {
		const struct segment *acting = catalog_acting(v->cat, s->content, ROLE_PRIMARY);
		const struct instance_probe *pp = acting ? state_probe_of(v, acting) : NULL;
		bool known = pp && pp->repl_ok && pp->ws.present;
		const char *sent = known && pp->ws.sent_lsn[0] ? pp->ws.sent_lsn : NULL;
		const char *flush = known && pp->ws.flush_lsn[0] ? pp->ws.flush_lsn : NULL;
		const char *replay = known && pp->ws.replay_lsn[0] ? pp->ws.replay_lsn : NULL;

		add(sec, "WAL Sent Location", !sent, "%s", sent ? sent : "Unknown");
		add(sec, "WAL Flush Location", !flush, "%s", flush ? flush : "Unknown");
		add(sec, "WAL Replay Location", !replay, "%s", replay ? replay : "Unknown");
		add(sec, "Bytes received but remain to flush", !known || pp->flush_left < 0, "%s",
		    state_bytes(known ? pp->flush_left : -1, buf, sizeof(buf)));
		add(sec, "Bytes received but remain to replay", !known || pp->replay_left < 0, "%s",
		    state_bytes(known ? pp->replay_left : -1, buf, sizeof(buf)));
	} else {
		const struct instance_probe *p = state_probe_of(v, s);

		/* As Greenplum: nothing when the primary is down or could not be asked. */
		if (s->status != STATUS_UP || p == NULL || !p->repl_ok)
			return;
		add(sec, "Current write location", !p->current_lsn[0], "%s",
		    p->current_lsn[0] ? p->current_lsn : "Unknown");
		add(sec, "Bytes remaining to send to mirror", p->sent_left < 0, "%s",
		    state_bytes(p->ws.present ? p->sent_left : -1, buf, sizeof(buf)));
	}
}

static void status_info(const struct state_view *v, const struct segment *s, struct section *sec)
{
	const struct instance_probe *p = state_probe_of(v, s);
	enum state_db db = state_db_of(v, s);
	const char *text;
	bool warn;

	if (p != NULL && p->host_ok) {
		if (p->process_found)
			add(sec, "PID", false, "%ld", p->pidfile_pid);
		else
			add(sec, "PID", true, "Not found");
	}
	add(sec, "Configuration reports status as", s->status != STATUS_UP, "%s",
	    segment_status_name(s->status));
	text = state_db_text(db, &warn);
	add(sec, s->role == ROLE_MIRROR ? "Segment status" : "Database status", warn, "%s", text);
	if (state_role_differs(v, s))
		add(sec, "Role reported by the server", true, "%s", state_server_role(v, s));
	if (p != NULL && p->connected && p->datadir_differs)
		add(sec, "Data directory of the server on this port", true, "%s",
		    p->data_directory);
}

static void segment_rows(const struct state_view *v, const struct segment *s,
			 struct state_table *t)
{
	struct section sec;
	bool mirrored = catalog_has_mirrors(v->cat);

	state_table_separator(t);
	section_init(&sec, "Segment Info");
	add(&sec, "Hostname", false, "%s", s->hostname);
	add(&sec, "Address", false, "%s", s->address);
	add(&sec, "Datadir", false, "%s", s->datadir);
	add(&sec, "Port", false, "%d", s->port);
	emit(t, &sec);
	if (mirrored) {
		section_init(&sec, "Mirroring Info");
		mirroring_info(v, s, &sec);
		emit(t, &sec);
	}
	section_init(&sec, "Error Getting Segment Status");
	error_info(state_probe_of(v, s), &sec);
	emit(t, &sec);
	if (mirrored) {
		section_init(&sec, "Replication Info");
		replication_info(v, s, &sec);
		emit(t, &sec);
	}
	section_init(&sec, "Status");
	status_info(v, s, &sec);
	emit(t, &sec);
}

static bool coordinator_rows(const struct state_view *v, struct state_table *t)
{
	const struct segment *c = catalog_acting(v->cat, COORDINATOR_CONTENT, ROLE_PRIMARY);
	const struct instance_probe *p = c ? state_probe_of(v, c) : NULL;
	struct errbuf err;
	char *version = NULL;

	if (c == NULL)
		return false;
	state_table_kv(t, false, "Coordinator host", "%s", c->hostname);
	if (p != NULL && p->process_found)
		state_table_kv(t, false, "Coordinator postgres process ID", "%ld", p->pidfile_pid);
	else if (p != NULL)
		state_table_kv(t, true, "Coordinator postgres process ID", "%s",
			       p->host_ok ? "Not found" : p->host_error);
	state_table_kv(t, false, "Coordinator data directory", "%s", c->datadir);
	state_table_kv(t, false, "Coordinator port", "%d", c->port);
	errbuf_clear(&err);
	if (pg_query_value(v->coord->conn, "SHOW server_version", 0, NULL, &version, &err) == 0 &&
	    version)
		state_table_kv(t, false, "Postgres version", "%s", version);
	else
		state_table_kv(t, true, "Postgres version", "Unknown: %s", err.msg);
	free(version);
	state_table_kv(t, false, "segrecover version", "%s", SEGRECOVER_VERSION);
	state_standby_summary(v, t);
	return true;
}

int state_show_detail(const struct state_view *v)
{
	struct state_table t;
	bool warnings;

	log_info(DETAIL_RULE);
	log_info("-Coordinator Configuration & Status");
	log_info(DETAIL_RULE);
	state_warn_cluster_down(v);
	state_table_init(&t);
	coordinator_rows(v, &t);
	warnings = state_table_has_warnings(&t);
	state_table_output(&t);

	log_info(DETAIL_RULE);
	log_info("Segment Instance Status Report");
	for (size_t i = 0; i < v->cat->nsegs; i++)
		if (v->cat->segs[i].content >= 0)
			segment_rows(v, &v->cat->segs[i], &t);
	warnings = warnings || state_table_has_warnings(&t);
	state_table_output(&t);
	state_table_free(&t);

	state_warn_cluster_down(v);
	if (warnings) {
		log_warning("*****************************************************");
		log_warning("Warnings have been generated during status processing");
		log_warning("Check log file or review screen output");
		log_warning("*****************************************************");
	}
	return warnings ? 1 : 0;
}
