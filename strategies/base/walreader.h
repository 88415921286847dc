/*
 * walreader: read and decode PostgreSQL 15 WAL records from a pg_wal directory by LSN, following a
 * timeline history; tells the end of the WAL apart from damaged WAL.
 */
#ifndef SEGRECOVER_BASE_WALREADER_H
#define SEGRECOVER_BASE_WALREADER_H

#include <stdbool.h>
#include <stdint.h>

#include "base/timeline.h"
#include "errbuf.h"

/* Page and record format constants of PostgreSQL 15 (xlog_internal.h, xlogrecord.h). */
#define WAL_BLCKSZ 8192u
#define WAL_PAGE_MAGIC 0xD110u
#define WAL_SHORT_PAGE_HEADER_SIZE 24u
#define WAL_LONG_PAGE_HEADER_SIZE 40u
#define WAL_RECORD_HEADER_SIZE 24u
#define WAL_MAX_BLOCK_ID 32
/* Largest record the server can allocate (MaxAllocSize); anything bigger is damage. */
#define WAL_MAX_RECORD_SIZE 0x3FFFFFFFu

/* Resource managers (rmgrlist.h); ids 22-127 are invalid, 128-255 custom. */
enum wal_rmgr {
	WAL_RM_XLOG = 0,
	WAL_RM_XACT = 1,
	WAL_RM_SMGR = 2,
	WAL_RM_CLOG = 3,
	WAL_RM_DBASE = 4,
	WAL_RM_TBLSPC = 5,
	WAL_RM_MULTIXACT = 6,
	WAL_RM_RELMAP = 7,
	WAL_RM_STANDBY = 8,
	WAL_RM_HEAP2 = 9,
	WAL_RM_HEAP = 10,
	WAL_RM_BTREE = 11,
	WAL_RM_HASH = 12,
	WAL_RM_GIN = 13,
	WAL_RM_GIST = 14,
	WAL_RM_SEQ = 15,
	WAL_RM_SPGIST = 16,
	WAL_RM_BRIN = 17,
	WAL_RM_COMMIT_TS = 18,
	WAL_RM_REPLORIGIN = 19,
	WAL_RM_GENERIC = 20,
	WAL_RM_LOGICALMSG = 21,
	WAL_RM_MAX_BUILTIN = 21,
};

/* xl_info: the low nibble is flags, the high nibble the record type of its rmgr. */
#define WAL_XLR_INFO_MASK 0x0Fu
#define WAL_XLR_RMGR_INFO_MASK 0xF0u
#define WAL_XLR_SPECIAL_REL_UPDATE 0x01u
#define WAL_XLR_CHECK_CONSISTENCY 0x02u

/* XLOG record types (pg_control.h). */
#define WAL_XLOG_CHECKPOINT_SHUTDOWN 0x00u
#define WAL_XLOG_CHECKPOINT_ONLINE 0x10u
#define WAL_XLOG_SWITCH 0x40u

/* Block reference flags (fork_flags) and image flags (bimg_info), PostgreSQL 15 values. */
#define WAL_BKPBLOCK_FORK_MASK 0x0Fu
#define WAL_BKPBLOCK_HAS_IMAGE 0x10u
#define WAL_BKPBLOCK_HAS_DATA 0x20u
#define WAL_BKPBLOCK_WILL_INIT 0x40u
#define WAL_BKPBLOCK_SAME_REL 0x80u
#define WAL_BKPIMAGE_HAS_HOLE 0x01u
#define WAL_BKPIMAGE_APPLY 0x02u
#define WAL_BKPIMAGE_COMPRESS_PGLZ 0x04u
#define WAL_BKPIMAGE_COMPRESS_LZ4 0x08u
#define WAL_BKPIMAGE_COMPRESS_ZSTD 0x10u
#define WAL_BKPIMAGE_COMPRESSED(info)                                        \
	(((info) & (WAL_BKPIMAGE_COMPRESS_PGLZ | WAL_BKPIMAGE_COMPRESS_LZ4 | \
		    WAL_BKPIMAGE_COMPRESS_ZSTD)) != 0)

enum wal_fork { WAL_FORK_MAIN = 0, WAL_FORK_FSM = 1, WAL_FORK_VM = 2, WAL_FORK_INIT = 3 };

struct wal_relfilenode {
	uint32_t spc; /* tablespace OID */
	uint32_t db;  /* database OID (0 for shared relations) */
	uint32_t rel; /* relfilenode */
};

/* One block reference of a record. Pointers point into the record (unaligned). */
struct wal_block_ref {
	uint8_t id;    /* 0..WAL_MAX_BLOCK_ID */
	uint8_t fork;  /* enum wal_fork */
	uint8_t flags; /* raw fork_flags byte (WAL_BKPBLOCK_*) */
	bool will_init;
	struct wal_relfilenode rnode;
	uint32_t blkno;
	bool has_image;
	bool apply_image;   /* replay restores the image (else it is only for consistency checks) */
	uint8_t bimg_info;  /* WAL_BKPIMAGE_* */
	uint16_t image_len; /* bytes of image in the record (compressed, or without the hole) */
	uint16_t hole_offset;
	uint16_t hole_length;
	const uint8_t *image; /* NULL without an image */
	uint16_t data_len;
	const uint8_t *data; /* NULL without data */
};

/*
 * A decoded record. Its pointers stay valid until the next read or decode with the same reader.
 */
struct wal_record {
	lsn_t lsn; /* start of the record */
	/*
	 * End of the record as the server counts it (EndRecPtr): start + MAXALIGN(length), or, for a
	 * record continued on later pages, the end of its last piece; for XLOG_SWITCH the next segment
	 * boundary. The next record starts here, or right after the page header when this is a page
	 * boundary.
	 */
	lsn_t end_lsn;
	lsn_t prev; /* xl_prev */
	uint32_t tot_len;
	uint32_t xid;
	uint8_t info; /* xl_info, flags included */
	uint8_t rmid;
	uint32_t toplevel_xid; /* 0 if the record has none */
	bool has_origin;
	uint16_t origin;
	unsigned nblocks; /* blocks[0..nblocks-1], in increasing id order */
	struct wal_block_ref blocks[WAL_MAX_BLOCK_ID + 1];
	const uint8_t *main_data; /* unaligned; NULL when main_data_len is 0 */
	uint32_t main_data_len;
	const uint8_t *raw; /* the whole record, tot_len bytes, header first */
};

/* Status of the read functions (a tri-state; also returned as int). */
enum wal_read_status {
	WAL_READ_ERROR = -1, /* damaged WAL or I/O error: err says what, the LSN and the file */
	WAL_READ_OK = 0,
	/*
	 * The WAL ends here: a zero or too small record length, a page that was never written or
	 * belongs to an older segment (recycled), or a missing segment file after which no written
	 * segment exists. err says which, with the LSN and the file.
	 */
	WAL_READ_END = 1,
};

struct wal_reader;

struct wal_reader_options {
	const char *waldir;                     /* the pg_wal directory */
	const struct timeline_history *history; /* picks each segment's file; copied */
	uint32_t seg_size;                      /* from pg_control */
	uint64_t system_identifier;             /* 0: take it from the first segment read */
	/*
	 * Called each time the reader opens a segment file that has a valid first page, before any
	 * record in it is returned (the files pg_rewind must keep). Optional.
	 */
	void (*segment_opened)(void *arg, uint32_t tli, uint64_t segno, const char *path);
	void *callback_arg;
};

int wal_reader_open(const struct wal_reader_options *opts, struct wal_reader **out,
		    struct errbuf *err);
void wal_reader_close(struct wal_reader *r);

/*
 * Random access: the record starting at LSN. An LSN on a page boundary means the first record
 * starting on that page (after its header). Checks xl_prev < LSN. As in the server, a record that
 * was never completed (a crash) and whose continuation page was overwritten is skipped: reading
 * goes on at that page, so the record returned may start after LSN.
 */
int wal_reader_read_at(struct wal_reader *r, lsn_t lsn, const struct wal_record **rec,
		       struct errbuf *err);

/*
 * The record after the last one read successfully; checks that its xl_prev points back to it.
 * After WAL_READ_END or an error it tries the same place again (the WAL may have grown); after a
 * failed wal_reader_read_at there is no place to continue from (error).
 */
int wal_reader_read_next(struct wal_reader *r, const struct wal_record **rec, struct errbuf *err);

/*
 * The first record that starts at or after SEG_LSN, the start of a segment, past the rest of a
 * record continued from the segment before (its first page says how long that is): where a
 * scan of one slice of the WAL starts. Then read_next goes on from it.
 */
int wal_reader_read_first_in_segment(struct wal_reader *r, lsn_t seg_lsn,
				     const struct wal_record **rec, struct errbuf *err);

uint32_t wal_reader_seg_size(const struct wal_reader *r);

/* Name of a built-in resource manager as pg_waldump prints it; "custom" or "invalid" otherwise. */
const char *wal_rmgr_name(uint8_t rmid);

/* Size of the header of the page that starts at PAGE_LSN (long on a segment's first page). */
static inline uint32_t wal_page_header_size(lsn_t page_lsn, uint32_t seg_size)
{
	return page_lsn % seg_size == 0 ? WAL_LONG_PAGE_HEADER_SIZE : WAL_SHORT_PAGE_HEADER_SIZE;
}

/*
 * Decode a whole record (header, block references, main data) held in RAW[0..LEN), already
 * reassembled; LSN is for messages and out->lsn. Does not check the CRC. Pointers in *out point
 * into RAW.
 */
int wal_record_decode(const uint8_t *raw, uint32_t len, lsn_t lsn, struct wal_record *out,
		      struct errbuf *err);

/* CRC-32C of a reassembled record as the server computes xl_crc (body first, then header). */
uint32_t wal_record_crc(const uint8_t *raw, uint32_t len);

#endif
