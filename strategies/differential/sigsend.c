#include "differential/sigsend.h"

#include <errno.h>
#include <fcntl.h>
#include <librsync.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "differential/chunkread.h"
#include "differential/pagesig.h"
#include "differential/diffwire.h"
#include "fsutil.h"
#include "xalloc.h"

#define OUT_CHUNK (256u << 10)
#define SMALL_FLUSH (16u << 10)

struct signer {
	struct sigsend *s;
	struct wire_out out;
	unsigned char *chunk, *sig;
	char *outbuf; /* OUT_CHUNK bytes of librsync output */
};

static int put_sig(struct signer *g, char type, uint32_t k, const void *data, size_t len,
		   struct errbuf *err)
{
	unsigned char hdr[4];

	wire_put_u32(hdr, k);
	return wire_put(&g->out, type, hdr, 4, data, len, err);
}

static int sign_pages(struct signer *g, uint32_t k, int fd, const char *path, uint64_t size,
		      struct errbuf *err)
{
	for (uint64_t off = 0; off < size;) {
		size_t want = size - off < PAGESIG_CHUNK ? (size_t) (size - off) : PAGESIG_CHUNK, got;
		int n;

		if (chunk_read(fd, path, off, want, &got, g->chunk, err) != 0)
			return -1;
		if (got == 0)
			break;
		n = pagesig_chunk(g->chunk, got, g->sig, err);
		/*
		 * Out at once: the helper compares these pages as soon as it has them, while this
		 * thread hashes the next ones. Held in the buffer, the two sides would take turns.
		 */
		if (n < 0 || put_sig(g, WIRE_SIG, k, g->sig, (size_t) n * PAGESIG_ENTRY, err) != 0 ||
		    wire_flush(&g->out, err) != 0)
			return -1;
		off += got;
	}
	return 0;
}

/* librsync's own signature, with the block size it recommends for the file's size. */
static int sign_file(struct signer *g, uint32_t k, int fd, const char *path, uint64_t size,
		     struct errbuf *err)
{
	rs_magic_number magic = RS_BLAKE2_SIG_MAGIC;
	size_t block_len = 0, strong_len = 0;
	rs_buffers_t b = { 0 };
	rs_job_t *job;
	uint64_t off = 0;
	int rc = 0;

	if (rs_sig_args((rs_long_t) size, &magic, &block_len, &strong_len) != RS_DONE)
		return errbuf_set(err, "librsync has no signature arguments for \"%s\"", path);
	job = rs_sig_begin(block_len, strong_len, magic);
	while (rc == 0) {
		rs_result res;

		if (b.avail_in == 0 && !b.eof_in) {
			size_t want = size - off < PAGESIG_CHUNK ? (size_t) (size - off) : PAGESIG_CHUNK, got;

			if (chunk_read(fd, path, off, want, &got, g->chunk, err) != 0) {
				rc = -1;
				break;
			}
			off += got;
			b.next_in = (char *) g->chunk;
			b.avail_in = got;
			b.eof_in = got < want || off >= size;
		}
		b.next_out = g->outbuf;
		b.avail_out = OUT_CHUNK;
		res = rs_job_iter(job, &b);
		if (res != RS_DONE && res != RS_BLOCKED)
			rc = errbuf_set(err, "librsync signature of \"%s\" failed: %s", path,
					rs_strerror(res));
		else if (b.avail_out < OUT_CHUNK)
			rc = put_sig(g, WIRE_SIG, k, g->outbuf, OUT_CHUNK - b.avail_out, err);
		if (res == RS_DONE)
			break;
	}
	rs_job_free(job);
	return rc;
}

static int sign_one(struct signer *g, uint32_t k, struct errbuf *err)
{
	const struct diff_entry *e = &g->s->list->entries[g->s->list->files[k]];
	char *path = path_join(g->s->datadir, e->path);
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), rc = 0;
	struct stat st;

	free(path);
	/* No copy here (or not a file, or empty): the end alone asks for the whole file. */
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
		rc = pagesig_is_paged_file(e->path)
			     ? sign_pages(g, k, fd, e->path, (uint64_t) st.st_size, err)
			     : sign_file(g, k, fd, e->path, (uint64_t) st.st_size, err);
	}
	if (fd >= 0)
		close(fd);
	if (rc != 0 || put_sig(g, WIRE_SIG_END, k, NULL, 0, err) != 0)
		return -1;
	/* Small files' signatures may wait in the buffer a little; not for long. */
	return g->out.len >= SMALL_FLUSH ? wire_flush(&g->out, err) : 0;
}

static void *sigsend_main(void *arg)
{
	struct sigsend *s = arg;
	struct signer g = { .s = s };

	wire_out_init(&g.out, s->fd);
	g.chunk = xmalloc(PAGESIG_CHUNK);
	g.sig = xmalloc((PAGESIG_CHUNK / PAGESIG_BLOCK) * PAGESIG_ENTRY);
	g.outbuf = xmalloc(OUT_CHUNK);
	s->rc = 0;
	for (size_t k = 0; s->rc == 0 && k < s->list->nfiles; k++)
		s->rc = sign_one(&g, (uint32_t) k, &s->err);
	if (s->rc == 0)
		s->rc = wire_flush(&g.out, &s->err);
	s->write_failed = g.out.broken;
	/* The helper sees the end of its input: after the last signature, or at once on failure. */
	close(s->fd);
	s->fd = -1;
	free(g.chunk);
	free(g.sig);
	free(g.outbuf);
	wire_out_release(&g.out);
	return NULL;
}

int sigsend_start(struct sigsend *s, const char *datadir, const struct diff_list *list, int fd,
		  struct errbuf *err)
{
	int rc;

	memset(s, 0, sizeof(*s));
	s->datadir = datadir;
	s->list = list;
	s->fd = fd;
	rc = pthread_create(&s->thread, NULL, sigsend_main, s);
	if (rc != 0)
		return errbuf_set_errno(err, rc, "cannot start the thread that signs the target's files");
	s->started = true;
	return 0;
}

int sigsend_join(struct sigsend *s, struct errbuf *err)
{
	if (!s->started)
		return 0;
	pthread_join(s->thread, NULL);
	s->started = false;
	if (s->rc != 0) {
		memcpy(err, &s->err, sizeof(*err));
		return -1;
	}
	return 0;
}
