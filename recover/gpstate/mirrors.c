/* mirrors: gpstate -m (the mirror list) and gpstate -c (the primary to mirror mapping). */
#include <stdio.h>
#include <string.h>

#include "gpstate/table.h"
#include "gpstate/views.h"
#include "log.h"

#define MIRROR_RULE "-------------------------------------------------------------"

/* The address, data directory and port cells of an instance. */
struct triplet {
	const char *address, *datadir;
	char port[16];
};

static void triplet_of(const struct segment *s, struct triplet *t)
{
	t->address = s ? s->address : "";
	t->datadir = s ? s->datadir : "";
	if (s)
		snprintf(t->port, sizeof(t->port), "%d", s->port);
	else
		t->port[0] = '\0';
}

/*
 * The pair's replication stream as its acting primary reports it: sent, flush and replay
 * locations and the bytes sent but not yet replayed. Empty when not probed (-Q) or the mirror
 * has failed; "Unknown" when the primary could not say (no walsender, no answer).
 */
static void stream_cells(const struct state_view *v, const struct segment *mirror, bool failed,
			 char cells[4][40])
{
	const struct segment *acting = catalog_acting(v->cat, mirror->content, ROLE_PRIMARY);
	const struct instance_probe *p = acting ? state_probe_of(v, acting) : NULL;

	for (int i = 0; i < 4; i++)
		cells[i][0] = '\0';
	if (v->probe == NULL || failed)
		return;
	if (p == NULL || !p->repl_ok || !p->ws.present) {
		for (int i = 0; i < 4; i++)
			snprintf(cells[i], 40, "Unknown");
		return;
	}
	snprintf(cells[0], 40, "%s", p->ws.sent_lsn[0] ? p->ws.sent_lsn : "Unknown");
	snprintf(cells[1], 40, "%s", p->ws.flush_lsn[0] ? p->ws.flush_lsn : "Unknown");
	snprintf(cells[2], 40, "%s", p->ws.replay_lsn[0] ? p->ws.replay_lsn : "Unknown");
	state_bytes(p->replay_left, cells[3], 40);
}

int state_show_mirrors(const struct state_view *v)
{
	struct state_table t;
	int acting_primary = 0, failed = 0, unsynced = 0, not_answering = 0;

	if (!catalog_has_mirrors(v->cat)) {
		log_warning(MIRROR_RULE);
		log_warning("Mirror not used");
		log_warning(MIRROR_RULE);
		return 0;
	}
	state_table_init(&t);
	state_table_row(&t, false, "Mirror", "Datadir", "Port", "Status", "Data Status",
			"WAL Sent Location", "WAL Flush Location", "WAL Replay Location",
			"Replay Lag (bytes)");
	for (size_t i = 0; i < v->cat->nsegs; i++) {
		const struct segment *s = &v->cat->segs[i];
		const char *status, *data_status = segment_mode_name(s->mode);
		char stream[4][40];
		struct triplet tr;
		bool warn = false, is_failed = false;

		if (s->content < 0 || s->preferred_role != ROLE_MIRROR)
			continue;
		if (s->role == ROLE_PRIMARY) {
			status = "Acting as Primary";
			acting_primary++;
			if (s->mode != MODE_SYNCED)
				unsynced++;
		} else if (s->status == STATUS_UP) {
			status = "Passive";
			if (state_probably_down(v, s)) {
				/* Up in the catalog, but it does not answer: the probe has not caught up. */
				warn = true;
				not_answering++;
			}
		} else {
			status = "Failed";
			data_status = "";
			warn = is_failed = true;
			failed++;
		}
		triplet_of(s, &tr);
		stream_cells(v, s, is_failed, stream);
		state_table_row(&t, warn, tr.address, tr.datadir, tr.port, status, data_status,
				stream[0], stream[1], stream[2], stream[3]);
	}
	log_info(MIRROR_RULE);
	log_info("-Current GPDB mirror list and status");
	log_info("-Type = %s", state_mirror_type(v->cat));
	log_info(MIRROR_RULE);
	state_table_output(&t);
	state_table_free(&t);
	log_info(MIRROR_RULE);
	if (acting_primary > 0)
		log_warning("%d segment(s) configured as mirror(s) are acting as primaries",
			    acting_primary);
	if (failed > 0)
		log_warning("%d segment(s) configured as mirror(s) have failed", failed);
	if (unsynced > 0)
		log_warning("%d mirror segment(s) acting as primaries are not synchronized",
			    unsynced);
	if (not_answering > 0)
		log_warning("%d segment(s) configured as mirror(s) are up in the configuration but "
			    "do not answer; see gpstate -e",
			    not_answering);
	return failed > 0 || not_answering > 0 ? 1 : 0;
}

int state_show_config(const struct state_view *v)
{
	struct state_table t;
	int unsynced = 0, acting_primary = 0, failed = 0;

	state_table_init(&t);
	if (!catalog_has_mirrors(v->cat)) {
		log_info(MIRROR_RULE);
		log_info("-Primary list [Mirror not used]");
		log_info(MIRROR_RULE);
		state_table_row(&t, false, "Primary", "Datadir", "Port");
		for (size_t i = 0; i < v->cat->nsegs; i++) {
			struct triplet tr;

			if (v->cat->segs[i].content < 0)
				continue;
			triplet_of(&v->cat->segs[i], &tr);
			state_table_row(&t, false, tr.address, tr.datadir, tr.port);
		}
		state_table_output(&t);
		state_table_free(&t);
		log_info(MIRROR_RULE);
		return 0;
	}
	log_info(MIRROR_RULE);
	log_info("-Current GPDB mirror list and status");
	log_info("-Type = %s", state_mirror_type(v->cat));
	log_info(MIRROR_RULE);
	state_table_row(&t, false, "Status", "Data State", "Primary", "Datadir", "Port", "Mirror",
			"Datadir", "Port");
	for (size_t i = 0; i < v->cat->nsegs; i++) {
		const struct segment *p = &v->cat->segs[i], *m = NULL, *acting_p, *acting_m;
		char status[64];
		struct triplet tp, tm;
		bool warn = false;

		if (p->content < 0 || p->preferred_role != ROLE_PRIMARY)
			continue;
		for (size_t j = 0; j < v->cat->nsegs; j++)
			if (v->cat->segs[j].content == p->content &&
			    v->cat->segs[j].preferred_role == ROLE_MIRROR)
				m = &v->cat->segs[j];
		if (p->role == ROLE_MIRROR && m != NULL) {
			acting_p = m;
			acting_m = p;
			acting_primary++;
			snprintf(status, sizeof(status), "Mirror Active, Primary %s",
				 acting_m->status == STATUS_UP ? "Available" : "Failed");
		} else {
			acting_p = p;
			acting_m = m;
			if (m == NULL)
				snprintf(status, sizeof(status), "Primary Active, No Mirror");
			else
				snprintf(status, sizeof(status), "Primary Active, Mirror %s",
					 m->status == STATUS_UP ? "Available" : "Failed");
		}
		if (acting_m != NULL && acting_m->status != STATUS_UP)
			failed++;
		if (acting_m != NULL && acting_p->mode != MODE_SYNCED) {
			warn = true;
			unsynced++;
		}
		triplet_of(p, &tp);
		triplet_of(m, &tm);
		state_table_row(&t, warn, status, segment_mode_name(acting_p->mode), tp.address,
				tp.datadir, tp.port, tm.address, tm.datadir, tm.port);
	}
	state_table_output(&t);
	state_table_free(&t);
	log_info(MIRROR_RULE);
	if (acting_primary > 0)
		log_warning("%d segment(s) configured as mirror(s) are acting as primaries",
			    acting_primary);
	if (unsynced > 0)
		log_warning("%d primary segment(s) are not synchronized", unsynced);
	return unsynced > 0 || failed > 0 ? 1 : 0;
}
