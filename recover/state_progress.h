/*
 * state_progress: what gpstate -e shows under "Segments in recovery". While gprecoverseg runs it
 * holds <coordinator datadir>/gprecoverseg.lock and rewrites recovery_progress.file there, one
 * line per segment being copied: "<type>:<dbid>:<progress text>", type full, incremental or
 * differential. Only lines whose text holds "<done>/<total> kB (<percent>%)" (pg_basebackup and
 * pg_rewind style) are shown, as Greenplum does.
 */
#ifndef SEGRECOVER_STATE_PROGRESS_H
#define SEGRECOVER_STATE_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>

#include "errbuf.h"

#define STATE_RECOVERY_LOCK "gprecoverseg.lock"
#define STATE_RECOVERY_PROGRESS_FILE "recovery_progress.file"

struct state_progress {
	int dbid;
	char type[16];           /* full, incremental, differential */
	long long completed_kb;
	long long total_kb;
	int percent;
};

/* Parse one line of recovery_progress.file; false when it has no kB progress to show. */
bool state_progress_parse_line(const char *line, struct state_progress *out);

/*
 * Find "<digits>/<digits> kB (<digits>%)" anywhere in text. Returns true and fills the numbers
 * when found.
 */
bool state_progress_find(const char *text, long long *completed_kb, long long *total_kb,
			 int *percent);

/*
 * Read the progress file; *entries is malloc'd (the caller frees it), *n the number of
 * entries. A missing file is no error: zero entries.
 */
int state_progress_read(const char *path, struct state_progress **entries, size_t *n,
			struct errbuf *err);

#endif
