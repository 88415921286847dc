/*
 * blockset: the changed main-fork blocks of every relation a stretch of WAL touched, one bitmap
 * per relation (a pgbench-sized divergence needs kilobytes, not one entry per record).
 */
#ifndef SEGRECOVER_INCREMENTAL_BLOCKSET_H
#define SEGRECOVER_INCREMENTAL_BLOCKSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "incremental/blockmap.h"

struct blockset_rel {
	uint32_t spc, db, rel;  /* tablespace, database, relfilenode */
	struct blockmap blocks; /* relation-level block numbers (not per 1 GB segment) */
};

struct blockset {
	struct blockset_rel *rels; /* open addressing; rel == 0 marks a free slot */
	size_t nslots, nrels;
	uint64_t nblocks;          /* distinct blocks over every relation */
};

#define BLOCKSET_INIT { NULL, 0, 0, 0 }

void blockset_add(struct blockset *s, uint32_t spc, uint32_t db, uint32_t rel, uint32_t blkno);
/* The same; true when the block was not in S before. */
bool blockset_insert(struct blockset *s, uint32_t spc, uint32_t db, uint32_t rel, uint32_t blkno);
bool blockset_has(const struct blockset *s, uint32_t spc, uint32_t db, uint32_t rel, uint32_t blkno);
/* Every block of FROM into INTO. */
void blockset_merge(struct blockset *into, const struct blockset *from);
/* Every block of MINUS out of FROM; returns how many were removed. */
uint64_t blockset_subtract(struct blockset *from, const struct blockset *minus);
/* Blocks of A that are also in B. */
uint64_t blockset_count_common(const struct blockset *a, const struct blockset *b);
/* The relation at slot I (0 <= I < nslots), or NULL for a free slot. */
const struct blockset_rel *blockset_slot(const struct blockset *s, size_t i);
/* Bytes the bitmaps and the table hold (for the memory figure). */
size_t blockset_memory(const struct blockset *s);
void blockset_free(struct blockset *s);

#endif
