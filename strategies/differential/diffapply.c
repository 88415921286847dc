#include "differential/diffapply.h"

#include <errno.h>
#include <fcntl.h>
#include <librsync.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "differential/pagesig.h"
#include "differential/rules.h"
#include "fsutil.h"
#include "inject.h"
#include "strategy.h"
#include "xalloc.h"

#define PATCH_OUT (1u << 20)

struct applier {
	struct recovery *r;
	struct targetio *tio;
	const struct diff_list *source, *target;
	struct diffapply_totals *t;
	/* the file in hand */
	bool open;
	uint32_t k;
	const struct diff_entry *e;
	int mode;
	uint64_t progress; /* bytes of it compared so far */
	/* WIRE_MODE_DELTA: the patch job, its basis (the old file) and its output (the new one) */
	rs_job_t *patch;
	int basis_fd;
	char *tmp;
	uint64_t out_off;
	char *outbuf;
};

static rs_result read_basis(void *arg, rs_long_t pos, size_t *len, void **buf)
{
	struct applier *a = arg;
	ssize_t n;

	do
		n = pread(a->basis_fd, *buf, *len, (off_t) pos);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return RS_IO_ERROR;
	if (n == 0 && *len > 0)
		return RS_INPUT_ENDED;
	*len = (size_t) n;
	return RS_DONE;
}

static void close_file(struct applier *a)
{
	if (a->patch)
		rs_job_free(a->patch);
	a->patch = NULL;
	if (a->basis_fd >= 0)
		close(a->basis_fd);
	a->basis_fd = -1;
	free(a->tmp);
	a->tmp = NULL;
	a->open = false;
}

static uint64_t target_size(const struct applier *a, const char *path)
{
	const struct diff_entry *te = diff_list_find(a->target, path);

	return te && te->type == FILE_TYPE_REGULAR ? te->size : 0;
}

static int begin_file(struct applier *a, const unsigned char *p, size_t len, struct errbuf *err)
{
	uint32_t k;

	if (len != 5 || (k = wire_get_u32(p)) >= a->source->nfiles || a->open)
		return errbuf_set(err, "the differential helper sent a malformed file header");
	a->k = k;
	a->e = &a->source->entries[a->source->files[k]];
	a->mode = p[4];
	a->progress = 0;
	a->open = true;
	switch (a->mode) {
	case WIRE_MODE_PAGES:
		return 0;
	case WIRE_MODE_WHOLE:
		a->t->whole++;
		return targetio_truncate_whole(a->tio, a->e->path, err);
	case WIRE_MODE_GONE:
		a->t->gone++;
		return targetio_remove(a->tio, a->e->path, FILE_TYPE_REGULAR, err);
	case WIRE_MODE_DELTA: {
		char *path = path_join(a->r->target_datadir, a->e->path);

		a->basis_fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		free(path);
		if (a->basis_fd < 0)
			return errbuf_set_errno(err, errno, "cannot open \"%s/%s\" to patch it",
						a->r->target_datadir, a->e->path);
		a->tmp = xasprintf("%s%s", a->e->path, DIFF_PATCH_SUFFIX);
		a->out_off = 0;
		a->patch = rs_patch_begin(read_basis, a);
		a->t->patched++;
		return targetio_truncate_whole(a->tio, a->tmp, err);
	}
	default:
		return errbuf_set(err, "the differential helper sent unknown mode %d for \"%s\"",
				  a->mode, a->e->path);
	}
}

static bool same_file(const struct applier *a, const unsigned char *p, size_t len, size_t min)
{
	return a->open && len >= min && wire_get_u32(p) == a->k;
}

/* Feed delta bytes to the patch job, writing the new file as it comes. */
static int patch(struct applier *a, const void *in, size_t len, bool eof, struct errbuf *err)
{
	rs_buffers_t b = { .next_in = (char *) in, .avail_in = len, .eof_in = eof };

	for (;;) {
		rs_result res;
		size_t n;

		b.next_out = a->outbuf;
		b.avail_out = PATCH_OUT;
		res = rs_job_iter(a->patch, &b);
		if (res != RS_DONE && res != RS_BLOCKED)
			return errbuf_set(err, "librsync could not patch \"%s/%s\": %s",
					  a->r->target_datadir, a->e->path, rs_strerror(res));
		n = PATCH_OUT - b.avail_out;
		if (n > 0 && targetio_write(a->tio, a->tmp, a->out_off, a->outbuf, n, err) != 0)
			return -1;
		a->out_off += n;
		if (res == RS_DONE || (b.avail_in == 0 && !eof && b.avail_out > 0))
			return 0;
	}
}

static int end_file(struct applier *a, const unsigned char *p, size_t len, struct errbuf *err)
{
	uint64_t size, compared;
	int rc = 0;

	if (!same_file(a, p, len, 20))
		return errbuf_set(err, "the differential helper ended a file it had not begun");
	size = wire_get_u64(p + 4);
	compared = wire_get_u64(p + 12);
	switch (a->mode) {
	case WIRE_MODE_PAGES:
		if (target_size(a, a->e->path) > size) {
			a->t->truncated++;
			rc = targetio_truncate(a->tio, a->e->path, size, err);
		}
		break;
	case WIRE_MODE_DELTA:
		rc = patch(a, NULL, 0, true, err);
		if (rc == 0 && a->out_off != size)
			rc = errbuf_set(err, "patching \"%s/%s\" gave %llu bytes, the source has %llu",
					a->r->target_datadir, a->e->path,
					(unsigned long long) a->out_off, (unsigned long long) size);
		if (rc == 0)
			rc = targetio_rename(a->tio, a->tmp, a->e->path, err);
		break;
	default:
		break;
	}
	/* Half-way through the bytes to compare: where the crash tests kill the copy. */
	if (a->t->compared < a->source->bytes / 2 && a->t->compared + compared >= a->source->bytes / 2)
		inject_point("differential-half");
	a->t->compared += compared;
	close_file(a);
	return rc;
}

static int apply_frame(struct applier *a, char type, const unsigned char *p, size_t len,
		       struct errbuf *err)
{
	switch (type) {
	case WIRE_FILE:
		return begin_file(a, p, len, err);
	case WIRE_DATA:
		if (!same_file(a, p, len, 12) ||
		    (a->mode != WIRE_MODE_PAGES && a->mode != WIRE_MODE_WHOLE))
			return errbuf_set(err, "the differential helper sent data out of place");
		if (a->mode == WIRE_MODE_PAGES)
			a->t->pages += (len - 12 + PAGESIG_BLOCK - 1) / PAGESIG_BLOCK;
		a->t->received += len - 12;
		a->r->bytes_copied = a->t->received;
		return targetio_write(a->tio, a->e->path, wire_get_u64(p + 4), p + 12, len - 12, err);
	case WIRE_DELTA:
		if (!same_file(a, p, len, 4) || a->mode != WIRE_MODE_DELTA)
			return errbuf_set(err, "the differential helper sent a delta out of place");
		a->t->received += len - 4;
		a->r->bytes_copied = a->t->received;
		return patch(a, p + 4, len - 4, false, err);
	case WIRE_PROGRESS:
		if (!same_file(a, p, len, 20))
			return errbuf_set(err, "the differential helper sent progress out of place");
		a->progress = wire_get_u64(p + 12);
		return 0;
	case WIRE_FILE_END:
		return end_file(a, p, len, err);
	case WIRE_ERROR:
		return errbuf_set(err, "the helper next to the source failed: %.*s", (int) len,
				  (const char *) p);
	default:
		return errbuf_set(err, "the differential helper sent an unknown frame '%c'", type);
	}
}

int diffapply_run(struct recovery *r, struct targetio *tio, const struct diff_list *source,
		  const struct diff_list *target, struct wire_in *in, struct diffapply_totals *t,
		  struct errbuf *err)
{
	struct applier a = { .r = r, .tio = tio, .source = source, .target = target, .t = t,
			     .basis_fd = -1 };
	int rc = 0;

	a.outbuf = xmalloc(PATCH_OUT);
	while (rc == 0) {
		const unsigned char *p;
		size_t len;
		char type;

		rc = wire_next(in, &type, &p, &len, err);
		if (rc != 0)
			break;
		if (type == WIRE_DONE) {
			if (len >= 8)
				t->helper_peak_kb = wire_get_u64(p);
			if (a.open)
				rc = errbuf_set(err, "the differential helper ended inside a file");
			break;
		}
		rc = apply_frame(&a, type, p, len, err);
		if (rc != 0 && a.e != NULL && type != WIRE_ERROR)
			errbuf_prefix(err, "file \"%s\"", a.e->path);
		r->host->progress(r, t->compared + (a.open ? a.progress : 0), source->bytes);
	}
	close_file(&a);
	free(a.outbuf);
	return rc;
}
