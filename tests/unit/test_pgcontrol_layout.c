/*
 * test_pgcontrol_layout: the offsets pgcontrol.c reads and writes (pgcontrol_layout.h) against
 * ControlFileData as PostgreSQL 15's own headers define it (postgresql-server-dev-15, installed
 * by scripts/install-deps), and the version constants against catversion.h and relpath.h. A
 * layout that differs fails the build (static assertions) and the run. Built without check.h:
 * the server's c.h and check's headers do not mix; it prints the same result line.
 */
#include "postgres_fe.h"

#include "catalog/catversion.h"
#include "catalog/pg_control.h"
#include "common/relpath.h"
/* port.h maps printf to libpgport's; this program does not link it. */
#undef printf

#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* Not pgcontrol.h: its enum db_state would clash with the server's DBState. */
#include "pgcontrol_layout.h"

#define SAME_OFFSET(ours, member) \
	_Static_assert((ours) == offsetof(ControlFileData, member), #ours " is not " #member)

SAME_OFFSET(OFF_SYSID, system_identifier);
SAME_OFFSET(OFF_VERSION, pg_control_version);
SAME_OFFSET(OFF_CATVERSION, catalog_version_no);
SAME_OFFSET(OFF_STATE, state);
SAME_OFFSET(OFF_CHECKPOINT, checkPoint);
SAME_OFFSET(OFF_CKP_REDO, checkPointCopy.redo);
SAME_OFFSET(OFF_CKP_TLI, checkPointCopy.ThisTimeLineID);
SAME_OFFSET(OFF_CKP_PREVTLI, checkPointCopy.PrevTimeLineID);
SAME_OFFSET(OFF_CKP_FPW, checkPointCopy.fullPageWrites);
SAME_OFFSET(OFF_MINRECOVERY, minRecoveryPoint);
SAME_OFFSET(OFF_MINRECOVERY_TLI, minRecoveryPointTLI);
SAME_OFFSET(OFF_BACKUP_START, backupStartPoint);
SAME_OFFSET(OFF_BACKUP_END, backupEndPoint);
SAME_OFFSET(OFF_BACKUP_END_REQUIRED, backupEndRequired);
SAME_OFFSET(OFF_WAL_LEVEL, wal_level);
SAME_OFFSET(OFF_WAL_LOG_HINTS, wal_log_hints);
SAME_OFFSET(OFF_BLCKSZ, blcksz);
SAME_OFFSET(OFF_XLOG_BLCKSZ, xlog_blcksz);
SAME_OFFSET(OFF_XLOG_SEG_SIZE, xlog_seg_size);
SAME_OFFSET(OFF_CHECKSUM_VERSION, data_checksum_version);
SAME_OFFSET(OFF_CRC, crc);
_Static_assert(PG_CONTROL_VERSION_15 == PG_CONTROL_VERSION, "pg_control version");
_Static_assert(CATALOG_VERSION_15_DIGITS == CATALOG_VERSION_NO, "catalog version");
_Static_assert(sizeof(ControlFileData) <= PG_CONTROL_MAX_SAFE_SIZE, "control data fits");

static int passed, failed;

static void check(int ok, const char *what)
{
	if (ok) {
		passed++;
	} else {
		failed++;
		printf("tests/unit/test_pgcontrol_layout.c:0:F:layout:%s:0: differs from the server's headers\n",
		       what);
	}
}

int main(void)
{
	/* The same facts at run time, so that the result line counts them. */
	check(OFF_SYSID == offsetof(ControlFileData, system_identifier), "system_identifier");
	check(OFF_STATE == offsetof(ControlFileData, state), "state");
	check(OFF_CHECKPOINT == offsetof(ControlFileData, checkPoint), "checkPoint");
	check(OFF_MINRECOVERY == offsetof(ControlFileData, minRecoveryPoint), "minRecoveryPoint");
	check(OFF_BACKUP_END_REQUIRED == offsetof(ControlFileData, backupEndRequired),
	      "backupEndRequired");
	check(OFF_XLOG_SEG_SIZE == offsetof(ControlFileData, xlog_seg_size), "xlog_seg_size");
	check(OFF_CHECKSUM_VERSION == offsetof(ControlFileData, data_checksum_version),
	      "data_checksum_version");
	check(OFF_CRC == offsetof(ControlFileData, crc), "crc");
	check(CATALOG_VERSION_15_DIGITS == CATALOG_VERSION_NO, "catalog version");
	check(strcmp(TABLESPACE_VERSION_DIR_15, TABLESPACE_VERSION_DIRECTORY) == 0,
	      "tablespace version directory");
	printf("unit pgcontrol_layout_suite: %d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
