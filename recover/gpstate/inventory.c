/*
 * inventory: gpstate's lists of what runs where — -p (every instance's port), -i (every
 * instance's server version) — and --json, the catalog joined with the live state for
 * monitoring (stdout holds only the JSON document; messages go to stderr).
 */
#include <stdio.h>
#include <string.h>

#include "gpstate/table.h"
#include "gpstate/views.h"
#include "json.h"
#include "log.h"
#include "strbuf.h"

int state_show_ports(const struct state_view *v)
{
	const struct segment *c = catalog_coordinator(v->cat);
	const struct segment *sb = catalog_standby(v->cat);
	struct state_table t;
	char port[16];

	log_info("--------------------------------------------------------");
	if (c)
		log_info("--Coordinator segment instance  %s  port = %d", c->datadir, c->port);
	if (sb)
		log_info("--Standby coordinator instance  %s:%s  port = %d", sb->hostname, sb->datadir,
			 sb->port);
	log_info("--------------------------------------------------------");
	log_info("--Segment instance port assignments");
	log_info("----------------------------------");
	state_table_init(&t);
	state_table_row(&t, false, "Host", "Datadir", "Port");
	for (size_t i = 0; i < v->cat->nsegs; i++) {
		const struct segment *s = &v->cat->segs[i];

		if (s->content < 0)
			continue;
		snprintf(port, sizeof(port), "%d", s->port);
		state_table_row(&t, false, s->hostname, s->datadir, port);
	}
	state_table_output(&t);
	state_table_free(&t);
	return 0;
}

int state_show_versions(const struct state_view *v)
{
	struct state_table t;
	char port[16], first[64] = "";
	bool mixed = false, unknown = false;

	log_info("----------------------------------------------------");
	log_info("-Version information of the instances");
	log_info("----------------------------------------------------");
	state_table_init(&t);
	state_table_row(&t, false, "Host", "Datadir", "Port", "Version");
	for (size_t i = 0; i < v->cat->nsegs; i++) {
		const struct segment *s = &v->cat->segs[i];
		const struct instance_probe *p = state_probe_of(v, s);
		const char *ver = p && p->connected ? p->server_version : NULL;

		snprintf(port, sizeof(port), "%d", s->port);
		if (ver == NULL) {
			unknown = true;
		} else if (first[0] == '\0') {
			snprintf(first, sizeof(first), "%s", ver);
		} else if (strcmp(first, ver) != 0) {
			mixed = true;
		}
		state_table_row(&t, ver == NULL, s->hostname, s->datadir, port,
				ver ? ver : "unable to retrieve version");
	}
	state_table_output(&t);
	state_table_free(&t);
	if (mixed)
		log_warning("The instances run different server versions");
	else if (unknown)
		log_warning("The version of some instances could not be retrieved: they are down or "
			    "unreachable (see gpstate -e)");
	else
		log_info("All instances are running the same software version");
	return mixed || unknown ? 1 : 0;
}

static void add_int(struct strbuf *out, const char *key, long long value)
{
	json_add_key(out, key);
	strbuf_addf(out, "%lld,", value);
}

static void add_str(struct strbuf *out, const char *key, const char *value)
{
	json_add_key(out, key);
	json_add_string(out, value);
	strbuf_addch(out, ',');
}

static void add_bool(struct strbuf *out, const char *key, bool value)
{
	json_add_key(out, key);
	strbuf_addstr(out, value ? "true," : "false,");
}

static void add_letter(struct strbuf *out, const char *key, char letter)
{
	char s[2] = { letter, '\0' };

	add_str(out, key, s);
}

/* Drop the comma after the last member, then close. */
static void close_with(struct strbuf *out, char close)
{
	if (out->len > 0 && out->buf[out->len - 1] == ',')
		out->buf[--out->len] = '\0';
	strbuf_addch(out, close);
}

static void add_live(struct strbuf *out, const struct state_view *v, const struct segment *s)
{
	const struct instance_probe *p = state_probe_of(v, s);
	bool warn;

	json_add_key(out, "live");
	if (p == NULL) {
		strbuf_addstr(out, "null,");
		return;
	}
	strbuf_addch(out, '{');
	add_str(out, "state", state_db_text(state_db_of(v, s), &warn));
	add_bool(out, "needs_attention", warn);
	add_bool(out, "accepts_connections", p->connected);
	if (p->connected)
		add_bool(out, "in_recovery", p->in_recovery);
	if (p->pidfile_found && p->pidfile_pid > 0)
		add_int(out, "postmaster_pid", p->pidfile_pid);
	if (p->server_version[0])
		add_str(out, "server_version", p->server_version);
	if (!p->connected)
		add_str(out, "error", p->conn_error);
	if (p->repl_ok) {
		json_add_key(out, "replication");
		if (!p->ws.present) {
			strbuf_addstr(out, "null,");
		} else {
			strbuf_addch(out, '{');
			add_str(out, "state", p->ws.state);
			add_str(out, "sync_state", p->ws.sync_state);
			add_str(out, "current_lsn", p->current_lsn);
			add_str(out, "sent_lsn", p->ws.sent_lsn);
			add_str(out, "flush_lsn", p->ws.flush_lsn);
			add_str(out, "replay_lsn", p->ws.replay_lsn);
			add_int(out, "sent_left_bytes", p->sent_left);
			add_int(out, "flush_left_bytes", p->flush_left);
			add_int(out, "replay_left_bytes", p->replay_left);
			close_with(out, '}');
			strbuf_addch(out, ',');
		}
	}
	close_with(out, '}');
	strbuf_addch(out, ',');
}

int state_show_json(const struct state_view *v)
{
	struct strbuf out = STRBUF_INIT;
	size_t down = 0, switched = 0, unsynced = 0;
	int rc;

	strbuf_init(&out, 4096);
	strbuf_addch(&out, '{');
	add_int(&out, "format", 1);
	add_bool(&out, "probed", v->probe != NULL);
	json_add_key(&out, "instances");
	strbuf_addch(&out, '[');
	for (size_t i = 0; i < v->cat->nsegs; i++) {
		const struct segment *s = &v->cat->segs[i];

		strbuf_addch(&out, '{');
		add_int(&out, "dbid", s->dbid);
		add_int(&out, "content", s->content);
		add_letter(&out, "role", s->role);
		add_letter(&out, "preferred_role", s->preferred_role);
		add_letter(&out, "mode", s->mode);
		add_letter(&out, "status", s->status);
		add_int(&out, "port", s->port);
		add_str(&out, "hostname", s->hostname);
		add_str(&out, "address", s->address);
		add_str(&out, "datadir", s->datadir);
		add_live(&out, v, s);
		close_with(&out, '}');
		strbuf_addch(&out, ',');
		if (s->content < 0)
			continue;
		down += s->status == STATUS_DOWN || state_probably_down(v, s);
		switched += s->role == ROLE_PRIMARY && s->preferred_role != ROLE_PRIMARY;
		if (s->role == ROLE_PRIMARY && s->mode != MODE_SYNCED && catalog_has_mirrors(v->cat))
			unsynced++;
	}
	close_with(&out, ']');
	strbuf_addch(&out, ',');
	json_add_key(&out, "summary");
	strbuf_addch(&out, '{');
	add_int(&out, "contents", catalog_ncontents(v->cat));
	add_int(&out, "instances_down", (long long) down);
	add_int(&out, "pairs_switched", (long long) switched);
	add_int(&out, "pairs_not_in_sync", (long long) unsynced);
	add_bool(&out, "standby_configured", catalog_standby(v->cat) != NULL);
	close_with(&out, '}');
	close_with(&out, '}');
	strbuf_addch(&out, '\n');
	rc = fwrite(out.buf, 1, out.len, stdout) == out.len ? 0 : 1;
	fflush(stdout);
	strbuf_release(&out);
	if (rc == 0 && (down || switched || unsynced))
		rc = 1;
	return rc;
}
