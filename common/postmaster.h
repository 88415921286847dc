/*
 * postmaster: whether a PostgreSQL server really runs in a directory. A postmaster.pid alone
 * proves nothing: its PID may be dead, a zombie, recycled by another program or by another
 * cluster's server. Only a live postgres process working in the directory counts.
 */
#ifndef SEGRECOVER_POSTMASTER_H
#define SEGRECOVER_POSTMASTER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "fsutil.h"

enum postmaster_state {
	POSTMASTER_NONE,    /* no postmaster.pid */
	POSTMASTER_STALE,   /* postmaster.pid names no live postmaster of this directory */
	POSTMASTER_RUNNING, /* its PID is a live postgres process working in the directory */
};

/*
 * The state of DATADIR's postmaster. *pid is set to the PID its postmaster.pid names (0 when
 * there is none). A process we may not inspect (another user's) counts as running.
 */
enum postmaster_state postmaster_state(const char *datadir, pid_t *pid);

/* postmaster_state() == POSTMASTER_RUNNING. */
bool postmaster_running(const char *datadir, pid_t *pid);

/*
 * What the postmaster itself says of its state, on line 8 of postmaster.pid (PostgreSQL 10 and
 * later write it; pg_ctl -w reads the same line).
 */
enum postmaster_status {
	POSTMASTER_STATUS_UNKNOWN,  /* no pid file, no such line yet, or a word we do not know */
	POSTMASTER_STATUS_STARTING, /* "starting": a standby that is not consistent yet says so */
	POSTMASTER_STATUS_STOPPING, /* "stopping" */
	POSTMASTER_STATUS_READY,    /* "ready": accepts connections (a hot standby: consistent) */
	POSTMASTER_STATUS_STANDBY,  /* "standby": in recovery with hot_standby off, which never
				       accepts connections, consistent or not */
};

/* The status DATADIR's postmaster.pid reports; it says nothing of whether that process lives. */
enum postmaster_status postmaster_status(const char *datadir);

/* Pure helper for tests: the status in the text of a postmaster.pid. */
enum postmaster_status postmaster_status_of(const char *pidfile_text);

/* A live (not zombie) process whose executable name starts with "postgres" or "postmaster". */
struct postgres_process {
	pid_t pid;
	char cwd[4096];               /* its working directory as it names it (for messages) */
	enum path_relation relation;  /* how the path asked about stands to that directory */
	pid_t postmaster;             /* the PID in that directory's postmaster.pid (0: none) */
	bool postmaster_runs;         /* and it is a live postmaster of that directory */
};

/*
 * The first live postgres process whose working directory is REAL, lies below it, or contains
 * it (REAL is a resolved absolute path). Directories are compared by inode, so that a process
 * in another mount namespace that names another tree by the same path does not count, and one
 * that names the same tree by another path does. Returns true and fills *found when there is
 * one. Processes that belong to another user and cannot be inspected are not seen.
 */
bool postgres_process_near(const char *real, struct postgres_process *found);

#endif
