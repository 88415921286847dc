/* blockmap: the set of changed block numbers of one relation segment file (pg_rewind's datapagemap). */
#ifndef SEGRECOVER_INCREMENTAL_BLOCKMAP_H
#define SEGRECOVER_INCREMENTAL_BLOCKMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct blockmap {
	uint8_t *bits;  /* bit (blkno % 8) of byte (blkno / 8); NULL when empty */
	size_t nbytes;
	size_t count;   /* distinct blocks set */
};

#define BLOCKMAP_INIT { NULL, 0, 0 }

void blockmap_add(struct blockmap *m, uint32_t blkno);
bool blockmap_has(const struct blockmap *m, uint32_t blkno);
/* Clear BLKNO; true when it was set. */
bool blockmap_remove(struct blockmap *m, uint32_t blkno);
/* The first block >= *blkno that is set: true and *blkno updated, or false when none is left. */
bool blockmap_next(const struct blockmap *m, uint32_t *blkno);
void blockmap_free(struct blockmap *m);

#endif
