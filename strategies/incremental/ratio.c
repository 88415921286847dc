#include "incremental/ratio.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/zstream.h"
#include "fsutil.h"
#include "incremental/filemap.h"
#include "xalloc.h"

#define BLOCK 8192

static int count_sink(void *arg, const void *buf, size_t n, struct errbuf *err)
{
	(void) buf;
	(void) err;
	*(uint64_t *) arg += n;
	return 0;
}

/* Block BLKNO of the relation, or false when the target's file does not have it. */
static bool read_block(const char *datadir, const struct blockset_rel *rel, uint32_t blkno,
		       unsigned char *buf)
{
	char rp[256], *full;
	int fd;
	ssize_t n;

	filemap_relation_path(rp, sizeof(rp), rel->spc, rel->db, rel->rel, blkno / RELSEG_BLOCKS);
	full = path_join(datadir, rp);
	fd = open(full, O_RDONLY | O_CLOEXEC);
	free(full);
	if (fd < 0)
		return false;
	n = pread(fd, buf, BLOCK, (off_t) (blkno % RELSEG_BLOCKS) * BLOCK);
	close(fd);
	return n == BLOCK;
}

int ratio_add(struct ratio_sample *s, const char *datadir, const struct blockset *set,
	      const char *codec, uint64_t max, struct errbuf *err)
{
	uint64_t stride, seen = 0, out = 0, raw = 0, taken = 0;
	struct zwriter *z;
	struct errbuf ignored;
	unsigned char *buf;
	int rc = 0;

	if (set->nblocks == 0 || max == 0)
		return 0;
	stride = set->nblocks / max > 0 ? set->nblocks / max : 1;
	if (zwriter_open(codec, count_sink, &out, &z, err) != 0)
		return -1;
	buf = xmalloc(BLOCK);
	for (size_t i = 0; rc == 0 && i < set->nslots && taken < max; i++) {
		const struct blockset_rel *rel = blockset_slot(set, i);
		uint32_t blk = 0;

		if (rel == NULL)
			continue;
		while (rc == 0 && taken < max && blockmap_next(&rel->blocks, &blk)) {
			if (seen++ % stride == 0 && read_block(datadir, rel, blk, buf)) {
				rc = zwriter_write(z, buf, BLOCK, err);
				raw += BLOCK;
				taken++;
			}
			blk++;
		}
	}
	free(buf);
	if (zwriter_close(z, rc == 0 ? err : &ignored) != 0)
		rc = -1;
	if (rc == 0) {
		s->blocks += taken;
		s->raw += raw;
		s->out += out;
	}
	return rc;
}

double ratio_of(const struct ratio_sample *s)
{
	if (s->raw == 0)
		return 1.0;
	return (double) s->out / (double) s->raw;
}
