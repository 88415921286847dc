/*
 * sigsend: the target's side of the comparison, in a thread of its own so that it reads and
 * hashes the target's files while the main thread applies what the helper sends back: the
 * page signatures of relation files, librsync signatures of the others, in the list's order.
 */
#ifndef SEGRECOVER_DIFFERENTIAL_SIGSEND_H
#define SEGRECOVER_DIFFERENTIAL_SIGSEND_H

#include <pthread.h>
#include <stdbool.h>

#include "differential/difflist.h"
#include "errbuf.h"

struct sigsend {
	const char *datadir;
	const struct diff_list *list;
	int fd;              /* the helper's standard input; closed by the thread when it ends */
	pthread_t thread;
	bool started;
	int rc;              /* the thread's result */
	bool write_failed;   /* it could not write to the helper (the helper is gone) */
	struct errbuf err;
};

/* Start the thread: it signs every regular file of LIST in order, then closes FD. */
int sigsend_start(struct sigsend *s, const char *datadir, const struct diff_list *list, int fd,
		  struct errbuf *err);
/* Wait for it; its own error, if it failed, is copied to ERR. */
int sigsend_join(struct sigsend *s, struct errbuf *err);

#endif
