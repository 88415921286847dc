/*
 * targetguard: the one check before segrecover stops, deletes, overwrites or wipes anything in
 * a directory. It refuses, naming the owner, a path that is, contains or lies inside the data
 * directory or a tablespace of another instance of the catalog, or near a live postgres server.
 */
#ifndef SEGRECOVER_TARGETGUARD_H
#define SEGRECOVER_TARGETGUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "errbuf.h"

/* An instance of the catalog whose directories must not be touched. */
struct guard_instance {
	int dbid;
	char *hostname;
	char *address;
	int port;
	char *datadir;
	int local; /* -1 not known yet, 0 on another host, 1 on this host */
};

struct target_guard {
	struct guard_instance *inst;
	size_t n, cap;
	const char *this_address; /* the target's address, as the catalog names this host */
};

void guard_init(struct target_guard *g, const char *this_address);
void guard_free(struct target_guard *g);

/* Protect one instance. */
void guard_protect(struct target_guard *g, int dbid, const char *hostname, const char *address,
		   int port, const char *datadir);
/* Protect one instance given as "dbid|hostname|address|port|datadir" (gpsegrecovery --protect). */
int guard_protect_spec(struct target_guard *g, const char *spec, struct errbuf *err);
/* The --protect text of one instance; malloc'd. */
char *guard_format_spec(int dbid, const char *hostname, const char *address, int port,
			const char *datadir);

/*
 * The text rules for a data directory handed to PostgreSQL's tools: absolute, normalized (no
 * ".", ".." or empty component), no character that pg_ctl's /bin/sh would interpret inside
 * double quotes (" $ ` \) and no control character. WHAT names it in the message.
 */
int guard_path_text(const char *what, const char *path, struct errbuf *err);

enum guard_verdict {
	GUARD_OK = 0,
	GUARD_REFUSED = -1,       /* err says whose the path is */
	GUARD_TARGET_RUNNING = 1, /* a postmaster runs in exactly this directory (*pid); err says so */
};

/*
 * Check PATH (after the text rules, with symbolic links resolved) against every protected
 * instance on this host — its data directory and the tablespace directories its pg_tblspc
 * links point to — and against every live postgres process of this host. Postgres processes
 * left behind by a postmaster that was just killed get a few seconds to exit.
 */
enum guard_verdict guard_check(struct target_guard *g, const char *path, pid_t *pid,
			       struct errbuf *err);

/*
 * guard_check() every directory DATADIR's own pg_tblspc links point to (a recovery wipes or
 * writes them too); a running server there counts as a refusal.
 */
int guard_check_tablespaces(struct target_guard *g, const char *datadir, struct errbuf *err);

#endif
