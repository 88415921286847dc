/*
 * pidlock: Greenplum's single-instance lock, a directory (e.g. gprecoverseg.lock in the coordinator
 * data directory) holding a PID file. A lock left by a dead process is removed and taken.
 */
#ifndef SEGRECOVER_PIDLOCK_H
#define SEGRECOVER_PIDLOCK_H

#include <stdbool.h>
#include <sys/types.h>

#include "errbuf.h"

struct pidlock {
	char *dir;   /* the lock directory */
	bool held;
};

/* Take the lock; fails naming the holder's PID when a live process holds it. */
int pidlock_acquire(struct pidlock *lock, const char *lockdir, const char *program,
		    struct errbuf *err);
/* Remove the lock directory and everything in it (progress files live there too). */
void pidlock_release(struct pidlock *lock);
/* PID of a live holder of LOCKDIR, or 0 if none. */
pid_t pidlock_holder(const char *lockdir);

#endif
