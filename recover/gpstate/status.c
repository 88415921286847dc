/* status: the judgements every gpstate view shares (see views.h). */
#include <stdio.h>
#include <string.h>

#include "gpstate/views.h"
#include "log.h"

const struct instance_probe *state_probe_of(const struct state_view *v, const struct segment *s)
{
	return state_probe_find(v->probe, s);
}

enum state_db state_db_of(const struct state_view *v, const struct segment *s)
{
	const struct instance_probe *p;

	if (s->status == STATUS_DOWN)
		return STATE_DB_DOWN_IN_CONFIG;
	p = state_probe_of(v, s);
	if (p == NULL)
		return STATE_DB_NOT_PROBED;
	if (p->connected)
		return p->datadir_differs ? STATE_DB_WRONG_SERVER : STATE_DB_UP;
	if (!p->host_ok)
		return STATE_DB_UNKNOWN;
	return p->process_found ? STATE_DB_NOT_ACCEPTING : STATE_DB_DOWN;
}

const char *state_db_text(enum state_db db, bool *warn)
{
	*warn = db != STATE_DB_UP && db != STATE_DB_NOT_PROBED;
	switch (db) {
	case STATE_DB_NOT_PROBED:
		return "Up in configuration (not checked, -Q)";
	case STATE_DB_UP:
		return "Up";
	case STATE_DB_DOWN_IN_CONFIG:
		return "Down in configuration";
	case STATE_DB_DOWN:
		return "Down -- not answering, no postmaster process";
	case STATE_DB_NOT_ACCEPTING:
		return "Process running, not accepting connections";
	case STATE_DB_WRONG_SERVER:
		return "Port answered from another data directory";
	case STATE_DB_UNKNOWN:
		return "Unknown -- unable to load segment status";
	}
	return "Unknown";
}

bool state_probably_down(const struct state_view *v, const struct segment *s)
{
	bool warn;

	state_db_text(state_db_of(v, s), &warn);
	return warn;
}

bool state_role_differs(const struct state_view *v, const struct segment *s)
{
	const struct instance_probe *p = state_probe_of(v, s);

	if (p == NULL || !p->connected || p->datadir_differs || s->status == STATUS_DOWN)
		return false;
	return (s->role == ROLE_PRIMARY) == p->in_recovery;
}

const char *state_server_role(const struct state_view *v, const struct segment *s)
{
	const struct instance_probe *p = state_probe_of(v, s);

	if (p == NULL || !p->connected)
		return NULL;
	return p->in_recovery ? "Mirror (in recovery)" : "Primary (not in recovery)";
}

bool state_pair_unsynced(const struct state_view *v, const struct segment *primary,
			 char *remaining, size_t len, bool *unqueried)
{
	const struct instance_probe *p = state_probe_of(v, primary);

	*unqueried = false;
	snprintf(remaining, len, "Unknown");
	if (p == NULL) /* -Q: the catalog's word */
		return primary->mode == MODE_NOT_SYNCED;
	if (!p->repl_ok) {
		if (primary->mode == MODE_NOT_SYNCED)
			return true;
		*unqueried = true;
		return false;
	}
	if (!p->ws.present)
		return true;
	if (strcmp(p->ws.sync_state, "sync") == 0)
		return false;
	state_bytes(p->sync_remaining, remaining, len);
	return true;
}

bool state_cluster_probably_down(const struct state_view *v)
{
	const struct catalog *cat = v->cat;
	int ncontents = catalog_ncontents(cat);

	for (int c = 0; c < ncontents; c++) {
		const struct segment *acting = catalog_acting(cat, c, ROLE_PRIMARY);
		bool usable = false;

		for (size_t i = 0; i < cat->nsegs && !usable; i++) {
			const struct segment *s = &cat->segs[i];

			if (s->content != c || state_probably_down(v, s))
				continue;
			/* A mirror is only of use when its primary says they are in sync. */
			usable = s->role == ROLE_PRIMARY ||
				 (acting != NULL && acting->mode == MODE_SYNCED);
		}
		if (!usable)
			return true;
	}
	return false;
}

void state_warn_cluster_down(const struct state_view *v)
{
	if (!state_cluster_probably_down(v))
		return;
	log_warning("*****************************************************");
	log_warning("DATABASE IS PROBABLY UNAVAILABLE");
	log_warning("Review Instance Status in log file or screen output for more information");
	log_warning("*****************************************************");
}

const char *state_standby_text(const struct state_view *v, const struct segment *standby,
			       bool *warn, char *buf, size_t len)
{
	const struct instance_probe *p = state_probe_of(v, standby);

	*warn = true;
	if (p == NULL) {
		*warn = standby->status == STATUS_DOWN;
		return *warn ? "Standby host DOWN (in configuration)" : "Not checked (-Q)";
	}
	if (!p->host_ok && !p->connected) {
		snprintf(buf, len, "Status could not be determined: %s", p->host_error);
		return buf;
	}
	if ((p->pidfile_found && p->pidfile_pid > 0 && p->process_found) || p->connected) {
		*warn = false;
		return "Standby host passive";
	}
	return "Standby host DOWN";
}

const char *state_bytes(long long v, char *buf, size_t len)
{
	if (v < 0)
		snprintf(buf, len, "Unknown");
	else
		snprintf(buf, len, "%lld", v);
	return buf;
}

const char *state_mirror_type(const struct catalog *cat)
{
	if (!catalog_has_mirrors(cat))
		return "No Mirror";
	/*
	 * Greenplum's guess: mirroring is "Spread" when the mirrors of the primaries of one host
	 * live on more than one host, "Group" when each host's mirrors are together on one host.
	 */
	for (size_t i = 0; i < cat->nsegs; i++) {
		const struct segment *p = &cat->segs[i], *first = NULL;

		if (p->content < 0 || p->preferred_role != ROLE_PRIMARY)
			continue;
		for (size_t j = 0; j < cat->nsegs; j++) {
			const struct segment *q = &cat->segs[j], *m;

			if (q->content < 0 || q->preferred_role != ROLE_PRIMARY ||
			    strcmp(q->hostname, p->hostname) != 0)
				continue;
			m = NULL;
			for (size_t k = 0; k < cat->nsegs; k++)
				if (cat->segs[k].content == q->content &&
				    cat->segs[k].preferred_role == ROLE_MIRROR)
					m = &cat->segs[k];
			if (m == NULL)
				continue;
			if (first == NULL)
				first = m;
			else if (strcmp(first->hostname, m->hostname) != 0)
				return "Spread";
		}
	}
	return "Group";
}
