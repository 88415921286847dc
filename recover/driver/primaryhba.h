/*
 * primaryhba: before copying, make each source primary's pg_hba.conf admit its mirror's
 * replication (Greenplum does this for every recovery; it matters for new hosts). The file is
 * edited on the primary's host by `gpsegrecovery --update-hba`, then the primary reloads. The
 * same for any instance that must admit a new host (gpinitstandby: the standby coordinator).
 */
#ifndef SEGRECOVER_PRIMARYHBA_H
#define SEGRECOVER_PRIMARYHBA_H

#include "driver/plan.h"
#include "errbuf.h"

/* One instance whose pg_hba.conf must admit a host (its mirror, or a standby coordinator). */
struct hba_admission {
	const struct segment *instance; /* up: it is asked for its hba_file, then reloads */
	const char *what;               /* "primary", "coordinator", ...: for messages */
	const char *admit_hostname, *admit_address;
};

/*
 * Every instance of LIST at once: the agent on its host merges the entries (hba.h) for its
 * host to admit into its pg_hba.conf, and the instance reloads when the file changed.
 */
int hba_admit(const struct hba_admission *list, size_t n, bool hba_hostnames, struct errbuf *err);

int primaryhba_allow_mirrors(const struct plan *plan, bool hba_hostnames,
			     struct errbuf *err);

#endif
