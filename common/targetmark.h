/*
 * targetmark: the files segrecover keeps in a target directory while it rebuilds it — the lock
 * and the in-progress marker that makes a half-done directory recognizably ours, so that the
 * same command run again may wipe and finish it.
 */
#ifndef SEGRECOVER_TARGETMARK_H
#define SEGRECOVER_TARGETMARK_H

#include <stdbool.h>

#include "errbuf.h"

/* The directory lock of a recovery at work (flock'ed; the file may outlive a killed run). */
#define TARGET_LOCK_FILE "segrecover.lock"
/* Present from before the first change until the rebuilt server streams. */
#define TARGET_MARK_FILE "segrecover.inprogress"

enum target_mark_state {
	TARGET_MARK_NONE,     /* no marker */
	TARGET_MARK_COPYING,  /* a strategy changes the directory (or a marker we cannot read) */
	TARGET_MARK_STARTING, /* the copy is complete and configured; the server is being started */
};

struct target_mark {
	enum target_mark_state state;
	char strategy[64]; /* the strategy that wrote it ("" when unknown) */
};

/* Write the marker durably (file and directory fsynced). */
int targetmark_write(const char *datadir, const char *strategy, enum target_mark_state state,
		     struct errbuf *err);
/* Read the marker; a missing one is TARGET_MARK_NONE, an unreadable one TARGET_MARK_COPYING. */
void targetmark_read(const char *datadir, struct target_mark *mark);
/* Remove the marker durably; a missing one is fine. */
int targetmark_remove(const char *datadir, struct errbuf *err);

/* gpinitstandby's journal, in the coordinator's data directory (see recover/gpinitstandby). */
#define STANDBY_JOURNAL_FILE "segrecover.gpinitstandby"

/*
 * Is REL (a path relative to a data directory) one of the coordinator's own files of
 * segrecover's commands — a command's lock directory (gprecoverseg.lock, gpfts.lock,
 * gpinitstandby.lock) or the journal above — or below one? They belong to the coordinator
 * that holds them, never to a copy of it (its standby).
 */
bool targetmark_is_coordinator_file(const char *rel);

/* Is NAME (a top-level entry of a data directory) one of the files above? Never copied. */
bool targetmark_is_own_file(const char *name);

#endif
