/*
 * journal: gpinitstandby's record of what it is doing, kept durably in the coordinator's data
 * directory (STANDBY_JOURNAL_FILE) before and after every step, so that a run killed anywhere
 * is finished by the same command run again, or undone by gpinitstandby -r.
 */
#ifndef SEGRECOVER_GPINITSTANDBY_JOURNAL_H
#define SEGRECOVER_GPINITSTANDBY_JOURNAL_H

#include <stdbool.h>

#include "errbuf.h"
#include "strbuf.h"

enum journal_action { JOURNAL_NONE, JOURNAL_CREATE, JOURNAL_REMOVE };

/* The steps, in order. A create runs catalog, hba, copy; a remove runs stop, catalog, directory, slot. */
enum journal_step {
	STEP_NONE,      /* the intent is recorded, no step has begun */
	STEP_CATALOG,   /* the standby's row: added (create) or removed (remove) */
	STEP_HBA,       /* pg_hba.conf of the coordinator and the segments admit the standby */
	STEP_COPY,      /* the copy, its configuration, start, and streaming */
	STEP_STOP,      /* remove: the standby's postmaster stopped */
	STEP_DIRECTORY, /* remove: its data directory gone */
	STEP_SLOT,      /* remove: the coordinator's replication slot dropped */
};

struct standby_journal {
	enum journal_action action;
	char hostname[256];
	char address[256];
	int port;
	char datadir[1024];
	int dbid;               /* 0 until the catalog step has given one */
	bool hba_hostnames;
	enum journal_step step; /* the step begun last */
	bool step_done;         /* and it is complete */
};

/* The journal of the coordinator whose data directory is DIR; JOURNAL_NONE when there is none. */
int journal_read(const char *dir, struct standby_journal *j, struct errbuf *err);
/* Replace it durably (temp file, fsync, rename, fsync of the directory). */
int journal_write(const char *dir, const struct standby_journal *j, struct errbuf *err);
/* Remove it durably: the work it recorded is complete. */
int journal_clear(const char *dir, struct errbuf *err);

/* Record STEP begun (done false) or complete (done true), durably. */
int journal_mark(const char *dir, struct standby_journal *j, enum journal_step step, bool done,
		 struct errbuf *err);

/* Has J completed STEP (or a later one)? */
bool journal_has_done(const struct standby_journal *j, enum journal_step step);

/* The file's text form: "key=value" lines. parse refuses what format would not write. */
void journal_format(const struct standby_journal *j, struct strbuf *out);
int journal_parse(const char *text, struct standby_journal *j, struct errbuf *err);

const char *journal_step_name(enum journal_step step);

#endif
