#include "incremental/blockset.h"

#include <stdlib.h>

#include "xalloc.h"

static size_t hash_rel(uint32_t spc, uint32_t db, uint32_t rel)
{
	uint64_t h = ((uint64_t) spc * 0x9E3779B97F4A7C15ull) ^ ((uint64_t) db * 0xC2B2AE3D27D4EB4Full) ^
		     ((uint64_t) rel * 0x165667B19E3779F9ull);

	return (size_t) (h ^ (h >> 29));
}

static struct blockset_rel *find(struct blockset_rel *slots, size_t nslots, uint32_t spc, uint32_t db,
				 uint32_t rel)
{
	size_t i = hash_rel(spc, db, rel) & (nslots - 1);

	while (slots[i].rel != 0 && (slots[i].spc != spc || slots[i].db != db || slots[i].rel != rel))
		i = (i + 1) & (nslots - 1);
	return &slots[i];
}

static void grow(struct blockset *s)
{
	size_t n = s->nslots ? s->nslots * 2 : 64;
	struct blockset_rel *slots = xcalloc(n, sizeof(*slots));

	for (size_t i = 0; i < s->nslots; i++)
		if (s->rels[i].rel != 0)
			*find(slots, n, s->rels[i].spc, s->rels[i].db, s->rels[i].rel) = s->rels[i];
	free(s->rels);
	s->rels = slots;
	s->nslots = n;
}

bool blockset_insert(struct blockset *s, uint32_t spc, uint32_t db, uint32_t rel, uint32_t blkno)
{
	struct blockset_rel *r;
	size_t before;

	if (rel == 0)
		return false; /* relfilenode 0 names no file */
	if ((s->nrels + 1) * 4 > s->nslots * 3)
		grow(s);
	r = find(s->rels, s->nslots, spc, db, rel);
	if (r->rel == 0) {
		r->spc = spc;
		r->db = db;
		r->rel = rel;
		s->nrels++;
	}
	before = r->blocks.count;
	blockmap_add(&r->blocks, blkno);
	s->nblocks += r->blocks.count - before;
	return r->blocks.count != before;
}

void blockset_add(struct blockset *s, uint32_t spc, uint32_t db, uint32_t rel, uint32_t blkno)
{
	(void) blockset_insert(s, spc, db, rel, blkno);
}

/* The entry of a relation in S, or NULL. */
static struct blockset_rel *lookup(const struct blockset *s, uint32_t spc, uint32_t db, uint32_t rel)
{
	struct blockset_rel *r;

	if (s->nslots == 0 || rel == 0)
		return NULL;
	r = find(s->rels, s->nslots, spc, db, rel);
	return r->rel != 0 ? r : NULL;
}

bool blockset_has(const struct blockset *s, uint32_t spc, uint32_t db, uint32_t rel, uint32_t blkno)
{
	const struct blockset_rel *r = lookup(s, spc, db, rel);

	return r != NULL && blockmap_has(&r->blocks, blkno);
}

uint64_t blockset_subtract(struct blockset *from, const struct blockset *minus)
{
	uint64_t removed = 0;

	for (size_t i = 0; i < minus->nslots; i++) {
		const struct blockset_rel *m = blockset_slot(minus, i);
		struct blockset_rel *r = m != NULL ? lookup(from, m->spc, m->db, m->rel) : NULL;
		uint32_t blk = 0;

		/* The relation stays in the table, possibly empty: iteration skips empty maps. */
		while (r != NULL && blockmap_next(&m->blocks, &blk)) {
			removed += blockmap_remove(&r->blocks, blk);
			blk++;
		}
	}
	from->nblocks -= removed;
	return removed;
}

uint64_t blockset_count_common(const struct blockset *a, const struct blockset *b)
{
	uint64_t common = 0;

	for (size_t i = 0; i < a->nslots; i++) {
		const struct blockset_rel *r = blockset_slot(a, i);
		const struct blockset_rel *o = r != NULL ? lookup(b, r->spc, r->db, r->rel) : NULL;
		size_t n;

		if (o == NULL)
			continue;
		n = r->blocks.nbytes < o->blocks.nbytes ? r->blocks.nbytes : o->blocks.nbytes;
		for (size_t k = 0; k < n; k++)
			common += (uint64_t) __builtin_popcount((unsigned) (r->blocks.bits[k] & o->blocks.bits[k]));
	}
	return common;
}

void blockset_merge(struct blockset *into, const struct blockset *from)
{
	for (size_t i = 0; i < from->nslots; i++) {
		const struct blockset_rel *r = blockset_slot(from, i);
		uint32_t blk = 0;

		while (r != NULL && blockmap_next(&r->blocks, &blk)) {
			blockset_add(into, r->spc, r->db, r->rel, blk);
			blk++;
		}
	}
}

const struct blockset_rel *blockset_slot(const struct blockset *s, size_t i)
{
	return s->rels[i].rel != 0 ? &s->rels[i] : NULL;
}

size_t blockset_memory(const struct blockset *s)
{
	size_t bytes = s->nslots * sizeof(*s->rels);

	for (size_t i = 0; i < s->nslots; i++)
		bytes += s->rels[i].blocks.nbytes;
	return bytes;
}

void blockset_free(struct blockset *s)
{
	for (size_t i = 0; i < s->nslots; i++)
		blockmap_free(&s->rels[i].blocks);
	free(s->rels);
	*s = (struct blockset) BLOCKSET_INIT;
}
