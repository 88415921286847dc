/*
 * syncer: makes what the full strategy writes durable while it is still receiving.
 *
 * The writer starts the kernel's writeback of every range it writes (full_writeback, a
 * non-waiting sync_file_range), so the disk works while the network delivers; it then hands
 * each finished file to the syncer, whose worker threads fsync and close it. At the end,
 * full_syncer_finish() waits for the files still in flight and fsyncs every directory that was
 * recorded (after everything inside it was written), so the final pass has little left to do.
 * The first failure is kept, with the file it concerns, and reported by every later call.
 */
#ifndef SEGRECOVER_FULL_SYNCER_H
#define SEGRECOVER_FULL_SYNCER_H

#include <stdbool.h>
#include <sys/types.h>

#include "errbuf.h"

struct full_syncer;

/* threads 0: fsync in the caller, at once (no threads). Never fails: threads it cannot start
 * are simply not used. */
struct full_syncer *full_syncer_new(unsigned threads);

/*
 * Take over FD, a finished file written at PATH (absolute, for messages and nothing else): it
 * is fsynced and closed by the syncer. Blocks while too many files are in flight. Returns -1
 * (FD closed, err filled) once any earlier sync has failed.
 */
int full_syncer_file(struct full_syncer *s, int fd, const char *path, struct errbuf *err);

/* A directory to fsync once every file is synced (duplicates are fine). */
void full_syncer_dir(struct full_syncer *s, const char *path);

/* Has a sync failed already? (Cheap; for the writer to stop early.) */
bool full_syncer_failed(struct full_syncer *s, struct errbuf *err);

/* Wait for every file, fsync every directory, stop the threads. Returns the first error. */
int full_syncer_finish(struct full_syncer *s, struct errbuf *err);

/* Stop the threads (after finish, or to abandon: pending files are closed unsynced) and free. */
void full_syncer_free(struct full_syncer *s);

/* Start writeback of a range just written to FD, without waiting for it. */
void full_writeback(int fd, off_t offset, off_t len);

/* Counters, for the strategy's log line. */
struct full_syncer_stats {
	unsigned long files;
	unsigned long dirs;
	double finish_seconds; /* time spent in full_syncer_finish */
};
void full_syncer_get_stats(const struct full_syncer *s, struct full_syncer_stats *st);

#endif
