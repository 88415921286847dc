/*
 * progressfile: recovery_progress.file, written by gprecoverseg and read by gpstate -e ("Segments
 * in recovery"). While gprecoverseg runs it holds <coordinator datadir>/gprecoverseg.lock and
 * rewrites recovery_progress.file in its log directory (-l, default ~/gpAdminLogs), where
 * gpstate -e reads it while that lock's holder lives (as Greenplum's gpstate does), one
 * line per segment being copied: "<type>:<dbid>:<progress text>", type full, incremental or
 * differential. Only lines whose text holds "<done>/<total> kB (<percent>%)" (pg_basebackup and
 * pg_rewind style) are shown, as Greenplum does.
 */
#ifndef SEGRECOVER_PROTO_PROGRESSFILE_H
#define SEGRECOVER_PROTO_PROGRESSFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "errbuf.h"

#define RECOVERY_LOCK_DIR "gprecoverseg.lock"
#define RECOVERY_PROGRESS_FILE "recovery_progress.file"

struct progress_entry {
	int dbid;
	char type[16];           /* full, incremental, differential */
	long long completed_kb;
	long long total_kb;
	int percent;
	long long sent_kb;        /* "<n> kB sent" (differential: moved, beside compared), or -1 */
};

/*
 * Replace the file with TEXT (LEN bytes): a temporary file renamed into place, so that a reader
 * sees the old or the new whole. Not fsynced: it describes a running process and is rewritten
 * every second; after a crash a stale one is only shown while its lock directory says so.
 */
int progressfile_write(const char *path, const char *text, size_t len, struct errbuf *err);

/* Parse one line of recovery_progress.file; false when it has no kB progress to show. */
bool progressfile_parse_line(const char *line, struct progress_entry *out);

/*
 * Find "<digits>/<digits> kB (<digits>%)" anywhere in text. Returns true and fills the numbers
 * when found.
 */
bool progressfile_find(const char *text, long long *completed_kb, long long *total_kb,
			 int *percent);

/*
 * Read the progress file; *entries is malloc'd (the caller frees it), *n the number of
 * entries. A missing file is no error: zero entries.
 */
int progressfile_read(const char *path, struct progress_entry **entries, size_t *n,
			struct errbuf *err);

#endif
