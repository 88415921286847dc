/*
 * timeline: PostgreSQL timeline histories (pg_wal/NNNNNNNN.history), the divergence point of two
 * histories (pg_rewind's common ancestor), and WAL segment file names.
 */
#ifndef SEGRECOVER_BASE_TIMELINE_H
#define SEGRECOVER_BASE_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errbuf.h"
#include "pgcontrol.h" /* lsn_t, LSN_INVALID, LSN_FMT, LSN_ARGS */

/* "000000010000000000000003": timeline, then the segment number in two 32-bit halves. */
#define WAL_FILE_NAME_LEN 24

/*
 * One timeline of a history: the LSNs [begin, end) were written on it. LSN_INVALID as begin means
 * "from the start of WAL", as end "still the current timeline" (infinity).
 */
struct timeline_entry {
	uint32_t tli;
	lsn_t begin;
	lsn_t end;
};

/* Oldest timeline first; the last entry is the history's own timeline (end LSN_INVALID). */
struct timeline_history {
	struct timeline_entry *entries;
	size_t count;
};

/* The history of timeline 1, which has no file: one entry, begin and end invalid. */
void timeline_history_init_first(struct timeline_history *out);

/*
 * Parse the text of TLI's history file (LEN bytes, need not be NUL-terminated). Lines are
 * "parentTLI<whitespace>X/X[<whitespace>reason]"; blank lines and '#' lines are skipped. Parent
 * TLIs must increase and be below TLI, switch points must not decrease. SOURCE names the file in
 * messages ("<source> line N: ..."). *out is filled only on success.
 */
int timeline_history_parse(const char *text, size_t len, uint32_t tli, const char *source,
			   struct timeline_history *out, struct errbuf *err);

/* TLI's history from WALDIR (its NNNNNNNN.history file; timeline 1 needs none). */
int timeline_history_load(const char *waldir, uint32_t tli, struct timeline_history *out,
			  struct errbuf *err);

void timeline_history_copy(struct timeline_history *dst, const struct timeline_history *src);
void timeline_history_release(struct timeline_history *h);

/* The history's newest timeline (its own). */
uint32_t timeline_history_tli(const struct timeline_history *h);

/*
 * Where two servers' WAL stopped being the same: walk both histories from the oldest while the
 * entries have the same TLI and begin; the last such entry is the common timeline, and the
 * divergence LSN is the smaller of the two entries' ends (an invalid end counts as infinity).
 * An invalid divergence LSN means both are still on the common timeline: they have not diverged.
 * Fails when even the first entries differ.
 */
struct timeline_divergence {
	size_t index; /* of the common entry, in both histories */
	uint32_t tli; /* the common ancestor timeline */
	lsn_t lsn;    /* the divergence point (LSN_INVALID: none) */
};

int timeline_find_common_ancestor(const struct timeline_history *source,
				  const struct timeline_history *target,
				  struct timeline_divergence *out, struct errbuf *err);

/* The timeline LSN was written on: the entry with begin <= LSN < end. 0 if none. */
uint32_t timeline_tli_of_lsn(const struct timeline_history *h, lsn_t lsn);

/*
 * The timeline whose file holds segment SEGNO. A segment in which a timeline switch happens is read
 * from the new timeline's file (it holds a copy of the old timeline's part), so this is the first
 * timeline whose end is at or after the end of the segment, like the server's reader.
 */
uint32_t timeline_tli_of_segment(const struct timeline_history *h, uint64_t segno,
				 uint32_t seg_size);

/* Valid WAL segment size: a power of two from 1 MiB to 1 GiB. */
bool wal_seg_size_valid(uint32_t seg_size);

/* NAME gets WAL_FILE_NAME_LEN characters and a NUL. SEG_SIZE must be valid. */
void wal_file_name(char name[WAL_FILE_NAME_LEN + 1], uint32_t tli, uint64_t segno,
		   uint32_t seg_size);

/*
 * True when NAME is exactly a WAL segment file name for SEG_SIZE (24 upper-case hex digits, TLI
 * not 0, the low part below the number of segments per 4 GiB); fills *tli and *segno.
 */
bool wal_file_name_parse(const char *name, uint32_t seg_size, uint32_t *tli, uint64_t *segno);

#endif
