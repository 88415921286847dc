/*
 * oldcoord: is the coordinator a standby follows still alive? It must not be when the standby
 * is promoted: two coordinators must never accept writes at once. Asked three ways: does it
 * answer on its address, does a live process hold its socket lock file on its host, does a live
 * postmaster run in its data directory (when that is on this host).
 */
#ifndef SEGRECOVER_GPACTIVATESTANDBY_OLDCOORD_H
#define SEGRECOVER_GPACTIVATESTANDBY_OLDCOORD_H

#include <stdbool.h>

#include "errbuf.h"

struct old_coordinator {
	char host[256];
	int port;
	const char *socketdir; /* where its socket lock would be (the standby's own setting), or NULL */
	const char *datadir;   /* its data directory, when the catalog told it, or NULL */
};

/*
 * 1 when it is alive (err says how that was seen), 0 when it is not. A host that cannot be
 * asked over ssh counts as down (it is gone, or cut off); *warning is then set.
 */
int oldcoord_alive(const struct old_coordinator *oc, bool *warning, struct errbuf *err);

#endif
