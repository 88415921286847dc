#include "incremental/blockmap.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

void blockmap_add(struct blockmap *m, uint32_t blkno)
{
	size_t byte = blkno / 8;
	uint8_t bit = (uint8_t) (1u << (blkno % 8));

	if (byte >= m->nbytes) {
		/* Grow geometrically (at least 16 bytes, at least to the byte needed). */
		size_t want = m->nbytes < 16 ? 16 : m->nbytes * 2;

		if (want < byte + 1)
			want = byte + 1;
		m->bits = xrealloc(m->bits, want);
		memset(m->bits + m->nbytes, 0, want - m->nbytes);
		m->nbytes = want;
	}
	if ((m->bits[byte] & bit) == 0) {
		m->bits[byte] |= bit;
		m->count++;
	}
}

bool blockmap_has(const struct blockmap *m, uint32_t blkno)
{
	size_t byte = blkno / 8;

	return byte < m->nbytes && (m->bits[byte] & (1u << (blkno % 8))) != 0;
}

bool blockmap_remove(struct blockmap *m, uint32_t blkno)
{
	size_t byte = blkno / 8;
	uint8_t bit = (uint8_t) (1u << (blkno % 8));

	if (byte >= m->nbytes || (m->bits[byte] & bit) == 0)
		return false;
	m->bits[byte] &= (uint8_t) ~bit;
	m->count--;
	return true;
}

bool blockmap_next(const struct blockmap *m, uint32_t *blkno)
{
	size_t byte = *blkno / 8;
	unsigned bits;

	if (m->count == 0 || byte >= m->nbytes)
		return false;
	/* The first byte: only the bits at or above *blkno count. */
	bits = m->bits[byte] & (0xffu << (*blkno % 8));
	while (bits == 0) {
		byte++;
		/* Skip zero bytes a word at a time once aligned. */
		while (byte < m->nbytes && (byte % sizeof(uint64_t)) != 0 && m->bits[byte] == 0)
			byte++;
		while (byte + sizeof(uint64_t) <= m->nbytes) {
			uint64_t word;

			memcpy(&word, m->bits + byte, sizeof(word));
			if (word != 0)
				break;
			byte += sizeof(word);
		}
		while (byte < m->nbytes && m->bits[byte] == 0)
			byte++;
		if (byte >= m->nbytes)
			return false;
		bits = m->bits[byte];
	}
	*blkno = (uint32_t) (byte * 8 + (size_t) __builtin_ctz(bits));
	return true;
}

void blockmap_free(struct blockmap *m)
{
	free(m->bits);
	m->bits = NULL;
	m->nbytes = 0;
	m->count = 0;
}
