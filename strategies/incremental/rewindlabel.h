/*
 * rewindlabel: the last step of an incremental recovery: backup_label says where replay starts
 * (the replay way: the last common checkpoint; the blocks way: the bracket's own label), and
 * pg_control (the source's, as fetched after the copy) where the instance becomes consistent.
 */
#ifndef SEGRECOVER_INCREMENTAL_REWINDLABEL_H
#define SEGRECOVER_INCREMENTAL_REWINDLABEL_H

#include <stddef.h>
#include <time.h>

#include "errbuf.h"
#include "pgcontrol.h"
#include "strbuf.h"

struct rewind_start {
	lsn_t redo;           /* the last common checkpoint's redo pointer */
	lsn_t checkpoint;     /* the checkpoint record */
	uint32_t tli;         /* its timeline */
	uint32_t seg_size;
};

/* The backup_label text (pg_rewind's form: "BACKUP FROM: standby" makes minRecoveryPoint the end). */
void rewindlabel_render(struct strbuf *out, const struct rewind_start *start, time_t when);

/*
 * Turn the source's control file into the target's: state "in archive recovery", minimum
 * recovery point = CONSISTENT_AT on timeline TLI; backup fields cleared. Then write it.
 */
int rewindlabel_write_control(const char *datadir, struct pgcontrol *source_after,
			      lsn_t consistent_at, uint32_t tli, struct errbuf *err);

#endif
