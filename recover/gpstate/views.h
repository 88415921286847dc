/*
 * views: gpstate's views, each printing through the log (as Greenplum's gpstate does) and
 * returning the exit code: 0, or 1 when what it shows needs attention.
 *
 *   state_show_summary   gpstate, gpstate -b    (state_summary.c)
 *   state_show_quick     gpstate -Q             (state_summary.c)
 *   state_show_standby   gpstate -f             (state_summary.c)
 *   state_show_report    gpstate -e             (state_report.c)
 *   state_show_mirrors   gpstate -m             (state_mirrors.c)
 *   state_show_config    gpstate -c             (state_mirrors.c)
 *   state_show_detail    gpstate -s             (state_detail.c)
 *   state_show_ports     gpstate -p             (inventory.c)
 *   state_show_versions  gpstate -i             (inventory.c)
 *   state_show_json      gpstate --json         (inventory.c)
 *
 * The judgements every view shares (is an instance down, is a pair synchronized, ...) are in
 * state_status.c, so that the views cannot disagree.
 */
#ifndef SEGRECOVER_GPSTATE_VIEWS_H
#define SEGRECOVER_GPSTATE_VIEWS_H

#include <stdbool.h>
#include <stddef.h>

#include "catalog.h"
#include "coordinator.h"
#include "gpstate/probe.h"

struct state_view {
	const struct catalog *cat;
	const struct cluster_probe *probe; /* NULL: the catalog alone (-Q) */
	struct coordinator *coord;
};

int state_show_summary(const struct state_view *v);
int state_show_quick(const struct state_view *v);
int state_show_standby(const struct state_view *v);
int state_show_report(const struct state_view *v);
int state_show_mirrors(const struct state_view *v);
int state_show_config(const struct state_view *v);
int state_show_detail(const struct state_view *v);
int state_show_ports(const struct state_view *v);    /* -p (inventory.c) */
int state_show_versions(const struct state_view *v); /* -i (inventory.c) */
int state_show_json(const struct state_view *v);     /* --json (inventory.c) */

struct state_table;
/* The "Coordinator standby" rows of the summary and of -s (state_summary.c). */
void state_standby_summary(const struct state_view *v, struct state_table *t);

/* ---- shared judgements (state_status.c) ---- */

/* What gpstate concludes about one instance's server. */
enum state_db {
	STATE_DB_NOT_PROBED,     /* -Q: only the catalog is known */
	STATE_DB_UP,
	STATE_DB_DOWN_IN_CONFIG, /* the catalog marks it down */
	STATE_DB_DOWN,           /* no answer and no postmaster process */
	STATE_DB_NOT_ACCEPTING,  /* a postmaster runs but the connection failed */
	STATE_DB_WRONG_SERVER,   /* the port is served from another data directory */
	STATE_DB_UNKNOWN,        /* no answer, and its host could not be checked */
};

const struct instance_probe *state_probe_of(const struct state_view *v, const struct segment *s);
enum state_db state_db_of(const struct state_view *v, const struct segment *s);
/* Greenplum's "Database status" text; *warn when it needs attention. */
const char *state_db_text(enum state_db db, bool *warn);
/* "may include segments where status could not be retrieved": anything but up (or not probed). */
bool state_probably_down(const struct state_view *v, const struct segment *s);

/* True when the server answered and its recovery state contradicts its role in the catalog. */
bool state_role_differs(const struct state_view *v, const struct segment *s);
/* "Primary" or "Mirror (in recovery)" as the server itself says; NULL when unknown. */
const char *state_server_role(const struct state_view *v, const struct segment *s);

/*
 * Is the pair of this acting primary out of sync? *remaining is Greenplum's "WAL sync remaining
 * bytes" text ("Unknown" when there is no walsender or it could not be asked). *unqueried is
 * set when the primary could not be asked and the catalog says the pair is in sync (Greenplum
 * then warns "could not query segment" and leaves the pair out).
 */
bool state_pair_unsynced(const struct state_view *v, const struct segment *primary,
			 char *remaining, size_t len, bool *unqueried);

/* Greenplum's "DATABASE IS PROBABLY UNAVAILABLE": a content without a usable instance. */
bool state_cluster_probably_down(const struct state_view *v);
void state_warn_cluster_down(const struct state_view *v);

/* The standby's state for the summary: "Standby host passive", or why not (*warn). */
const char *state_standby_text(const struct state_view *v, const struct segment *standby,
			       bool *warn, char *buf, size_t len);

/* A byte count, or "Unknown" for -1. */
const char *state_bytes(long long v, char *buf, size_t len);
/* "Group" or "Spread" mirroring, as Greenplum guesses it; "No Mirror" without mirrors. */
const char *state_mirror_type(const struct catalog *cat);

#endif
