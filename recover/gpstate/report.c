/* report: gpstate -e, the "Segment Mirroring Status Report" of what needs attention. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "gpstate/table.h"
#include "gpstate/views.h"
#include "log.h"
#include "pidlock.h"
#include "proto/progressfile.h"
#include "xalloc.h"

#define REPORT_RULE "----------------------------------------------------"

static void port_text(char *buf, size_t len, const struct segment *s)
{
	if (s)
		snprintf(buf, len, "%d", s->port);
	else
		snprintf(buf, len, "%s", "");
}

static void section(const char *title, struct state_table *t)
{
	log_info(REPORT_RULE);
	log_info("%s", title);
	state_table_output(t);
}

/* "Segments with Primary and Mirror Roles Switched": acting primaries that prefer to be mirrors. */
static int roles_switched(const struct state_view *v, struct state_table *t)
{
	int n = 0;

	state_table_row(t, false, "Current Primary", "Port", "Mirror", "Port");
	for (size_t i = 0; i < v->cat->nsegs; i++) {
		const struct segment *s = &v->cat->segs[i], *m;
		char port[16], mport[16];

		if (s->content < 0 || s->role != ROLE_PRIMARY || s->preferred_role == ROLE_PRIMARY)
			continue;
		m = catalog_acting(v->cat, s->content, ROLE_MIRROR);
		port_text(port, sizeof(port), s);
		port_text(mport, sizeof(mport), m);
		state_table_row(t, false, s->address, port, m ? m->address : "", mport);
		n++;
	}
	return n;
}

static int unsynchronized(const struct state_view *v, struct state_table *t)
{
	int n = 0;

	state_table_row(t, false, "Current Primary", "Port", "WAL sync remaining bytes", "Mirror",
			"Port");
	for (size_t i = 0; i < v->cat->nsegs; i++) {
		const struct segment *s = &v->cat->segs[i], *m;
		char port[16], mport[16], remaining[32];
		bool unqueried;

		if (s->content < 0 || s->role != ROLE_PRIMARY)
			continue;
		m = catalog_acting(v->cat, s->content, ROLE_MIRROR);
		if (m == NULL)
			continue; /* no pair */
		if (!state_pair_unsynced(v, s, remaining, sizeof(remaining), &unqueried)) {
			if (unqueried)
				log_warning("could not query segment %d (%s:%d)", s->dbid, s->hostname,
					    s->port);
			continue;
		}
		port_text(port, sizeof(port), s);
		port_text(mport, sizeof(mport), m);
		state_table_row(t, false, s->address, port, remaining, m->address, mport);
		n++;
	}
	return n;
}

static int downed(const struct state_view *v, struct state_table *t, int *up_but_down)
{
	int n = 0;

	*up_but_down = 0;
	state_table_row(t, false, "Segment", "Port", "Config status", "Status");
	for (size_t i = 0; i < v->cat->nsegs; i++) {
		const struct segment *s = &v->cat->segs[i];
		char port[16];
		bool warn;

		if (s->content < 0 || !state_probably_down(v, s))
			continue;
		if (s->status == STATUS_UP)
			(*up_but_down)++;
		port_text(port, sizeof(port), s);
		state_table_row(t, false, s->address, port, segment_status_name(s->status),
				state_db_text(state_db_of(v, s), &warn));
		n++;
	}
	return n;
}

/* Not in Greenplum (its mirrors cannot be asked): a server whose recovery state contradicts the catalog. */
static int roles_differ(const struct state_view *v, struct state_table *t)
{
	int n = 0;

	state_table_row(t, false, "Segment", "Port", "Configured role", "Server role");
	for (size_t i = 0; i < v->cat->nsegs; i++) {
		const struct segment *s = &v->cat->segs[i];
		char port[16];

		if (s->content < 0 || !state_role_differs(v, s))
			continue;
		port_text(port, sizeof(port), s);
		state_table_row(t, false, s->address, port, segment_role_name(s->role),
				state_server_role(v, s));
		n++;
	}
	return n;
}

static int in_recovery(const struct state_view *v, struct state_table *t)
{
	char *lockdir, *path;
	struct progress_entry *entries = NULL;
	size_t nentries = 0;
	struct errbuf err;
	int n = 0;

	if (v->coord->datadir[0] == '\0')
		return 0;
	lockdir = path_join(v->coord->datadir, RECOVERY_LOCK_DIR);
	if (pidlock_holder(lockdir) == 0) {
		free(lockdir);
		return 0;
	}
	/* Where gprecoverseg writes it: the log directory (this run's -l, or ~/gpAdminLogs). */
	path = log_dir_file(RECOVERY_PROGRESS_FILE);
	if (path == NULL)
		path = path_join(lockdir, RECOVERY_PROGRESS_FILE);
	errbuf_clear(&err);
	if (progressfile_read(path, &entries, &nentries, &err) != 0)
		log_warning("%s", err.msg);
	bool any_sent = false;

	for (size_t j = 0; j < nentries; j++)
		any_sent = any_sent || entries[j].sent_kb >= 0;
	/* Greenplum's columns; a differential copy adds what it moved beside what it compared. */
	if (any_sent)
		state_table_row(t, false, "Segment", "Port", "Recovery type", "Completed bytes (kB)",
				"Total bytes (kB)", "Percentage completed", "Sent bytes (kB)");
	else
		state_table_row(t, false, "Segment", "Port", "Recovery type", "Completed bytes (kB)",
				"Total bytes (kB)", "Percentage completed");
	for (size_t i = 0; i < v->cat->nsegs; i++) {
		const struct segment *s = &v->cat->segs[i];

		for (size_t j = 0; j < nentries; j++) {
			char port[16], done[32], total[32], pct[16], sent[32];

			if (entries[j].dbid != s->dbid)
				continue;
			port_text(port, sizeof(port), s);
			snprintf(done, sizeof(done), "%lld", entries[j].completed_kb);
			snprintf(total, sizeof(total), "%lld", entries[j].total_kb);
			snprintf(pct, sizeof(pct), "%d%%", entries[j].percent);
			if (entries[j].sent_kb >= 0)
				snprintf(sent, sizeof(sent), "%lld", entries[j].sent_kb);
			else
				snprintf(sent, sizeof(sent), "-");
			if (any_sent)
				state_table_row(t, false, s->address, port, entries[j].type, done, total,
						pct, sent);
			else
				state_table_row(t, false, s->address, port, entries[j].type, done, total,
						pct);
			n++;
		}
	}
	free(entries);
	free(path);
	free(lockdir);
	return n;
}

int state_show_report(const struct state_view *v)
{
	struct state_table t;
	int rc = 0, up_but_down = 0;

	if (!catalog_has_mirrors(v->cat)) {
		log_info("Physical mirroring is not configured");
		return 1;
	}
	log_info(REPORT_RULE);
	log_info("Segment Mirroring Status Report");
	state_table_init(&t);

	if (roles_switched(v, &t) > 0) {
		section("Segments with Primary and Mirror Roles Switched", &t);
		rc = 1;
	}
	state_table_free(&t);
	if (unsynchronized(v, &t) > 0) {
		section("Unsynchronized Segment Pairs", &t);
		rc = 1;
	}
	state_table_free(&t);
	if (downed(v, &t, &up_but_down) > 0) {
		section("Downed Segments (may include segments where status could not be retrieved)",
			&t);
		rc = 1;
	}
	state_table_free(&t);
	if (roles_differ(v, &t) > 0) {
		section("Segments whose server role differs from the configuration", &t);
		rc = 1;
	}
	state_table_free(&t);

	state_warn_cluster_down(v);

	if (in_recovery(v, &t) > 0) {
		section("Segments in recovery", &t);
		rc = 1;
	}
	state_table_free(&t);

	if (up_but_down > 0)
		log_warning("%d segment(s) marked up in the configuration do not answer: the fault "
			    "probe (gpfts) marks them down and fails over; then recover them with "
			    "gprecoverseg",
			    up_but_down);
	if (rc == 0) {
		log_info(REPORT_RULE);
		log_info("All segments are running normally");
	}
	return rc;
}
