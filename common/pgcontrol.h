/* pgcontrol: read, check (CRC-32C) and rewrite PostgreSQL 15's global/pg_control. */
#ifndef SEGRECOVER_PGCONTROL_H
#define SEGRECOVER_PGCONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errbuf.h"
#include "pgcontrol_layout.h"

#define CATALOG_VERSION_15 ((uint32_t) CATALOG_VERSION_15_DIGITS)

typedef uint64_t lsn_t;
#define LSN_INVALID ((lsn_t) 0)
#define LSN_FMT "%X/%X"
#define LSN_ARGS(lsn) (unsigned) ((lsn) >> 32), (unsigned) (lsn)

enum db_state {
	DB_STARTUP = 0,
	DB_SHUTDOWNED = 1,
	DB_SHUTDOWNED_IN_RECOVERY = 2,
	DB_SHUTDOWNING = 3,
	DB_IN_CRASH_RECOVERY = 4,
	DB_IN_ARCHIVE_RECOVERY = 5,
	DB_IN_PRODUCTION = 6,
};

/* The fields we use, decoded; raw keeps the whole file so that a rewrite changes only what we set. */
struct pgcontrol {
	uint64_t system_identifier;
	uint32_t pg_control_version;
	uint32_t catalog_version_no;
	enum db_state state;
	lsn_t checkpoint;          /* last checkpoint record */
	lsn_t redo;                /* checkPointCopy.redo */
	uint32_t timeline;         /* checkPointCopy.ThisTimeLineID */
	uint32_t prev_timeline;
	lsn_t min_recovery_point;
	uint32_t min_recovery_point_tli;
	lsn_t backup_start_point;
	lsn_t backup_end_point;
	bool backup_end_required;
	int wal_level;
	bool wal_log_hints;
	bool full_page_writes;     /* checkPointCopy.fullPageWrites */
	uint32_t blcksz;
	uint32_t xlog_blcksz;
	uint32_t xlog_seg_size;
	uint32_t data_checksum_version;
	unsigned char raw[PG_CONTROL_FILE_SIZE];
};

/* Parse and check an in-memory copy (size, CRC, versions, block and segment sizes). */
int pgcontrol_parse(const void *data, size_t len, struct pgcontrol *out, struct errbuf *err);

/* Read DATADIR/global/pg_control. */
int pgcontrol_read(const char *datadir, struct pgcontrol *out, struct errbuf *err);

/*
 * Write DATADIR/global/pg_control from ctl->raw after applying the decoded fields that may be
 * changed (state, min_recovery_point, min_recovery_point_tli, backup_* fields); recomputes the
 * CRC, zero-pads to 8192 bytes, writes in place and fsyncs.
 */
int pgcontrol_write(const char *datadir, struct pgcontrol *ctl, struct errbuf *err);

const char *pgcontrol_state_name(enum db_state state);

/* Cleanly shut down, so that the directory can be read as a consistent whole. */
static inline bool pgcontrol_is_shut_down(const struct pgcontrol *c)
{
	return c->state == DB_SHUTDOWNED || c->state == DB_SHUTDOWNED_IN_RECOVERY;
}

#endif
