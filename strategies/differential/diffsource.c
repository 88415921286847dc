#include "differential/diffsource.h"

#include <errno.h>
#include <fcntl.h>
#include <librsync.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "differential/chunkread.h"
#include "differential/difflist.h"
#include "differential/pagesig.h"
#include "differential/rules.h"
#include "differential/diffwire.h"
#include "fsutil.h"
#include "xalloc.h"

#define READ_CHUNK PAGESIG_CHUNK
#define JOB_OUT (256u << 10)
#define PROGRESS_EVERY (16u << 20) /* bytes compared between two progress frames */

struct helper {
	const char *datadir;
	const char *log_directory;
	struct diff_list list;
	struct wire_in in;
	struct wire_out out;
	unsigned char *chunk;  /* READ_CHUNK bytes of the source file */
	unsigned char *sig;    /* the source chunk's page signatures */
	unsigned char *tsig;   /* the target's page signatures not yet compared */
	size_t tsig_len, tsig_cap;
	bool tsig_done;
	char *jobout;          /* JOB_OUT bytes of librsync output */
};

static void list_cb(void *arg, const char *path, enum file_type type, uint64_t size,
		    const char *link)
{
	struct helper *h = arg;

	if (diff_rule_of(path, h->log_directory) == DIFF_SYNC)
		diff_list_add(&h->list, path, type, size, link);
}

/* The next frame of the target's signature of file K: SIG data appended to tsig, or the end. */
static int next_sig(struct helper *h, uint32_t k, bool keep, struct errbuf *err)
{
	const unsigned char *p;
	size_t len;
	char type;

	if (wire_next(&h->in, &type, &p, &len, err) != 0)
		return -1;
	if ((type != WIRE_SIG && type != WIRE_SIG_END) || len < 4 || wire_get_u32(p) != k)
		return errbuf_set(err, "the target sent frame '%c' where the signature of file %u "
				       "was due",
				  type, k);
	if (type == WIRE_SIG_END) {
		h->tsig_done = true;
		return 0;
	}
	if (!keep)
		return 0;
	if (h->tsig_len + len - 4 > h->tsig_cap) {
		h->tsig_cap = h->tsig_len + len - 4 + WIRE_MAX_PAYLOAD;
		h->tsig = xrealloc(h->tsig, h->tsig_cap);
	}
	memcpy(h->tsig + h->tsig_len, p + 4, len - 4);
	h->tsig_len += len - 4;
	return 0;
}

static int drain_sig(struct helper *h, uint32_t k, struct errbuf *err)
{
	while (!h->tsig_done)
		if (next_sig(h, k, false, err) != 0)
			return -1;
	return 0;
}

static int send_file_frame(struct helper *h, char type, uint32_t k, const void *tail, size_t tlen,
			   const void *data, size_t dlen, struct errbuf *err)
{
	unsigned char hdr[4 + 16];

	wire_put_u32(hdr, k);
	if (tlen > 0)
		memcpy(hdr + 4, tail, tlen);
	return wire_put(&h->out, type, hdr, 4 + tlen, data, dlen, err);
}

static int send_data(struct helper *h, uint32_t k, uint64_t off, const void *data, size_t len,
		     struct errbuf *err)
{
	unsigned char o[8];

	wire_put_u64(o, off);
	return send_file_frame(h, WIRE_DATA, k, o, 8, data, len, err);
}

static int send_progress(struct helper *h, uint32_t k, char type, uint64_t size, uint64_t compared,
			 struct errbuf *err)
{
	unsigned char t[16];

	wire_put_u64(t, size);
	wire_put_u64(t + 8, compared);
	return send_file_frame(h, type, k, t, 16, NULL, 0, err);
}

/* Pages: one signature entry per page on each side, compared where the pages lie. */
static int send_pages(struct helper *h, uint32_t k, int fd, const struct diff_entry *e,
		      uint64_t *done, struct errbuf *err)
{
	uint64_t off = 0, tpage0 = 0; /* tsig[0] is the entry of page tpage0 */
	uint64_t next_progress = PROGRESS_EVERY;

	while (off < e->size) {
		size_t want = e->size - off < READ_CHUNK ? (size_t) (e->size - off) : READ_CHUNK, got;
		uint64_t page0 = off / PAGESIG_BLOCK;
		int n;

		if (chunk_read(fd, e->path, off, want, &got, h->chunk, err) != 0)
			return -1;
		if (got == 0)
			break;
		n = pagesig_chunk(h->chunk, got, h->sig, err);
		if (n < 0)
			return -1;
		/* The target's entries for these pages, or the end of its copy. */
		while (!h->tsig_done && (tpage0 + h->tsig_len / PAGESIG_ENTRY) < page0 + (uint64_t) n)
			if (next_sig(h, k, true, err) != 0)
				return -1;
		for (int i = 0; i < n;) {
			int j = i;

			/* A run of changed pages goes in one frame. */
			while (j < n) {
				uint64_t t = page0 + (uint64_t) j - tpage0;
				bool same = t < h->tsig_len / PAGESIG_ENTRY &&
					    memcmp(h->tsig + t * PAGESIG_ENTRY, h->sig + (size_t) j * PAGESIG_ENTRY,
						   PAGESIG_ENTRY) == 0;

				if (same)
					break;
				j++;
			}
			if (j > i) {
				size_t from = (size_t) i * PAGESIG_BLOCK;
				size_t to = (size_t) j * PAGESIG_BLOCK < got ? (size_t) j * PAGESIG_BLOCK : got;

				if (send_data(h, k, off + from, h->chunk + from, to - from, err) != 0)
					return -1;
				i = j;
			} else {
				i++;
			}
		}
		/* Drop the entries compared. */
		{
			uint64_t used = page0 + (uint64_t) n - tpage0;
			size_t have = h->tsig_len / PAGESIG_ENTRY;

			if (used > have)
				used = have;
			memmove(h->tsig, h->tsig + used * PAGESIG_ENTRY, h->tsig_len - used * PAGESIG_ENTRY);
			h->tsig_len -= (size_t) used * PAGESIG_ENTRY;
			tpage0 += used;
		}
		off += got;
		if (off >= next_progress) {
			next_progress = off + PROGRESS_EVERY;
			if (send_progress(h, k, WIRE_PROGRESS, off, off, err) != 0)
				return -1;
		}
		if (got < want)
			break;
	}
	h->tsig_len = 0;
	*done = off;
	return drain_sig(h, k, err);
}

/* The whole file, for a target that has no copy of it. */
static int send_whole(struct helper *h, uint32_t k, int fd, const struct diff_entry *e,
		      uint64_t *done, struct errbuf *err)
{
	uint64_t off = 0;

	while (off < e->size) {
		size_t want = e->size - off < READ_CHUNK ? (size_t) (e->size - off) : READ_CHUNK, got;

		if (chunk_read(fd, e->path, off, want, &got, h->chunk, err) != 0)
			return -1;
		if (got > 0 && send_data(h, k, off, h->chunk, got, err) != 0)
			return -1;
		off += got;
		if (got < want)
			break;
	}
	*done = off;
	return 0;
}

/* Feed IN to a librsync job, sending what it writes as WIRE_DELTA frames when SEND. */
static int run_job(struct helper *h, rs_job_t *job, uint32_t k, const void *in, size_t len,
		   bool eof, bool send, struct errbuf *err)
{
	char *out = h->jobout;
	rs_buffers_t b = { .next_in = (char *) in, .avail_in = len, .eof_in = eof };

	for (;;) {
		rs_result res;

		b.next_out = out;
		b.avail_out = JOB_OUT;
		res = rs_job_iter(job, &b);
		if (res != RS_DONE && res != RS_BLOCKED)
			return errbuf_set(err, "librsync failed on file %u: %s", k, rs_strerror(res));
		if (send && b.avail_out < JOB_OUT &&
		    send_file_frame(h, WIRE_DELTA, k, NULL, 0, out, JOB_OUT - b.avail_out, err) != 0)
			return -1;
		if (res == RS_DONE || (b.avail_in == 0 && !eof && b.avail_out > 0))
			return 0;
	}
}

/* Other files: the target's librsync signature, then the delta of ours against it. */
static int send_delta(struct helper *h, uint32_t k, int fd, const struct diff_entry *e,
		      uint64_t *done, struct errbuf *err)
{
	rs_signature_t *sig = NULL;
	rs_job_t *load = rs_loadsig_begin(&sig), *delta = NULL;
	uint64_t off = 0;
	int rc = -1;

	/* send_file read the signature's first frame already: it is in tsig. */
	for (;;) {
		if (run_job(h, load, k, h->tsig, h->tsig_len, h->tsig_done, false, err) != 0)
			goto out;
		if (h->tsig_done)
			break;
		h->tsig_len = 0;
		if (next_sig(h, k, true, err) != 0)
			goto out;
	}
	h->tsig_len = 0;
	if (rs_build_hash_table(sig) != RS_DONE) {
		errbuf_set(err, "librsync could not index the target's signature of \"%s\"", e->path);
		goto out;
	}
	delta = rs_delta_begin(sig);
	for (;;) {
		size_t want = e->size - off < READ_CHUNK ? (size_t) (e->size - off) : READ_CHUNK, got;

		if (chunk_read(fd, e->path, off, want, &got, h->chunk, err) != 0)
			goto out;
		off += got;
		if (run_job(h, delta, k, h->chunk, got, got < want || off >= e->size, true, err) != 0)
			goto out;
		if (got < want || off >= e->size)
			break;
	}
	*done = off;
	rc = 0;
out:
	if (delta)
		rs_job_free(delta);
	rs_job_free(load);
	if (sig)
		rs_free_sumset(sig);
	return rc;
}

static int send_file(struct helper *h, uint32_t k, struct errbuf *err)
{
	const struct diff_entry *e = &h->list.entries[h->list.files[k]];
	char *path = path_join(h->datadir, e->path);
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	uint64_t done = 0;
	unsigned char mode;
	int rc;

	free(path);
	h->tsig_done = false;
	h->tsig_len = 0;
	/* The first frame of the target's signature says whether it has a copy at all. */
	if (next_sig(h, k, true, err) != 0)
		goto fail;
	if (fd < 0 && errno != ENOENT) {
		errbuf_set_errno(err, errno, "cannot open \"%s/%s\"", h->datadir, e->path);
		goto fail;
	}
	if (fd < 0)
		mode = WIRE_MODE_GONE; /* dropped meanwhile: WAL replay knows, the target's copy goes */
	else if (h->tsig_done)
		mode = WIRE_MODE_WHOLE;
	else
		mode = pagesig_is_paged_file(e->path) ? WIRE_MODE_PAGES : WIRE_MODE_DELTA;
	if (send_file_frame(h, WIRE_FILE, k, &mode, 1, NULL, 0, err) != 0)
		goto fail;
	if (fd >= 0)
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	switch (mode) {
	case WIRE_MODE_PAGES:
		rc = send_pages(h, k, fd, e, &done, err);
		break;
	case WIRE_MODE_DELTA:
		rc = send_delta(h, k, fd, e, &done, err);
		break;
	case WIRE_MODE_WHOLE:
		rc = send_whole(h, k, fd, e, &done, err);
		break;
	default:
		rc = drain_sig(h, k, err);
		break;
	}
	if (fd >= 0)
		close(fd);
	if (rc != 0)
		return errbuf_prefix(err, "\"%s\"", e->path);
	return send_progress(h, k, WIRE_FILE_END, done, done, err);
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

int diffsource_run(const char *datadir, const char *log_directory, int in_fd, int out_fd,
		   struct errbuf *err)
{
	struct helper h = { .datadir = datadir, .log_directory = log_directory };
	int rc;

	wire_in_init(&h.in, in_fd, "the target");
	wire_out_init(&h.out, out_fd);
	h.chunk = xmalloc(READ_CHUNK);
	h.sig = xmalloc((READ_CHUNK / PAGESIG_BLOCK) * PAGESIG_ENTRY);
	h.jobout = xmalloc(JOB_OUT);
	rc = targetio_list_files(datadir, list_cb, &h, err);
	if (rc == 0) {
		diff_list_seal(&h.list);
		rc = diff_list_send(&h.list, &h.out, err);
	}
	for (size_t k = 0; rc == 0 && k < h.list.nfiles; k++)
		rc = send_file(&h, (uint32_t) k, err);
	if (rc == 0) {
		struct rusage ru;
		unsigned char peak[8];

		/* The helper's own memory bill, reported where the copy is logged. */
		wire_put_u64(peak, getrusage(RUSAGE_SELF, &ru) == 0 ? (uint64_t) ru.ru_maxrss : 0);
		rc = wire_put(&h.out, WIRE_DONE, peak, sizeof(peak), NULL, 0, err);
	}
	if (rc != 0) {
		struct errbuf ignored;

		/* Tell the target why, on the stream it reads; it may be gone already. */
		h.out.len = 0;
		wire_put(&h.out, WIRE_ERROR, err->msg, strlen(err->msg), NULL, 0, &ignored);
	}
	if (wire_flush(&h.out, rc == 0 ? err : &(struct errbuf){ 0 }) != 0)
		rc = -1;
	free(h.chunk);
	free(h.sig);
	free(h.tsig);
	free(h.jobout);
	diff_list_free(&h.list);
	wire_in_release(&h.in);
	wire_out_release(&h.out);
	return rc;
}
