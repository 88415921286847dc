/*
 * crashrecovery: bring a data directory that was not shut down cleanly (an old primary that
 * crashed) to a clean shutdown without letting anyone connect: PostgreSQL's single-user mode
 * runs crash recovery and a shutdown checkpoint, then exits.
 */
#ifndef SEGRECOVER_INCREMENTAL_CRASHRECOVERY_H
#define SEGRECOVER_INCREMENTAL_CRASHRECOVERY_H

#include "errbuf.h"

/*
 * Run `postgres --single -F -D DATADIR template1 < /dev/null`, keeping every WAL segment
 * (wal_keep_size at its maximum) so that the shutdown checkpoint cannot recycle the WAL back to
 * the last checkpoint the target shares with its new primary (the pg_rewind failure of
 * greenplum-db/gpdb#11851). The directory must not hold standby.signal.
 */
int crash_recover(const char *datadir, struct errbuf *err);

#endif
