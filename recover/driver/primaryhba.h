/*
 * primaryhba: before copying, make each source primary's pg_hba.conf admit its mirror's
 * replication (Greenplum does this for every recovery; it matters for new hosts). The file is
 * edited on the primary's host by `gpsegrecovery --update-hba`, then the primary reloads.
 */
#ifndef SEGRECOVER_PRIMARYHBA_H
#define SEGRECOVER_PRIMARYHBA_H

#include "driver/plan.h"
#include "errbuf.h"

int primaryhba_allow_mirrors(const struct plan *plan, bool hba_hostnames,
			     struct errbuf *err);

#endif
