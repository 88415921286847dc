/* walscan: pg_rewind's walks over the target's WAL: back from the divergence point to the last
 * common checkpoint, and forward from it handing each record and its block references over. */
#ifndef SEGRECOVER_INCREMENTAL_WALSCAN_H
#define SEGRECOVER_INCREMENTAL_WALSCAN_H

#include <stdbool.h>
#include <stdint.h>

#include "base/walreader.h"
#include "errbuf.h"

/* Size of the CheckPoint struct, the main data of a checkpoint record. */
#define WAL_CHECKPOINT_DATA_SIZE 88u

/* Database, Storage and Transaction record types that pg_rewind recognises (PostgreSQL 15). */
#define WAL_DBASE_CREATE_FILE_COPY 0x00u
#define WAL_DBASE_CREATE_WAL_LOG 0x10u
#define WAL_DBASE_DROP 0x20u
#define WAL_SMGR_CREATE 0x10u
#define WAL_SMGR_TRUNCATE 0x20u
#define WAL_XACT_OPMASK 0x70u
#define WAL_XACT_COMMIT 0x00u
#define WAL_XACT_ABORT 0x20u
#define WAL_XACT_COMMIT_PREPARED 0x30u
#define WAL_XACT_ABORT_PREPARED 0x40u

struct walscan_checkpoint {
	lsn_t lsn;     /* start of the checkpoint record (pg_rewind's chkptrec) */
	lsn_t end_lsn; /* its end (chkptendrec when read at pg_control's checkPoint) */
	uint32_t tli;  /* CheckPoint.ThisTimeLineID (chkpttli) */
	lsn_t redo;    /* CheckPoint.redo (chkptredo) */
	bool shutdown; /* CHECKPOINT_SHUTDOWN rather than CHECKPOINT_ONLINE */
};

/* Is REC a checkpoint record (XLOG CHECKPOINT_SHUTDOWN or CHECKPOINT_ONLINE)? */
bool walscan_is_checkpoint(const struct wal_record *rec);

/* Fill *out from a checkpoint record; fails if REC is not one or its data is too short. */
int walscan_checkpoint_from_record(const struct wal_record *rec, struct walscan_checkpoint *out,
				   struct errbuf *err);

/*
 * The checkpoint record at LSN (pg_control's checkPoint), with its end: pg_rewind's readOneRecord
 * for chkptendrec, checked to be a checkpoint. End of WAL counts as an error here.
 */
int walscan_read_checkpoint(struct wal_reader *r, lsn_t lsn, struct walscan_checkpoint *out,
			    struct errbuf *err);

/*
 * pg_rewind's findLastCheckpoint: the last checkpoint record that starts before DIVERGENCE.
 * Reads the record at DIVERGENCE (after the page header when it is a page boundary), then follows
 * xl_prev backwards. Every segment visited is reported through the reader's segment_opened
 * callback (the keepwal set). End of WAL counts as an error here.
 */
int walscan_find_last_checkpoint(struct wal_reader *r, lsn_t divergence,
				 struct walscan_checkpoint *out, struct errbuf *err);

/* Called for each record of a forward walk; return 0 to go on, -1 (with err set) to stop. */
typedef int (*walscan_record_fn)(const struct wal_record *rec, void *arg, struct errbuf *err);

/*
 * pg_rewind's extractPageMap walk: the record at START (random access) and each following one
 * (sequential, xl_prev checked) until a record's end reaches END, calling FN for each (at least
 * the first). The last end must be END exactly, otherwise END was not a record boundary: error.
 * End of WAL before END is an error too.
 */
int walscan_forward(struct wal_reader *r, lsn_t start, lsn_t end, walscan_record_fn fn, void *arg,
		    struct errbuf *err);

/* What a record means for a pg_rewind-style block map (extractPageInfo). */
enum walscan_record_kind {
	/* An ordinary record: its block references name the changed blocks. */
	WALSCAN_RECORD_BLOCKS,
	/*
	 * Database create/drop, Storage create/truncate, transaction commit/abort (which may drop
	 * relations): whole-file effects that comparing the file lists handles. Like pg_rewind, still
	 * apply any block references they carry (in PostgreSQL 15 they carry none).
	 */
	WALSCAN_RECORD_FILE_LEVEL,
	/*
	 * Any other record flagged XLR_SPECIAL_REL_UPDATE: it changes relation files in a way the
	 * block references do not describe. The caller must fail, as pg_rewind does.
	 */
	WALSCAN_RECORD_UNSUPPORTED,
};

enum walscan_record_kind walscan_classify(uint8_t rmid, uint8_t info);

static inline enum walscan_record_kind walscan_classify_record(const struct wal_record *rec)
{
	return walscan_classify(rec->rmid, rec->info);
}

#endif
