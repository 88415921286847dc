/*
 * sourcecheck: the source preflight every recovery gets before its strategy's own check():
 * the source runs PostgreSQL 15, is the content's acting primary (not in recovery), keeps WAL
 * for a mirror (wal_level, max_wal_senders), and lets this host in over the replication
 * protocol, which the new mirror will stream through. gpsegrecovery runs it; strategies check
 * only what is theirs.
 */
#ifndef SEGRECOVER_BASE_SOURCECHECK_H
#define SEGRECOVER_BASE_SOURCECHECK_H

#include <libpq-fe.h>

#include "errbuf.h"
#include "strategy.h"

int source_preflight(const struct recovery *r, struct errbuf *err);

/*
 * The source's log_directory when it is relative to its data directory (*out malloc'd, e.g.
 * "log"), NULL when absolute: each side keeps its own server logs there.
 */
int source_log_directory(PGconn *conn, char **out, struct errbuf *err);

#endif
