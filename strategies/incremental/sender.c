#include "incremental/sender.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/wire.h"
#include "base/zstream.h"
#include "fsutil.h"
#include "incremental/sourcefile.h"
#include "xalloc.h"

/*
 * Requests go plain over the helper's standard input, all of them before any answer (the
 * helper reads them all first: neither side can then wait on the other's full pipe). The
 * answers come in request order in one compressed stream of frames (base/wire's layout).
 */
enum {
	FRAME_RANGE = 'R', /* u64 offset, u64 length (SENDER_WHOLE: to the end), the path */
	FRAME_END = 'E',   /* no more requests */
	FRAME_DATA = 'D',  /* u64 offset, the bytes: part of the current request */
	FRAME_GONE = 'G',  /* the current request's file is not on the source */
	FRAME_NEXT = 'N',  /* the current request is complete */
	FRAME_DONE = 'Z',  /* u64 requests served, u64 bytes read */
};

#define RANGE_FIXED 16
#define PIECE (256 * 1024)         /* bytes per read and per data frame */
#define MERGE_MAX (8 * 1024 * 1024) /* adjacent ranges merge up to this */
_Static_assert(PIECE + 8 <= WIRE_MAX_PAYLOAD, "a data frame fits the wire's limit");

struct sender_req {
	uint32_t path; /* index into paths */
	uint64_t off, len;
};

/* ---------------------------------------------------------------------------------------- */
/* Both sides: one request list */

struct reqlist {
	char **paths;
	size_t npaths, paths_alloc;
	struct sender_req *reqs;
	size_t nreqs, reqs_alloc;
};

/* A request; consecutive requests of one path share its copy. */
static void reqlist_add(struct reqlist *l, const char *path, uint64_t off, uint64_t len)
{
	if (l->npaths == 0 || strcmp(l->paths[l->npaths - 1], path) != 0) {
		if (l->npaths == l->paths_alloc) {
			l->paths_alloc = l->paths_alloc ? l->paths_alloc * 2 : 256;
			l->paths = xrealloc(l->paths, l->paths_alloc * sizeof(*l->paths));
		}
		l->paths[l->npaths++] = xstrdup(path);
	}
	if (l->nreqs == l->reqs_alloc) {
		l->reqs_alloc = l->reqs_alloc ? l->reqs_alloc * 2 : 1024;
		l->reqs = xrealloc(l->reqs, l->reqs_alloc * sizeof(*l->reqs));
	}
	l->reqs[l->nreqs++] = (struct sender_req) { (uint32_t) (l->npaths - 1), off, len };
}

static void reqlist_release(struct reqlist *l)
{
	for (size_t i = 0; i < l->npaths; i++)
		free(l->paths[i]);
	free(l->paths);
	free(l->reqs);
	memset(l, 0, sizeof(*l));
}

/* ---------------------------------------------------------------------------------------- */
/* The helper, next to the source data */

static int zput(struct zwriter *z, char type, const unsigned char *hdr, size_t hlen,
		const void *data, size_t dlen, struct errbuf *err)
{
	unsigned char h[WIRE_FRAME_HEADER + 16];

	wire_put_header(h, type, (uint32_t) (hlen + dlen));
	if (hlen > 0)
		memcpy(h + WIRE_FRAME_HEADER, hdr, hlen);
	if (zwriter_write(z, h, WIRE_FRAME_HEADER + hlen, err) != 0)
		return -1;
	return dlen > 0 ? zwriter_write(z, data, dlen, err) : 0;
}

/* One request: its bytes as data frames, or a gone frame; then the next frame. */
static int serve(struct zwriter *z, int fd, const char *path, uint64_t off, uint64_t len,
		 unsigned char *buf, uint64_t *read_bytes, struct errbuf *err)
{
	unsigned char hdr[8];

	if (fd < 0 && zput(z, FRAME_GONE, NULL, 0, NULL, 0, err) != 0)
		return -1;
	while (fd >= 0 && len > 0) {
		size_t want = len < PIECE ? (size_t) len : PIECE;
		ssize_t n = pread(fd, buf, want, (off_t) off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errbuf_set_errno(err, errno, "cannot read \"%s\" at offset %llu", path,
						(unsigned long long) off);
		if (n == 0)
			break; /* shorter than asked: the file shrank or this is its end */
		wire_put_u64(hdr, off);
		if (zput(z, FRAME_DATA, hdr, 8, buf, (size_t) n, err) != 0)
			return -1;
		*read_bytes += (uint64_t) n;
		off += (uint64_t) n;
		if (len != SENDER_WHOLE)
			len -= (uint64_t) n;
	}
	return zput(z, FRAME_NEXT, NULL, 0, NULL, 0, err);
}

static int read_requests(const char *datadir, struct wire_in *in, struct reqlist *l,
			 struct errbuf *err)
{
	struct source_file ahead = SOURCE_FILE_INIT;
	int rc = 0;

	for (;;) {
		const unsigned char *p;
		size_t len;
		char type, path[4096];
		uint64_t off, n;
		int fd;

		if (wire_next(in, &type, &p, &len, err) != 0) {
			rc = -1;
			break;
		}
		if (type == FRAME_END)
			break;
		if (type != FRAME_RANGE || len <= RANGE_FIXED || len - RANGE_FIXED >= sizeof(path)) {
			rc = errbuf_set(err, "the send helper got a bad frame '%c' (%zu bytes)", type, len);
			break;
		}
		memcpy(path, p + RANGE_FIXED, len - RANGE_FIXED);
		path[len - RANGE_FIXED] = '\0';
		/* Only files inside the data directory, whatever the other side sends. */
		if (strlen(path) != len - RANGE_FIXED || !path_is_safe_relative(path)) {
			rc = errbuf_set(err, "the send helper refuses \"%s\": not a path inside the data "
					     "directory", path);
			break;
		}
		off = wire_get_u64(p);
		n = wire_get_u64(p + 8);
		reqlist_add(l, path, off, n);
		/* Read ahead while the rest of the requests arrive. */
		fd = source_file_use(&ahead, datadir, path);
		if (fd >= 0)
			(void) posix_fadvise(fd, (off_t) off, n == SENDER_WHOLE ? 0 : (off_t) n,
					     POSIX_FADV_WILLNEED);
	}
	source_file_close(&ahead);
	return rc;
}

int sender_helper(const char *source_datadir, const char *const *args, int in_fd, int out_fd,
		  struct errbuf *err)
{
	struct wire_in in;
	struct reqlist l = { 0 };
	struct source_file f = SOURCE_FILE_INIT;
	struct zwriter *z = NULL;
	unsigned char *buf = NULL, done[16];
	uint64_t read_bytes = 0;
	int rc;

	if (args == NULL || args[0] == NULL || strcmp(args[0], SENDER_HELPER_ARG) != 0 ||
	    args[1] == NULL || args[2] != NULL)
		return errbuf_set(err, "the send helper takes \"" SENDER_HELPER_ARG "\" and a codec");
	if (zstream_check_codec(args[1], err) != 0)
		return -1;
	wire_in_init(&in, in_fd, "the target");
	rc = read_requests(source_datadir, &in, &l, err);
	wire_in_release(&in);
	if (rc == 0)
		rc = zwriter_open(args[1], zstream_fd_sink, (void *) (intptr_t) out_fd, &z, err);
	if (rc == 0)
		buf = xmalloc(PIECE);
	for (size_t i = 0; rc == 0 && i < l.nreqs; i++) {
		const struct sender_req *q = &l.reqs[i];
		const char *path = l.paths[q->path];
		int fd = source_file_use(&f, source_datadir, path);

		/* A file gone since it was listed goes from the target too; nothing else is fine. */
		if (fd < 0 && f.err != ENOENT)
			rc = errbuf_set_errno(err, f.err, "cannot open \"%s\" in %s", path, source_datadir);
		else
			rc = serve(z, fd, path, q->off, q->len, buf, &read_bytes, err);
	}
	source_file_close(&f);
	if (rc == 0) {
		wire_put_u64(done, l.nreqs);
		wire_put_u64(done + 8, read_bytes);
		rc = zput(z, FRAME_DONE, done, sizeof(done), NULL, 0, err);
	}
	if (z != NULL && zwriter_close(z, err) != 0)
		rc = -1;
	free(buf);
	reqlist_release(&l);
	return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* The target's side */


struct sender_state {
	struct targetio *tio;
	int source_dbid;
	struct wire_out out;
	struct reqlist l;    /* what was asked for, in order: the answers are checked against it */
	char *last_path;     /* the request held back so that an adjacent one can merge into it */
	uint64_t last_off, last_len;
};

int sender_start(struct recovery *r, struct targetio *tio, struct sender *s, struct errbuf *err)
{
	const char *args[] = { SENDER_HELPER_ARG, r->compression, NULL };

	memset(s, 0, sizeof(*s));
	if (zstream_check_codec(r->compression, err) != 0)
		return -1;
	if (r->host->start_helper(r, args, &s->h, err) != 0)
		return -1;
	s->running = true;
	s->st = xcalloc(1, sizeof(*s->st));
	s->st->tio = tio;
	s->st->source_dbid = r->source_dbid;
	wire_out_init(&s->st->out, s->h.to_fd);
	return 0;
}

static int send_last(struct sender *s, struct errbuf *err)
{
	struct sender_state *st = s->st;
	unsigned char hdr[RANGE_FIXED];
	int rc;

	if (st->last_path == NULL)
		return 0;
	wire_put_u64(hdr, st->last_off);
	wire_put_u64(hdr + 8, st->last_len);
	rc = wire_put(&st->out, FRAME_RANGE, hdr, sizeof(hdr), st->last_path, strlen(st->last_path), err);
	if (rc == 0) {
		reqlist_add(&st->l, st->last_path, st->last_off, st->last_len);
		s->requests++;
	}
	free(st->last_path);
	st->last_path = NULL;
	return rc != 0 ? errbuf_prefix(err, "the send helper next to source dbid %d", st->source_dbid) : 0;
}

int sender_queue(struct sender *s, const char *path, uint64_t off, uint64_t len, struct errbuf *err)
{
	struct sender_state *st = s->st;
	size_t plen = strlen(path);

	if (!path_is_safe_relative(path) || plen + 1 > 4096)
		return errbuf_set(err, "refusing to fetch \"%s\": not a path inside the data directory",
				  path);
	if (len == 0)
		return 0;
	if (st->last_path != NULL && len != SENDER_WHOLE && st->last_len != SENDER_WHOLE &&
	    st->last_off + st->last_len == off && st->last_len + len <= MERGE_MAX &&
	    strcmp(st->last_path, path) == 0) {
		st->last_len += len;
		return 0;
	}
	if (send_last(s, err) != 0)
		return -1;
	st->last_path = xstrdup(path);
	st->last_off = off;
	st->last_len = len;
	return 0;
}

/* Exactly N bytes of the stream; its end before them means the helper stopped half way. */
static int read_exact(struct zreader *z, unsigned char *buf, size_t n, struct errbuf *err)
{
	while (n > 0) {
		size_t got;

		if (zreader_read(z, buf, n, &got, err) != 0)
			return -1;
		if (got == 0)
			return errbuf_set(err, "the stream ended before its last frame");
		buf += got;
		n -= got;
	}
	return 0;
}

/* Every answer, in request order, into the target. */
static int receive(struct sender *s, struct zreader *z, struct errbuf *err)
{
	struct sender_state *st = s->st;
	unsigned char h[WIRE_FRAME_HEADER], *payload = xmalloc(PIECE + 16);
	size_t cur = 0;
	int rc = 0;

	for (;;) {
		const struct sender_req *q = cur < st->l.nreqs ? &st->l.reqs[cur] : NULL;
		const char *path = q != NULL ? st->l.paths[q->path] : NULL;
		uint32_t len;
		char type;

		if ((rc = read_exact(z, h, sizeof(h), err)) != 0)
			break;
		type = (char) h[0];
		len = wire_get_u32(h + 1);
		if (len > PIECE + 16) {
			rc = errbuf_set(err, "a frame '%c' of %u bytes is too long", type, len);
			break;
		}
		if ((rc = read_exact(z, payload, len, err)) != 0)
			break;
		if (type == FRAME_DONE) {
			if (len != 16 || cur != st->l.nreqs || wire_get_u64(payload) != st->l.nreqs)
				rc = errbuf_set(err, "it ended after %zu of %zu requests", cur, st->l.nreqs);
			break;
		}
		if (q == NULL) {
			rc = errbuf_set(err, "it answered more than the %zu requests", st->l.nreqs);
			break;
		}
		if (type == FRAME_NEXT && len == 0) {
			cur++;
		} else if (type == FRAME_GONE && len == 0) {
			/* Removed on the source since it was listed: it goes from the target too. */
			rc = targetio_remove(st->tio, path, FILE_TYPE_REGULAR, err);
		} else if (type == FRAME_DATA && len > 8) {
			uint64_t off = wire_get_u64(payload), n = len - 8;

			if (off < q->off || (q->len != SENDER_WHOLE && off + n > q->off + q->len)) {
				rc = errbuf_set(err, "it sent %llu bytes of \"%s\" at offset %llu, outside "
						     "the range asked for",
						(unsigned long long) n, path, (unsigned long long) off);
				break;
			}
			rc = targetio_write(st->tio, path, off, payload + 8, (size_t) n, err);
			s->raw_bytes += n;
		} else {
			rc = errbuf_set(err, "it sent a bad frame '%c' (%u bytes)", type, len);
		}
		if (rc != 0)
			break;
	}
	free(payload);
	return rc;
}

static void release_state(struct sender *s)
{
	if (s->st == NULL)
		return;
	wire_out_release(&s->st->out);
	reqlist_release(&s->st->l);
	free(s->st->last_path);
	free(s->st);
	s->st = NULL;
}

void sender_abort(struct recovery *r, struct sender *s)
{
	struct errbuf ignored;

	if (s->running) {
		s->running = false;
		if (s->h.pid > 0)
			kill(s->h.pid, SIGTERM);
		errbuf_clear(&ignored);
		(void) r->host->finish_helper(&s->h, &ignored);
	}
	release_state(s);
}

int sender_finish(struct recovery *r, struct sender *s, struct errbuf *err)
{
	struct zreader *z = NULL;
	int rc, status;

	if (!s->running)
		return 0;
	rc = send_last(s, err);
	if (rc == 0)
		rc = wire_put(&s->st->out, FRAME_END, NULL, 0, NULL, 0, err);
	if (rc == 0)
		rc = wire_flush(&s->st->out, err);
	if (rc == 0)
		rc = zreader_open(s->h.from_fd, "the send helper", &z, err);
	if (rc == 0)
		rc = receive(s, z, err);
	if (z != NULL)
		s->wire_bytes = zreader_in_bytes(z);
	zreader_close(z);
	if (rc != 0) {
		errbuf_prefix(err, "the send helper next to source dbid %d (%s:%d)", r->source_dbid,
			      r->source_host, r->source_port);
		sender_abort(r, s);
		return -1;
	}
	s->running = false;
	status = r->host->finish_helper(&s->h, err);
	release_state(s);
	if (status != 0)
		return errbuf_set(err, "the send helper next to source dbid %d (%s:%d) exited with "
				       "status %d",
				  r->source_dbid, r->source_host, r->source_port, status);
	return 0;
}
