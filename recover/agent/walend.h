/*
 * walend: where the WAL of a cleanly shut-down instance ends, read from its own pg_control and
 * pg_wal. Rebalance compares it with what the mirror received before promoting the mirror.
 */
#ifndef SEGRECOVER_WALEND_H
#define SEGRECOVER_WALEND_H

#include <stdint.h>

#include "errbuf.h"
#include "pgcontrol.h"

/*
 * The end of the last WAL record of DATADIR (normally its shutdown checkpoint) and its timeline.
 * Fails unless pg_control says "shut down": after a crash the end of WAL is not known for sure.
 */
int walend_after_shutdown(const char *datadir, lsn_t *end, uint32_t *tli, struct errbuf *err);

#endif
