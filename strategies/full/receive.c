#include "full/receive.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "full/tablespace.h"
#include "log.h"
#include "xalloc.h"

struct demux {
	const struct full_receive_opts *o;
	const struct full_copy_source *src;
	struct full_receive_result *res;
	const char *msg;     /* a message read but not yet handled ('n' or 'm' after an archive) */
	size_t len;
	bool pending;
	bool copy_done;      /* the source reported the end of the COPY */
	bool archive_ended;  /* the archive being read is over (next message pending, or the end) */
	const char *archive; /* the archive being read, for messages */
};

static void progress(struct demux *d)
{
	if (d->o->progress)
		d->o->progress(d->o->ctx, d->res->bytes, d->res->server_done);
}

static int parse_progress(struct demux *d, const char *msg, size_t len, struct errbuf *err)
{
	uint64_t v = 0;

	if (len != 9)
		return errbuf_set(err, "malformed progress message (%zu bytes, expected 9)", len);
	for (size_t i = 1; i < 9; i++)
		v = (v << 8) | (unsigned char) msg[i];
	d->res->server_done = v;
	progress(d);
	return 0;
}

/* The next message: the pending one, or a new one from the source. 1, 0 (end) or -1. */
static int fetch(struct demux *d, struct errbuf *err)
{
	int rc;

	if (d->pending) {
		d->pending = false;
		return 1;
	}
	if (d->copy_done)
		return 0;
	rc = d->src->next(d->src->ctx, &d->msg, &d->len, err);
	if (rc == 0)
		d->copy_done = true;
	if (rc > 0 && d->len == 0)
		return errbuf_set(err, "empty CopyData message in the BASE_BACKUP stream");
	return rc;
}

/* full_read_fn for the archive at hand: its 'd' payloads, until the next 'n'/'m' or the end. */
static ssize_t archive_chunk(void *ctx, const void **buf, struct errbuf *err)
{
	struct demux *d = ctx;

	while (!d->archive_ended) {
		int rc = fetch(d, err);

		if (rc < 0)
			return -1;
		if (rc == 0) {
			d->archive_ended = true;
			break;
		}
		switch (d->msg[0]) {
		case 'd':
			if (d->len == 1)
				continue;
			d->res->bytes += d->len - 1;
			progress(d);
			*buf = d->msg + 1;
			return (ssize_t) (d->len - 1);
		case 'p':
			if (parse_progress(d, d->msg, d->len, err) != 0)
				return -1;
			continue;
		case 'n':
		case 'm':
			/* Nothing marks the end of an archive but what comes next. */
			d->pending = true;
			d->archive_ended = true;
			break;
		default:
			return errbuf_set(err, "unexpected message type '%c' (0x%02x) inside archive %s",
					  d->msg[0] >= 32 && d->msg[0] < 127 ? d->msg[0] : '?',
					  (unsigned char) d->msg[0], d->archive);
		}
	}
	return 0;
}

/* The archive names' ending: ".tar", or ".tar.lz4" / ".tar.zst" with server compression. */
static const char *archive_suffix(const char *compression)
{
	if (compression == NULL)
		return ".tar";
	return strcmp(compression, "zstd") == 0 ? ".tar.zst" : ".tar.lz4";
}

/* 'n': name NUL location NUL. The name must be base<suffix> or <oid><suffix>. */
static int new_archive(struct demux *d, bool *seen, bool *base_seen, struct errbuf *err)
{
	const char *name = d->msg + 1, *location, *end = d->msg + d->len;
	const char *nul = memchr(name, '\0', (size_t) (end - name));
	struct full_extract_opts eo = {
		.syncer = d->o->syncer,
		.log_directory = d->o->log_directory,
		.tablespaces = d->o->tablespaces,
		.ntablespaces = d->o->ntablespaces,
		.compression = d->o->compression,
		.log = d->o->log,
		.log_ctx = d->o->ctx,
	};
	const char *suffix = archive_suffix(d->o->compression);
	char label[64], base[32];

	if (nul == NULL || (location = nul + 1) >= end || memchr(location, '\0', (size_t) (end - location)) != end - 1)
		return errbuf_set(err, "malformed new-archive message in the BASE_BACKUP stream");
	if (name[0] == '\0' || name[0] == '.' || strchr(name, '/') || strchr(name, '\\'))
		return errbuf_set(err, "the server announced an archive named \"%s\": refused", name);
	snprintf(base, sizeof(base), "base%s", suffix);
	if (*base_seen)
		return errbuf_set(err, "archive %s arrived after %s, which must come last", name, base);
	snprintf(label, sizeof(label), "%s", name);
	if (strcmp(name, base) == 0) {
		if (location[0] != '\0')
			return errbuf_set(err, "%s announced with a tablespace location \"%s\"", base,
					  location);
		eo.root = d->o->target;
		eo.main_archive = true;
		*base_seen = true;
	} else {
		char *endp;
		unsigned long oid;
		size_t i;

		errno = 0;
		oid = strtoul(name, &endp, 10);
		if (errno != 0 || endp == name || strcmp(endp, suffix) != 0 || oid == 0 || oid > UINT_MAX)
			return errbuf_set(err, "the server sent an archive named \"%s\": expected %s or "
					       "<tablespace oid>%s (%s)",
					  name, base, suffix,
					  d->o->compression ? "the compression asked for"
							    : "no compression was asked for");
		for (i = 0; i < d->o->ntablespaces; i++)
			if (d->o->tablespaces[i].oid == oid)
				break;
		if (i == d->o->ntablespaces)
			return errbuf_set(err, "the server sent archive %s for tablespace %lu, which it did "
					       "not announce", name, oid);
		if (seen[i])
			return errbuf_set(err, "the server sent archive %s twice", name);
		if (!tablespace_same_location(location, d->o->tablespaces[i].source_location))
			return errbuf_set(err, "archive %s is for location \"%s\", but tablespace %lu is at "
					       "\"%s\"", name, location, oid,
					  d->o->tablespaces[i].source_location);
		seen[i] = true;
		eo.root = d->o->tablespaces[i].target_location;
		eo.main_archive = false;
	}
	eo.archive = label;
	d->archive = label;
	d->archive_ended = false;
	d->res->archives++;
	if (full_extract(&eo, archive_chunk, d, &d->res->extract, err) != 0)
		return -1;
	d->archive = NULL;
	return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t) n;
	}
	return 0;
}

/* 'm': the manifest's bytes follow until the end of the COPY. */
static int manifest(struct demux *d, struct errbuf *err)
{
	char *path = path_join(d->o->target, FULL_MANIFEST_TMP);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	int rc;

	if (fd < 0) {
		errbuf_set_errno(err, errno, "cannot create \"%s\"", path);
		free(path);
		return -1;
	}
	while ((rc = fetch(d, err)) > 0) {
		if (d->msg[0] == 'p') {
			if (parse_progress(d, d->msg, d->len, err) != 0)
				break;
			continue;
		}
		if (d->msg[0] != 'd') {
			rc = errbuf_set(err, "unexpected message type '%c' after the backup manifest",
					d->msg[0] >= 32 && d->msg[0] < 127 ? d->msg[0] : '?');
			break;
		}
		if (write_all(fd, d->msg + 1, d->len - 1) != 0) {
			rc = errbuf_set_errno(err, errno, "cannot write \"%s\"", path);
			break;
		}
		d->res->bytes += d->len - 1;
		progress(d);
	}
	if (rc == 0 && fsync_fd(fd, false, path, err) != 0)
		rc = -1;
	close(fd);
	free(path);
	if (rc == 0)
		d->res->manifest = true;
	return rc;
}

int full_receive(const struct full_receive_opts *o, const struct full_copy_source *src,
		 struct full_receive_result *res, struct errbuf *err)
{
	struct demux d = { .o = o, .src = src, .res = res };
	bool *seen = xcalloc(o->ntablespaces + 1, sizeof(bool));
	bool base_seen = false;
	int rc;

	memset(res, 0, sizeof(*res));
	while ((rc = fetch(&d, err)) > 0) {
		switch (d.msg[0]) {
		case 'n':
			rc = new_archive(&d, seen, &base_seen, err);
			break;
		case 'm':
			if (d.len != 1)
				rc = errbuf_set(err, "malformed manifest message in the BASE_BACKUP stream");
			else if (!base_seen)
				rc = errbuf_set(err, "the backup manifest arrived before base.tar");
			else if (res->manifest)
				rc = errbuf_set(err, "the server sent the backup manifest twice");
			else
				rc = manifest(&d, err);
			break;
		case 'p':
			rc = parse_progress(&d, d.msg, d.len, err);
			break;
		case 'd':
			rc = errbuf_set(err, "archive data before any archive was announced");
			break;
		default:
			rc = errbuf_set(err, "unexpected message type 0x%02x in the BASE_BACKUP stream",
					(unsigned char) d.msg[0]);
			break;
		}
		if (rc != 0)
			break;
	}
	if (rc == 0 && !base_seen)
		rc = errbuf_set(err, "the BASE_BACKUP stream ended without base.tar");
	for (size_t i = 0; rc == 0 && i < o->ntablespaces; i++)
		if (!seen[i])
			rc = errbuf_set(err, "the BASE_BACKUP stream ended without the archive of "
					     "tablespace %u", o->tablespaces[i].oid);
	free(seen);
	return rc;
}

int full_manifest_commit(const char *target, struct errbuf *err)
{
	char *from = path_join(target, FULL_MANIFEST_TMP);
	char *to = path_join(target, FULL_MANIFEST);
	int rc = 0;

	if (rename(from, to) != 0)
		rc = errbuf_set_errno(err, errno, "cannot rename \"%s\" to \"%s\"", from, to);
	else
		rc = fsync_path(target, true, err);
	free(from);
	free(to);
	return rc;
}
