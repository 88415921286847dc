/*
 * ratio: what the compressed copy of a set of blocks will weigh, from a sample of them read
 * in the target's own files (the same relations' older pages) and compressed as the source's
 * helper compresses: the cost of the two ways is counted in bytes that cross the network.
 */
#ifndef SEGRECOVER_INCREMENTAL_RATIO_H
#define SEGRECOVER_INCREMENTAL_RATIO_H

#include <stdint.h>

#include "errbuf.h"
#include "incremental/blockset.h"

struct ratio_sample {
	uint64_t blocks;     /* blocks read and compressed */
	uint64_t raw, out;   /* their bytes, before and after */
};

/* Add up to MAX blocks of SET, evenly spread, from DATADIR's files, compressed by CODEC. */
int ratio_add(struct ratio_sample *s, const char *datadir, const struct blockset *set,
	      const char *codec, uint64_t max, struct errbuf *err);
/* out / raw; 1 when nothing could be sampled. */
double ratio_of(const struct ratio_sample *s);

#endif
