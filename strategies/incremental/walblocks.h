/*
 * walblocks: the blocks the source changed, learnt from the source's own WAL where it lies. A
 * helper next to the source data (gpsegrecovery helper) scans its pg_wal and sends one bitmap per
 * relation, so that only the block sets cross the network, never the WAL.
 */
#ifndef SEGRECOVER_INCREMENTAL_WALBLOCKS_H
#define SEGRECOVER_INCREMENTAL_WALBLOCKS_H

#include <stdbool.h>
#include <stdint.h>

#include "errbuf.h"
#include "incremental/blockset.h"
#include "incremental/walscan.h"
#include "pgcontrol.h"
#include "strategy.h"

struct walblocks_request {
	/*
	 * Scan from FROM; or, with checkpoint_before set, from the last checkpoint record of the
	 * source's history before that LSN (the common history, when the target lost its own copy).
	 */
	lsn_t from;
	lsn_t checkpoint_before;
	lsn_t to;        /* every record that starts before TO */
	/*
	 * With cover_from set (at or before FROM: the replay way's start), the records from there
	 * on also say which blocks replay restores whole before anything reads them (covered).
	 */
	lsn_t cover_from;
	bool to_or_end;  /* a WAL that ends before TO is no error (an estimate up to the flush point) */
	uint32_t tli;    /* the source's timeline: its history picks each segment's file */
	uint32_t seg_size;
	uint64_t system_identifier; /* 0: whatever the first segment says */
	/*
	 * Slices of the WAL the helper scans at once, each in a thread of its own: 0 lets it pick
	 * (one per CPU, up to 4, for at least 64 MB each); only the helper's own tests set it.
	 */
	unsigned workers;
};

struct walblocks_result {
	struct blockset blocks;          /* main-fork blocks the records touched */
	bool have_checkpoint;            /* with checkpoint_before: the checkpoint found */
	struct walscan_checkpoint checkpoint;
	lsn_t start, end;                /* the first record read, the end of the last one */
	uint64_t records;
	uint64_t helper_peak_kb;         /* the helper's peak resident set */
	uint32_t slices;                 /* slices of the WAL it scanned at once (1: in one piece) */
	/*
	 * Blocks whose first reference from cover_from on carries a full-page image that replay
	 * applies, or initialises the page: replay from cover_from overwrites whatever the target
	 * holds there before any record reads it, exactly as it repairs a base backup's torn pages.
	 * Only first references before cover_end count: there the scan ended, or a record that
	 * reads pages outside its block references (CREATE DATABASE by file copy) stopped it.
	 */
	bool have_cover;
	struct blockset covered;
	lsn_t cover_end;
	/*
	 * The first CREATE DATABASE (or ALTER DATABASE SET TABLESPACE) by file copy from
	 * cover_from on, LSN_INVALID for none: replay from cover_from would copy the template's
	 * files as the target holds them then, which no copy made now can give; only the blocks
	 * way is right. Looked for to the end, even after an unsupported record.
	 */
	lsn_t file_copy_lsn;
	/* A record the block references do not describe (XLR_SPECIAL_REL_UPDATE): blocks are unknown. */
	bool unsupported;
	lsn_t unsupported_lsn;
	uint8_t unsupported_rmid, unsupported_info;
};

/* Run the helper next to the source of R and collect its answer into *out (freed by _release). */
int walblocks_fetch(struct recovery *r, const struct walblocks_request *req,
		    struct walblocks_result *out, struct errbuf *err);
/*
 * The same in two halves, so that the caller works while the helper scans: _start launches
 * it; _finish reads its answer (or, with ABANDON, ends it unread) and waits for it.
 */
int walblocks_start(struct recovery *r, const struct walblocks_request *req,
		    struct strategy_helper *h, struct errbuf *err);
int walblocks_finish(struct recovery *r, struct strategy_helper *h, bool abandon,
		     struct walblocks_result *out, struct errbuf *err);
void walblocks_release(struct walblocks_result *res);
/* The helper's answer read from FD (what walblocks_fetch does once the helper runs). */
int walblocks_read(int fd, int source_dbid, struct walblocks_result *out, struct errbuf *err);

/* The helper's body (strategy.helper), with the arguments walblocks_fetch passes. */
int walblocks_helper(const char *source_datadir, const char *const *args, int in_fd, int out_fd,
		     struct errbuf *err);

#endif
