/*
 * sender: with gprecoverseg --compress, a helper next to the source data reads the ranges the
 * copy needs and sends them back in one lz4 or zstd stream, in place of the server's
 * uncompressed rows: fewer bytes cross the network between hosts.
 */
#ifndef SEGRECOVER_INCREMENTAL_SENDER_H
#define SEGRECOVER_INCREMENTAL_SENDER_H

#include <stdbool.h>
#include <stdint.h>

#include "base/targetio.h"
#include "errbuf.h"
#include "strategy.h"

/* The helper's first argument in this mode; the second is the codec. */
#define SENDER_HELPER_ARG "send"
/* A length that means: the whole file, to its end when it is read (it may have grown). */
#define SENDER_WHOLE UINT64_MAX

struct sender_state;

struct sender {
	struct strategy_helper h;
	bool running;
	struct sender_state *st; /* the requests and the wire, owned here until finish or abort */
	uint64_t requests;       /* ranges asked for */
	uint64_t wire_bytes;     /* compressed bytes received */
	uint64_t raw_bytes;      /* bytes written into the target */
};

/* Start the helper next to R's source, compressing with R's codec; data goes into TIO. */
int sender_start(struct recovery *r, struct targetio *tio, struct sender *s, struct errbuf *err);
/* Ask for [off, off + len) of PATH (len SENDER_WHOLE: all of it); adjacent ranges merge. */
int sender_queue(struct sender *s, const char *path, uint64_t off, uint64_t len,
		 struct errbuf *err);
/*
 * Send the requests, receive every range and write it into the target (a file the source no
 * longer has is removed from the target), wait for the helper; frees S's state whatever happens.
 */
int sender_finish(struct recovery *r, struct sender *s, struct errbuf *err);
/* Stop the helper without waiting for its data (after a failure elsewhere). */
void sender_abort(struct recovery *r, struct sender *s);

/* The helper's body: requests from IN_FD until the end frame, then the data to OUT_FD. */
int sender_helper(const char *source_datadir, const char *const *args, int in_fd, int out_fd,
		  struct errbuf *err);

#endif
