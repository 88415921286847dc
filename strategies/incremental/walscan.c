#include "incremental/walscan.h"

#include <string.h>

/* Offsets in the CheckPoint struct (pg_control.h). */
#define CHECKPOINT_OFF_REDO 0
#define CHECKPOINT_OFF_TLI 8

bool walscan_is_checkpoint(const struct wal_record *rec)
{
	uint8_t type = rec->info & WAL_XLR_RMGR_INFO_MASK;

	return rec->rmid == WAL_RM_XLOG &&
	       (type == WAL_XLOG_CHECKPOINT_SHUTDOWN || type == WAL_XLOG_CHECKPOINT_ONLINE);
}

int walscan_checkpoint_from_record(const struct wal_record *rec, struct walscan_checkpoint *out,
				   struct errbuf *err)
{
	if (!walscan_is_checkpoint(rec))
		return errbuf_set(err,
				  "WAL record at " LSN_FMT " is not a checkpoint (%s, info %02X)",
				  LSN_ARGS(rec->lsn), wal_rmgr_name(rec->rmid), rec->info);
	if (rec->main_data_len < WAL_CHECKPOINT_DATA_SIZE)
		return errbuf_set(
		    err, "checkpoint record at " LSN_FMT " has %u bytes of data, expected %u",
		    LSN_ARGS(rec->lsn), rec->main_data_len, WAL_CHECKPOINT_DATA_SIZE);
	out->lsn = rec->lsn;
	out->end_lsn = rec->end_lsn;
	memcpy(&out->redo, rec->main_data + CHECKPOINT_OFF_REDO, sizeof(out->redo));
	memcpy(&out->tli, rec->main_data + CHECKPOINT_OFF_TLI, sizeof(out->tli));
	out->shutdown = (rec->info & WAL_XLR_RMGR_INFO_MASK) == WAL_XLOG_CHECKPOINT_SHUTDOWN;
	return 0;
}

int walscan_read_checkpoint(struct wal_reader *r, lsn_t lsn, struct walscan_checkpoint *out,
			    struct errbuf *err)
{
	const struct wal_record *rec;

	if (wal_reader_read_at(r, lsn, &rec, err) != WAL_READ_OK)
		return errbuf_prefix(err, "cannot read the checkpoint record at " LSN_FMT,
				     LSN_ARGS(lsn));
	return walscan_checkpoint_from_record(rec, out, err);
}

int walscan_find_last_checkpoint(struct wal_reader *r, lsn_t divergence,
				 struct walscan_checkpoint *out, struct errbuf *err)
{
	uint32_t seg_size = wal_reader_seg_size(r);
	lsn_t fork = divergence, search;

	if (divergence == LSN_INVALID)
		return errbuf_set(err, "cannot search for the last checkpoint before an invalid "
				       "divergence point");
	/*
	 * The divergence point is the end of the last common record, which is not where the next
	 * record starts when it is a page boundary: that one starts after the page header.
	 */
	if (fork % WAL_BLCKSZ == 0)
		fork += wal_page_header_size(fork, seg_size);

	for (search = fork;;) {
		const struct wal_record *rec;

		if (wal_reader_read_at(r, search, &rec, err) != WAL_READ_OK)
			return errbuf_prefix(err,
					     "could not find the WAL record before " LSN_FMT
					     " while looking for the last checkpoint before the "
					     "divergence point " LSN_FMT,
					     LSN_ARGS(search), LSN_ARGS(divergence));
		/* The record at the fork itself may be a checkpoint of the target's own: skip it. */
		if (rec->lsn < fork && walscan_is_checkpoint(rec))
			return walscan_checkpoint_from_record(rec, out, err);
		if (rec->prev == LSN_INVALID)
			return errbuf_set(err,
					  "reached the first WAL record " LSN_FMT
					  " without finding a "
					  "checkpoint before the divergence point " LSN_FMT,
					  LSN_ARGS(rec->lsn), LSN_ARGS(divergence));
		search = rec->prev;
	}
}

int walscan_forward(struct wal_reader *r, lsn_t start, lsn_t end, walscan_record_fn fn, void *arg,
		    struct errbuf *err)
{
	const struct wal_record *rec;
	int status = wal_reader_read_at(r, start, &rec, err);

	for (;;) {
		if (status != WAL_READ_OK)
			return errbuf_prefix(err,
					     "cannot read the WAL from " LSN_FMT " to " LSN_FMT,
					     LSN_ARGS(start), LSN_ARGS(end));
		if (fn(rec, arg, err) != 0)
			return -1;
		if (rec->end_lsn >= end)
			break;
		status = wal_reader_read_next(r, &rec, err);
	}
	if (rec->end_lsn != end)
		return errbuf_set(err,
				  "end point " LSN_FMT " is not a valid end of a WAL record: the "
				  "record at " LSN_FMT " ends at " LSN_FMT,
				  LSN_ARGS(end), LSN_ARGS(rec->lsn), LSN_ARGS(rec->end_lsn));
	return 0;
}

enum walscan_record_kind walscan_classify(uint8_t rmid, uint8_t info)
{
	uint8_t type = info & WAL_XLR_RMGR_INFO_MASK;

	switch (rmid) {
	case WAL_RM_DBASE:
		if (type == WAL_DBASE_CREATE_FILE_COPY || type == WAL_DBASE_CREATE_WAL_LOG ||
		    type == WAL_DBASE_DROP)
			return WALSCAN_RECORD_FILE_LEVEL;
		break;
	case WAL_RM_SMGR:
		if (type == WAL_SMGR_CREATE || type == WAL_SMGR_TRUNCATE)
			return WALSCAN_RECORD_FILE_LEVEL;
		break;
	case WAL_RM_XACT: {
		uint8_t op = info & WAL_XACT_OPMASK;

		if (op == WAL_XACT_COMMIT || op == WAL_XACT_COMMIT_PREPARED ||
		    op == WAL_XACT_ABORT || op == WAL_XACT_ABORT_PREPARED)
			return WALSCAN_RECORD_FILE_LEVEL;
		break;
	}
	default:
		break;
	}
	if (info & WAL_XLR_SPECIAL_REL_UPDATE)
		return WALSCAN_RECORD_UNSUPPORTED;
	return WALSCAN_RECORD_BLOCKS;
}
