#include "incremental/prefetch.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/wire.h"
#include "fsutil.h"
#include "incremental/sourcefile.h"
#include "xalloc.h"

/* Frames (base/wire). */
enum {
	FRAME_HINT = 'H', /* u64 offset, u64 length, the path */
	FRAME_END = 'E',  /* no more hints */
	FRAME_DONE = 'Z', /* u64 hints advised, u64 bytes advised */
};

#define HINT_FIXED 16
/* One write of at most PIPE_BUF bytes to a pipe is all or nothing: a hint is never cut. */
#define HINT_MAX_PATH (4096 - WIRE_FRAME_HEADER - HINT_FIXED)

/* ---------------------------------------------------------------------------------------- */
/* The helper, next to the source data */

/* A file that vanished since it was listed is no error: the copy itself says what to do. */
static void advise(const char *datadir, struct source_file *f, const char *path, uint64_t off,
		   uint64_t len)
{
	int fd = source_file_use(f, datadir, path);

	if (fd >= 0)
		(void) posix_fadvise(fd, (off_t) off, (off_t) len, POSIX_FADV_WILLNEED);
}

int prefetch_helper(const char *source_datadir, const char *const *args, int in_fd, int out_fd,
		    struct errbuf *err)
{
	struct wire_in in;
	struct wire_out out;
	struct source_file of = SOURCE_FILE_INIT;
	uint64_t hints = 0, bytes = 0;
	int rc = 0;

	if (args == NULL || args[0] == NULL || strcmp(args[0], PREFETCH_HELPER_ARG) != 0 || args[1] != NULL)
		return errbuf_set(err, "the prefetch helper takes the one argument \"" PREFETCH_HELPER_ARG "\"");
	wire_in_init(&in, in_fd, "the target");
	wire_out_init(&out, out_fd);
	for (;;) {
		const unsigned char *p;
		size_t len;
		char type, path[HINT_MAX_PATH + 1];

		if (wire_next(&in, &type, &p, &len, err) != 0) {
			rc = -1;
			break;
		}
		if (type == FRAME_END)
			break;
		if (type != FRAME_HINT || len <= HINT_FIXED || len - HINT_FIXED > HINT_MAX_PATH) {
			rc = errbuf_set(err, "the prefetch helper got a bad frame '%c' (%zu bytes)", type, len);
			break;
		}
		memcpy(path, p + HINT_FIXED, len - HINT_FIXED);
		path[len - HINT_FIXED] = '\0';
		/* Only files inside the data directory, whatever the other side sends. */
		if (strlen(path) != len - HINT_FIXED || !path_is_safe_relative(path)) {
			rc = errbuf_set(err, "the prefetch helper refuses \"%s\": not a path inside the "
					     "data directory", path);
			break;
		}
		advise(source_datadir, &of, path, wire_get_u64(p), wire_get_u64(p + 8));
		hints++;
		bytes += wire_get_u64(p + 8);
	}
	source_file_close(&of);
	if (rc == 0) {
		unsigned char z[16];

		wire_put_u64(z, hints);
		wire_put_u64(z + 8, bytes);
		rc = wire_put(&out, FRAME_DONE, z, sizeof(z), NULL, 0, err);
		if (rc == 0)
			rc = wire_flush(&out, err);
	}
	wire_in_release(&in);
	wire_out_release(&out);
	return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* The target's side */

int prefetch_start(struct recovery *r, struct prefetch *p, struct errbuf *err)
{
	const char *args[] = { PREFETCH_HELPER_ARG, NULL };
	int flags;

	memset(p, 0, sizeof(*p));
	if (r->host->start_helper(r, args, &p->h, err) != 0)
		return -1;
	p->running = true;
	/* Hints never hold the copy up: one that finds the pipe full is dropped. */
	flags = fcntl(p->h.to_fd, F_GETFL);
	if (flags < 0 || fcntl(p->h.to_fd, F_SETFL, flags | O_NONBLOCK) != 0)
		return errbuf_set_errno(err, errno, "cannot make the prefetch helper's pipe non-blocking");
#ifdef F_SETPIPE_SZ
	/* Room for a queue's worth of hints (the kernel may give less: then more are dropped). */
	(void) fcntl(p->h.to_fd, F_SETPIPE_SZ, 1 << 20);
#endif
	return 0;
}

void prefetch_hint(void *arg, const char *path, uint64_t off, uint64_t len)
{
	struct prefetch *p = arg;
	unsigned char frame[WIRE_FRAME_HEADER + HINT_FIXED + HINT_MAX_PATH];
	size_t plen = strlen(path), n = WIRE_FRAME_HEADER + HINT_FIXED + plen;

	if (!p->running || p->h.to_fd < 0 || plen == 0 || plen > HINT_MAX_PATH)
		return;
	wire_put_header(frame, FRAME_HINT, (uint32_t) (HINT_FIXED + plen));
	wire_put_u64(frame + WIRE_FRAME_HEADER, off);
	wire_put_u64(frame + WIRE_FRAME_HEADER + 8, len);
	memcpy(frame + WIRE_FRAME_HEADER + HINT_FIXED, path, plen);
	if (write(p->h.to_fd, frame, n) == (ssize_t) n) {
		p->hinted++;
		p->hinted_bytes += len;
	} else {
		p->dropped++;
	}
}

int prefetch_finish(struct recovery *r, struct prefetch *p, uint64_t *advised, struct errbuf *err)
{
	struct wire_out out;
	struct wire_in in;
	struct errbuf ignored;
	const unsigned char *z;
	size_t len;
	char type;
	int flags, rc, status;

	*advised = 0;
	if (!p->running)
		return 0;
	p->running = false;
	/* The end frame must arrive: written blocking. */
	flags = fcntl(p->h.to_fd, F_GETFL);
	if (flags >= 0)
		(void) fcntl(p->h.to_fd, F_SETFL, flags & ~O_NONBLOCK);
	wire_out_init(&out, p->h.to_fd);
	rc = wire_put(&out, FRAME_END, NULL, 0, NULL, 0, err);
	if (rc == 0)
		rc = wire_flush(&out, err);
	wire_out_release(&out);
	wire_in_init(&in, p->h.from_fd, "the prefetch helper");
	if (rc == 0)
		rc = wire_next(&in, &type, &z, &len, err);
	if (rc == 0 && (type != FRAME_DONE || len < 16))
		rc = errbuf_set(err, "the prefetch helper next to source dbid %d sent a bad frame '%c'",
				r->source_dbid, type);
	if (rc == 0)
		*advised = wire_get_u64(z + 8);
	wire_in_release(&in);
	if (rc != 0 && p->h.pid > 0)
		kill(p->h.pid, SIGTERM);
	errbuf_clear(&ignored);
	status = r->host->finish_helper(&p->h, rc != 0 ? &ignored : err);
	if (rc == 0 && status != 0)
		rc = errbuf_set(err, "the prefetch helper next to source dbid %d exited with status %d",
				r->source_dbid, status);
	return rc;
}
