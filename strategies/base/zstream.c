#include "base/zstream.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xalloc.h"

#define ZREAD_BUF (256 * 1024)

int zstream_check_codec(const char *codec, struct errbuf *err)
{
	if (codec != NULL && (strcmp(codec, "lz4") == 0 || strcmp(codec, "zstd") == 0))
		return 0;
	return errbuf_set(err, "unknown compression \"%s\" (lz4 or zstd)", codec ? codec : "");
}

/* ---------------------------------------------------------------------------------------- */
/* Writer */

struct zwriter {
	struct archive *a;
	zstream_sink_fn sink;
	void *arg;
	uint64_t out;
	struct errbuf sink_err; /* what the sink said, when libarchive only says "write failed" */
};

static la_ssize_t zw_write(struct archive *a, void *arg, const void *buf, size_t n)
{
	struct zwriter *w = arg;

	if (w->sink(w->arg, buf, n, &w->sink_err) != 0) {
		archive_set_error(a, EIO, "%s", w->sink_err.msg);
		return -1;
	}
	w->out += n;
	return (la_ssize_t) n;
}

static int zw_fail(struct zwriter *w, const char *what, struct errbuf *err)
{
	if (!errbuf_empty(&w->sink_err))
		return errbuf_set(err, "%s", w->sink_err.msg);
	return errbuf_set(err, "cannot %s the compressed stream: %s", what, archive_error_string(w->a));
}

int zwriter_open(const char *codec, zstream_sink_fn sink, void *arg, struct zwriter **out,
		 struct errbuf *err)
{
	struct zwriter *w;
	struct archive_entry *e;
	int rc;

	*out = NULL;
	if (zstream_check_codec(codec, err) != 0)
		return -1;
	w = xcalloc(1, sizeof(*w));
	w->sink = sink;
	w->arg = arg;
	errbuf_clear(&w->sink_err);
	w->a = archive_write_new();
	rc = strcmp(codec, "lz4") == 0 ? archive_write_add_filter_lz4(w->a)
				       : archive_write_add_filter_zstd(w->a);
	/* ARCHIVE_WARN: libarchive would run an external program; we never do. */
	if (rc != ARCHIVE_OK) {
		errbuf_set(err, "this libarchive cannot compress with %s by itself", codec);
		archive_write_free(w->a);
		free(w);
		return -1;
	}
	(void) archive_write_set_filter_option(w->a, NULL, "compression-level", "1");
	archive_write_set_format_raw(w->a);
	/* No padding of the last block: the stream's end is its own. */
	archive_write_set_bytes_per_block(w->a, 0);
	if (archive_write_open(w->a, w, NULL, zw_write, NULL) != ARCHIVE_OK) {
		zw_fail(w, "open", err);
		archive_write_free(w->a);
		free(w);
		return -1;
	}
	e = archive_entry_new();
	archive_entry_set_pathname(e, "stream");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0600);
	rc = archive_write_header(w->a, e);
	archive_entry_free(e);
	if (rc != ARCHIVE_OK) {
		zw_fail(w, "start", err);
		archive_write_free(w->a);
		free(w);
		return -1;
	}
	*out = w;
	return 0;
}

int zwriter_write(struct zwriter *w, const void *buf, size_t n, struct errbuf *err)
{
	const char *p = buf;

	while (n > 0) {
		la_ssize_t k = archive_write_data(w->a, p, n);

		if (k <= 0)
			return zw_fail(w, "write", err);
		p += k;
		n -= (size_t) k;
	}
	return 0;
}

int zwriter_close(struct zwriter *w, struct errbuf *err)
{
	int rc = 0;

	if (w == NULL)
		return 0;
	if (archive_write_close(w->a) != ARCHIVE_OK)
		rc = zw_fail(w, "end", err);
	archive_write_free(w->a);
	free(w);
	return rc;
}

uint64_t zwriter_out_bytes(const struct zwriter *w)
{
	return w->out;
}

int zstream_fd_sink(void *fd_as_intptr, const void *buf, size_t n, struct errbuf *err)
{
	int fd = (int) (intptr_t) fd_as_intptr;
	const char *p = buf;

	while (n > 0) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return errbuf_set_errno(err, k < 0 ? errno : EPIPE, "cannot send the compressed stream");
		p += k;
		n -= (size_t) k;
	}
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Reader */

struct zreader {
	struct archive *a;
	int fd;
	const char *peer;
	unsigned char *buf;
	uint64_t in;
	int read_errno;
};

static la_ssize_t zr_read(struct archive *a, void *arg, const void **buf)
{
	struct zreader *r = arg;
	ssize_t n;

	(void) a;
	do
		n = read(r->fd, r->buf, ZREAD_BUF);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		r->read_errno = errno;
		archive_set_error(a, errno, "cannot read from %s", r->peer);
		return -1;
	}
	r->in += (uint64_t) n;
	*buf = r->buf;
	return n;
}

int zreader_open(int fd, const char *peer, struct zreader **out, struct errbuf *err)
{
	struct zreader *r = xcalloc(1, sizeof(*r));
	struct archive_entry *e;

	*out = NULL;
	r->fd = fd;
	r->peer = peer;
	r->buf = xmalloc(ZREAD_BUF);
	r->a = archive_read_new();
	/* Only the two codecs, by libarchive's own code (ARCHIVE_WARN would mean a program). */
	if (archive_read_support_filter_lz4(r->a) != ARCHIVE_OK ||
	    archive_read_support_filter_zstd(r->a) != ARCHIVE_OK) {
		errbuf_set(err, "this libarchive cannot decompress lz4 and zstd by itself");
		zreader_close(r);
		return -1;
	}
	archive_read_support_format_raw(r->a);
	if (archive_read_open(r->a, r, NULL, zr_read, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(r->a, &e) != ARCHIVE_OK) {
		errbuf_set(err, "the compressed stream from %s does not start: %s", peer,
			   archive_error_string(r->a));
		zreader_close(r);
		return -1;
	}
	/* A raw stream with no filter at all is not ours. */
	if (archive_filter_count(r->a) < 2) {
		errbuf_set(err, "the stream from %s is not compressed", peer);
		zreader_close(r);
		return -1;
	}
	*out = r;
	return 0;
}

int zreader_read(struct zreader *r, void *buf, size_t n, size_t *got, struct errbuf *err)
{
	la_ssize_t k = archive_read_data(r->a, buf, n);

	if (k < 0)
		return errbuf_set(err, "cannot decompress the stream from %s: %s", r->peer,
				  archive_error_string(r->a));
	*got = (size_t) k;
	return 0;
}

uint64_t zreader_in_bytes(const struct zreader *r)
{
	return r->in;
}

void zreader_close(struct zreader *r)
{
	if (r == NULL)
		return;
	archive_read_free(r->a);
	free(r->buf);
	free(r);
}
