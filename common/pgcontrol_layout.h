/*
 * pgcontrol_layout: where PostgreSQL 15 keeps the fields of ControlFileData (global/pg_control)
 * on this platform. tests/unit/test_pgcontrol_layout.c checks every offset against the server's
 * own catalog/pg_control.h (postgresql-server-dev-15), so a layout change fails the build.
 */
#ifndef SEGRECOVER_PGCONTROL_LAYOUT_H
#define SEGRECOVER_PGCONTROL_LAYOUT_H

#define PG_CONTROL_FILE_SIZE 8192
#define PG_CONTROL_VERSION_15 1300
#define CATALOG_VERSION_15_DIGITS 202209061
/* A tablespace's per-version directory: TABLESPACE_VERSION_DIRECTORY of PostgreSQL 15. */
#define PGCONTROL_STR_(x) #x
#define PGCONTROL_STR(x) PGCONTROL_STR_(x)
#define TABLESPACE_VERSION_DIR_15 "PG_15_" PGCONTROL_STR(CATALOG_VERSION_15_DIGITS)

enum {
	OFF_SYSID = 0,
	OFF_VERSION = 8,
	OFF_CATVERSION = 12,
	OFF_STATE = 16,
	OFF_CHECKPOINT = 32,
	OFF_CKP_REDO = 40,
	OFF_CKP_TLI = 48,
	OFF_CKP_PREVTLI = 52,
	OFF_CKP_FPW = 56,
	OFF_MINRECOVERY = 136,
	OFF_MINRECOVERY_TLI = 144,
	OFF_BACKUP_START = 152,
	OFF_BACKUP_END = 160,
	OFF_BACKUP_END_REQUIRED = 168,
	OFF_WAL_LEVEL = 172,
	OFF_WAL_LOG_HINTS = 176,
	OFF_BLCKSZ = 216,
	OFF_XLOG_BLCKSZ = 224,
	OFF_XLOG_SEG_SIZE = 228,
	OFF_CHECKSUM_VERSION = 252,
	OFF_CRC = 288,
};


#endif
