/*
 * prefetch: a helper next to the source data that asks the source host's kernel to read ahead
 * the ranges the copy is about to fetch, so that the server's reads find them in memory instead
 * of waiting on the disk one 8 kB block at a time.
 */
#ifndef SEGRECOVER_INCREMENTAL_PREFETCH_H
#define SEGRECOVER_INCREMENTAL_PREFETCH_H

#include <stdbool.h>
#include <stdint.h>

#include "errbuf.h"
#include "strategy.h"

/* The helper's first argument in this mode (the other mode is walblocks'). */
#define PREFETCH_HELPER_ARG "prefetch"

struct prefetch {
	struct strategy_helper h;
	bool running;
	uint64_t hinted, hinted_bytes; /* hints written to the helper */
	uint64_t dropped;              /* hints the pipe had no room for: only hints, dropped */
};

/* Start the helper next to R's source. A failure is only logged by the caller: no hints then. */
int prefetch_start(struct recovery *r, struct prefetch *p, struct errbuf *err);
/* Ask for [off, off + len) of PATH (relative to the source data directory); never blocks. */
void prefetch_hint(void *arg, const char *path, uint64_t off, uint64_t len);
/* Tell the helper that no more hints come, and wait for it: *advised is what it asked for. */
int prefetch_finish(struct recovery *r, struct prefetch *p, uint64_t *advised, struct errbuf *err);

/* The helper's body: hints from IN_FD until the end frame, then its count to OUT_FD. */
int prefetch_helper(const char *source_datadir, const char *const *args, int in_fd, int out_fd,
		    struct errbuf *err);

#endif
