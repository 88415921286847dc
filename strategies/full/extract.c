#include "full/extract.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/dirwalk.h"
#include "fsutil.h"
#include "full/tablespace.h"
#include "log.h"
#include "targetmark.h"
#include "xalloc.h"

/* Start writeback of a file every this many bytes, so the disk never waits for the end. */
#define WRITEBACK_CHUNK (4u << 20)

struct extract {
	const struct full_extract_opts *o;
	struct errbuf *err;
	struct full_extract_stats st;
	char member[PATH_MAX];   /* the raw name of the member at hand, for messages */
	char *log_rel;           /* relative log directory whose contents are skipped, or NULL */
	unsigned long log_skipped;

	/* pg_tblspc/<oid> links made by this extraction: nothing may be written below them */
	char **links;
	size_t nlinks;

	/* the writer */
	int rootfd;
	struct dirwalk walk;     /* the parent directories, opened beneath the root */
	int fd;                  /* the file being written, or -1 */
	char *fpath;             /* its absolute path */
	uint64_t fsize, fend, wb_start;
};

/* ------------------------------------------------------------------------------------------ */
/* Messages */

static void say(struct extract *x, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(struct extract *x, int level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (x->o->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	x->o->log(x->o->log_ctx, level, msg);
}

/* "archive base.tar, member "x": " in front of whatever err says. */
static int member_error(struct extract *x)
{
	return errbuf_prefix(x->err, "archive %s, member \"%s\"", x->o->archive, x->member);
}

static int member_fail(struct extract *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int member_fail(struct extract *x, const char *fmt, ...)
{
	char msg[ERRBUF_SIZE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	errbuf_set(x->err, "%s", msg);
	return member_error(x);
}

static int member_fail_errno(struct extract *x, int errnum, const char *what, const char *rel)
{
	char *path = path_join(x->o->root, rel);

	errbuf_set_errno(x->err, errnum, "cannot %s \"%s\"", what, path);
	free(path);
	return member_error(x);
}

/* ------------------------------------------------------------------------------------------ */
/* Policy */

int full_normalize_member(const char *name, char *out, size_t outlen, struct errbuf *err)
{
	const char *p = name;
	size_t len;

	if (name == NULL || name[0] == '\0')
		return errbuf_set(err, "the member has no name");
	if (name[0] == '/')
		return errbuf_set(err, "absolute path refused: members must stay inside their directory");
	/* PostgreSQL names one member "./pg_wal/archive_status". */
	while (p[0] == '.' && p[1] == '/')
		p += 2;
	len = strlen(p);
	while (len > 0 && p[len - 1] == '/')
		len--;
	if (len == 0)
		return errbuf_set(err, "the name designates the directory itself");
	if (len >= outlen)
		return errbuf_set(err, "name too long");
	memcpy(out, p, len);
	out[len] = '\0';
	if (out[0] == '/')
		return errbuf_set(err, "absolute path refused: members must stay inside their directory");
	for (const char *c = out;;) {
		const char *slash = strchr(c, '/');
		size_t clen = slash ? (size_t) (slash - c) : strlen(c);

		if (clen == 0)
			return errbuf_set(err, "empty path component refused");
		if (clen == 2 && c[0] == '.' && c[1] == '.')
			return errbuf_set(err, "\"..\" component refused: members must stay inside their "
					       "directory");
		if (clen == 1 && c[0] == '.')
			return errbuf_set(err, "\".\" component refused");
		if (!slash)
			break;
		c = slash + 1;
	}
	/* The shared rule of every strategy, on top of ours. */
	if (!path_is_safe_relative(out))
		return errbuf_set(err, "unsafe path refused");
	return 0;
}

/* pg_tblspc/<oid> of a known tablespace, or NULL. */
static const struct tablespace *tablespace_link(struct extract *x, const char *rel)
{
	const char *p = rel + strlen("pg_tblspc/");
	char *end;
	unsigned long oid;

	if (strncmp(rel, "pg_tblspc/", strlen("pg_tblspc/")) != 0 || *p < '1' || *p > '9')
		return NULL;
	errno = 0;
	oid = strtoul(p, &end, 10);
	if (errno != 0 || *end != '\0' || oid > UINT_MAX)
		return NULL;
	for (size_t i = 0; i < x->o->ntablespaces; i++)
		if (x->o->tablespaces[i].oid == oid)
			return &x->o->tablespaces[i];
	return NULL;
}

static bool below_created_link(struct extract *x, const char *rel)
{
	for (size_t i = 0; i < x->nlinks; i++) {
		size_t n = strlen(x->links[i]);

		if (strncmp(rel, x->links[i], n) == 0 && (rel[n] == '/' || rel[n] == '\0'))
			return true;
	}
	return false;
}

/*
 * What Greenplum's full recovery leaves out of a mirror (pg_basebackup -E ./db_dumps -E ./promote
 * -E ./db_analyze): the primary's dumps and its promotion trigger, with everything below them.
 */
static bool greenplum_excluded(const char *rel)
{
	static const char *const names[] = { "db_dumps", "promote", "db_analyze" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t n = strlen(names[i]);

		if (strncmp(rel, names[i], n) == 0 && (rel[n] == '\0' || rel[n] == '/'))
			return true;
	}
	return false;
}

enum action { ACT_WRITE, ACT_SKIP };

/*
 * Decide what to do with a member. rel: its normalized name. For a link, *link_target is set
 * to where the link must point on the target.
 */
static int policy(struct extract *x, struct archive_entry *e, const char *rel, enum action *act,
		  const char **link_target)
{
	mode_t type = archive_entry_filetype(e);

	*act = ACT_WRITE;
	*link_target = NULL;
	if (x->o->main_archive) {
		if (targetmark_is_own_file(rel)) {
			say(x, LOG_WARNING, "archive %s: member %s not written: the target's own is kept",
			    x->o->archive, rel);
			*act = ACT_SKIP;
			return 0;
		}
		if (targetmark_is_coordinator_file(rel)) {
			say(x, LOG_INFO, "archive %s: member %s not written: it belongs to the source "
					 "coordinator", x->o->archive, rel);
			*act = ACT_SKIP;
			return 0;
		}
		if (strcmp(rel, "standby.signal") == 0 || strcmp(rel, "recovery.signal") == 0) {
			say(x, LOG_INFO, "archive %s: member %s not written: a mirror gets its own signal "
					 "file", x->o->archive, rel);
			*act = ACT_SKIP;
			return 0;
		}
		if (greenplum_excluded(rel)) {
			say(x, LOG_INFO, "archive %s: member %s not written: Greenplum keeps it off "
					 "mirrors", x->o->archive, rel);
			*act = ACT_SKIP;
			return 0;
		}
		if (x->log_rel && strncmp(rel, x->log_rel, strlen(x->log_rel)) == 0 &&
		    rel[strlen(x->log_rel)] == '/') {
			x->log_skipped++;
			*act = ACT_SKIP;
			return 0;
		}
	}
	if (below_created_link(x, rel))
		return member_fail(x, "refusing to write through the tablespace link %s", rel);
	if (archive_entry_hardlink(e) != NULL)
		return member_fail(x, "hard link to \"%s\" refused: a base backup has none",
				   archive_entry_hardlink(e));
	if (type == AE_IFREG || type == AE_IFDIR)
		return 0;
	if (type == AE_IFLNK) {
		const struct tablespace *ts;
		const char *target = archive_entry_symlink(e);

		if (!x->o->main_archive)
			return member_fail(x, "symbolic link refused: a tablespace archive has none");
		ts = tablespace_link(x, rel);
		if (ts == NULL)
			return member_fail(x, "symbolic link to \"%s\" refused: only pg_tblspc/<oid> links "
					      "of the source's tablespaces are accepted",
					   target ? target : "");
		if (target == NULL || target[0] != '/' || !tablespace_same_location(target, ts->source_location))
			return member_fail(x, "tablespace link to \"%s\" refused: the server reported "
					      "tablespace %u at \"%s\"",
					   target ? target : "", ts->oid, ts->source_location);
		*link_target = ts->target_location;
		return 0;
	}
	return member_fail(x, "%s refused: only files, directories and tablespace links are "
			      "accepted",
			   type == AE_IFCHR ? "character device" : type == AE_IFBLK ? "block device" :
			   type == AE_IFIFO ? "FIFO" : type == AE_IFSOCK ? "socket" : "unknown file type");
}

/* ------------------------------------------------------------------------------------------ */
/* Direct writer: every directory opened from the root, component by component, O_NOFOLLOW */

static void note_dir(struct extract *x, const char *rel)
{
	char *path = path_join(x->o->root, rel);

	full_syncer_dir(x->o->syncer, path);
	free(path);
}

/* A directory the walk made for a member whose directory was not sent first. */
static void walk_created(void *ctx, const char *rel)
{
	struct extract *x = ctx;

	note_dir(x, rel);
	x->st.dirs++;
}

/* The directory that holds REL, opened; *base points at REL's last component. */
static int open_parent(struct extract *x, const char *rel, int *dirfd, const char **base)
{
	const char *slash = strrchr(rel, '/');
	char dir[PATH_MAX];
	struct errbuf werr;
	int errnum;

	*base = slash ? slash + 1 : rel;
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int) (slash - rel) : 0, rel);
	*dirfd = dirwalk_open(&x->walk, dir, &errnum, &werr);
	if (*dirfd < 0)
		return member_fail(x, "%s", werr.msg);
	return 0;
}

static int direct_dir(struct extract *x, const char *rel, mode_t mode)
{
	int pfd, fd;
	const char *base;
	struct stat st;

	if (open_parent(x, rel, &pfd, &base) != 0)
		return -1;
	if (mkdirat(pfd, base, 0700) != 0) {
		if (errno != EEXIST)
			return member_fail_errno(x, errno, "create directory", rel);
		/* pg_wal/archive_status, or a directory made for an earlier member: fine if real */
		if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode))
			return member_fail(x, "\"%s\" exists in %s and is not a directory", rel,
					   x->o->root);
	}
	fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return member_fail_errno(x, errno, "open directory", rel);
	/* The owner keeps full access: PostgreSQL's directories are 0700 or 0750 anyway. */
	if (fchmod(fd, (mode & 0777) | 0700) != 0) {
		int e = errno;

		close(fd);
		return member_fail_errno(x, e, "set the mode of", rel);
	}
	close(fd);
	note_dir(x, rel);
	x->st.dirs++;
	return 0;
}

static int direct_file_begin(struct extract *x, const char *rel, mode_t mode, uint64_t size)
{
	int pfd;
	const char *base;
	struct stat st;

	if (open_parent(x, rel, &pfd, &base) != 0)
		return -1;
	for (int attempt = 0;; attempt++) {
		x->fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (x->fd >= 0)
			break;
		if (errno != EEXIST || attempt > 0)
			return member_fail_errno(x, errno, "create", rel);
		/* A leftover regular file is replaced; anything else (a link, a directory) is not. */
		if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) != 0)
			return member_fail_errno(x, errno, "stat", rel);
		if (!S_ISREG(st.st_mode))
			return member_fail(x, "\"%s\" exists in %s and is %s: refusing to replace or "
					      "follow it", rel, x->o->root,
					   S_ISLNK(st.st_mode) ? "a symbolic link" : "not a regular file");
		if (unlinkat(pfd, base, 0) != 0)
			return member_fail_errno(x, errno, "replace", rel);
	}
	/* The owner keeps read and write access: the server must be able to use its files. */
	if (fchmod(x->fd, (mode & 0777) | 0600) != 0) {
		int e = errno;

		close(x->fd);
		x->fd = -1;
		return member_fail_errno(x, e, "set the mode of", rel);
	}
	x->fpath = path_join(x->o->root, rel);
	x->fsize = size;
	x->fend = 0;
	x->wb_start = 0;
	return 0;
}

static int direct_file_data(struct extract *x, const void *buf, size_t len, int64_t offset)
{
	const char *p = buf;
	uint64_t off = (uint64_t) offset;

	while (len > 0) {
		ssize_t n = pwrite(x->fd, p, len, (off_t) off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			errbuf_set_errno(x->err, errno, "cannot write \"%s\"", x->fpath);
			return member_error(x);
		}
		p += n;
		len -= (size_t) n;
		off += (uint64_t) n;
	}
	if (off > x->fend)
		x->fend = off;
	if (x->fend - x->wb_start >= WRITEBACK_CHUNK) {
		full_writeback(x->fd, (off_t) x->wb_start, (off_t) (x->fend - x->wb_start));
		x->wb_start = x->fend;
	}
	return 0;
}

static int direct_file_end(struct extract *x)
{
	int fd = x->fd;
	int rc = 0;

	x->fd = -1;
	/* A sparse member leaves a hole at its end: give the file its size. */
	if (x->fend < x->fsize && ftruncate(fd, (off_t) x->fsize) != 0) {
		errbuf_set_errno(x->err, errno, "cannot extend \"%s\"", x->fpath);
		close(fd);
		rc = member_error(x);
	} else {
		full_writeback(fd, (off_t) x->wb_start, (off_t) (x->fend - x->wb_start));
		if (full_syncer_file(x->o->syncer, fd, x->fpath, x->err) != 0)
			rc = -1;
	}
	free(x->fpath);
	x->fpath = NULL;
	return rc;
}

static int direct_link(struct extract *x, const char *rel, const char *target)
{
	int pfd;
	const char *base;

	if (open_parent(x, rel, &pfd, &base) != 0)
		return -1;
	if (symlinkat(target, pfd, base) != 0) {
		/* full_tablespace_prepare made the same link before the tablespace's data came. */
		char dest[4096];
		int saved = errno;
		ssize_t n = saved == EEXIST ? readlinkat(pfd, base, dest, sizeof(dest) - 1) : -1;

		if (n > 0 && (size_t) n == strlen(target) && memcmp(dest, target, (size_t) n) == 0)
			return 0;
		return member_fail_errno(x, saved, "create symbolic link", rel);
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* ------------------------------------------------------------------------------------------ */
/* Reading */

struct reader {
	full_read_fn read;
	void *ctx;
	struct errbuf err;
	bool failed;
};

static la_ssize_t la_read(struct archive *a, void *data, const void **buf)
{
	struct reader *rd = data;
	ssize_t n = rd->read(rd->ctx, buf, &rd->err);

	if (n < 0) {
		rd->failed = true;
		archive_set_error(a, EIO, "%s", rd->err.msg);
		return -1;
	}
	return n;
}

static int copy_data(struct extract *x, struct archive *a, struct reader *rd)
{
	for (;;) {
		const void *buf;
		size_t len;
		la_int64_t off;
		int rc = archive_read_data_block(a, &buf, &len, &off);

		if (rc == ARCHIVE_EOF)
			return 0;
		if (rc != ARCHIVE_OK) {
			if (rd->failed)
				errbuf_set(x->err, "%s", rd->err.msg);
			else
				errbuf_set(x->err, "cannot read: %s", archive_error_string(a));
			return member_error(x);
		}
		if (len == 0)
			continue;
		if (direct_file_data(x, buf, len, off) != 0) {
			return -1;
		}
		x->st.file_bytes += len;
	}
}

static int one_member(struct extract *x, struct archive *a, struct reader *rd,
		      struct archive_entry *e)
{
	char rel[PATH_MAX];
	const char *name = archive_entry_pathname(e);
	const char *link_target;
	mode_t type = archive_entry_filetype(e);
	/* The owner always keeps access (PostgreSQL's own modes are 0600/0640 and 0700/0750). */
	mode_t mode = (archive_entry_perm(e) & 0777) | (type == AE_IFDIR ? 0700 : 0600);
	enum action act;
	int rc;

	snprintf(x->member, sizeof(x->member), "%s", name ? name : "(no name)");
	if (full_normalize_member(name, rel, sizeof(rel), x->err) != 0)
		return member_error(x);
	if (policy(x, e, rel, &act, &link_target) != 0)
		return -1;
	if (act == ACT_SKIP) {
		x->st.skipped++;
		return 0; /* libarchive skips the data on the next header */
	}
	if (type == AE_IFDIR) {
		rc = direct_dir(x, rel, mode);
	} else if (type == AE_IFLNK) {
		rc = direct_link(x, rel, link_target);
	} else {
		int64_t size = archive_entry_size(e);

		if (direct_file_begin(x, rel, mode, size > 0 ? (uint64_t) size : 0) != 0)
			return -1;
		rc = copy_data(x, a, rd);
		if (rc != 0) {
			close(x->fd);
			x->fd = -1;
			free(x->fpath);
			x->fpath = NULL;
			return -1;
		}
		rc = direct_file_end(x);
	}
	if (rc != 0)
		return -1;
	/* The new name must be durable too: its directory is synced at the end. */
	{
		const char *slash = strrchr(rel, '/');

		if (slash) {
			char parent[PATH_MAX];

			memcpy(parent, rel, (size_t) (slash - rel));
			parent[slash - rel] = '\0';
			note_dir(x, parent);
		}
	}
	if (type == AE_IFLNK) {
		x->links = xrealloc(x->links, (x->nlinks + 1) * sizeof(*x->links));
		x->links[x->nlinks++] = xstrdup(rel);
		x->st.links++;
		say(x, LOG_INFO, "tablespace link %s -> %s", rel, link_target);
	} else if (type == AE_IFREG) {
		x->st.files++;
	}
	return 0;
}

/* The relative log directory whose contents a mirror does not take, or NULL. */
static char *log_rel(const char *log_directory)
{
	char buf[PATH_MAX];
	struct errbuf ignored;

	if (log_directory == NULL || log_directory[0] == '\0' || log_directory[0] == '/')
		return NULL;
	if (full_normalize_member(log_directory, buf, sizeof(buf), &ignored) != 0)
		return NULL; /* e.g. "../logs": outside the data directory, not in the archive */
	return xstrdup(buf);
}

static int drain(struct extract *x, struct reader *rd)
{
	for (;;) {
		const void *buf;
		ssize_t n = rd->read(rd->ctx, &buf, &rd->err);

		if (n < 0)
			return errbuf_set(x->err, "archive %s: %s", x->o->archive, rd->err.msg);
		if (n == 0)
			return 0;
		/* A compressed stream ends with its frame's trailer, not with zero bytes. */
		if (x->o->compression != NULL)
			continue;
		for (ssize_t i = 0; i < n; i++)
			if (((const unsigned char *) buf)[i] != 0)
				return errbuf_set(x->err, "archive %s: unexpected data after the end of "
							  "the archive", x->o->archive);
	}
}

/*
 * The decompressor of a compressed archive: libarchive's own (ARCHIVE_OK). ARCHIVE_WARN means
 * it would run an external program instead, which we never do.
 */
static int add_filter(struct archive *a, const struct full_extract_opts *o, struct errbuf *err)
{
	int rc;

	if (o->compression == NULL)
		return 0;
	if (strcmp(o->compression, "lz4") == 0)
		rc = archive_read_support_filter_lz4(a);
	else if (strcmp(o->compression, "zstd") == 0)
		rc = archive_read_support_filter_zstd(a);
	else
		return errbuf_set(err, "archive %s: unknown compression \"%s\"", o->archive,
				  o->compression);
	if (rc != ARCHIVE_OK)
		return errbuf_set(err, "archive %s: this libarchive cannot decompress %s itself (%s): "
				       "run the recovery without compression (--compress none)",
				  o->archive, o->compression, archive_error_string(a));
	return 0;
}

int full_extract(const struct full_extract_opts *o, full_read_fn read, void *read_ctx,
		 struct full_extract_stats *st, struct errbuf *err)
{
	struct extract x = {
		.o = o, .err = err, .rootfd = -1, .fd = -1,
	};
	struct reader rd = { .read = read, .ctx = read_ctx };
	struct archive *a;
	struct archive_entry *e;
	int64_t members_end = 0;
	int rc = -1, r;

	x.member[0] = '\0';
	x.log_rel = o->main_archive ? log_rel(o->log_directory) : NULL;
	x.rootfd = open(o->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (x.rootfd < 0) {
		errbuf_set_errno(err, errno, "archive %s: cannot open directory \"%s\"", o->archive,
				 o->root);
		free(x.log_rel);
		return -1;
	}
	full_syncer_dir(o->syncer, o->root);
	/* No link is followed: the only ones a backup has are tablespace links, never entered. */
	dirwalk_init(&x.walk, x.rootfd, o->root, O_RDONLY);
	x.walk.created = walk_created;
	x.walk.ctx = &x;

	a = archive_read_new();
	archive_read_support_format_tar(a);
	if (add_filter(a, o, err) != 0)
		goto out;
	if (archive_read_open(a, &rd, NULL, la_read, NULL) != ARCHIVE_OK) {
		if (rd.failed)
			errbuf_set(err, "archive %s: %s", o->archive, rd.err.msg);
		else
			errbuf_set(err, "archive %s is not a tar archive: %s", o->archive,
				   archive_error_string(a));
		goto out;
	}
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		int64_t size = archive_entry_size(e);

		if (r == ARCHIVE_WARN)
			say(&x, LOG_WARNING, "archive %s: %s", o->archive, archive_error_string(a));
		/* Where this member ends: its header, its data padded to whole blocks. */
		members_end = archive_read_header_position(a) + 512 +
			      (archive_entry_filetype(e) == AE_IFREG && size > 0 ? (size + 511) / 512 * 512 : 0);
		if (one_member(&x, a, &rd, e) != 0)
			goto out;
	}
	if (r != ARCHIVE_EOF) {
		if (rd.failed)
			errbuf_set(err, "archive %s: %s", o->archive, rd.err.msg);
		else
			errbuf_set(err, "archive %s: cannot read the next member (after \"%s\"): %s",
				   o->archive, x.member[0] ? x.member : "the start",
				   archive_error_string(a));
		goto out;
	}
	/*
	 * libarchive also takes a stream that simply stops after a member for a whole archive.
	 * PostgreSQL always ends one with zero blocks: if none was read, the archive was cut short.
	 */
	if (archive_filter_bytes(a, 0) < members_end + 512) {
		errbuf_set(err, "archive %s ends after member \"%s\" without the end-of-archive "
				"blocks: the stream was cut short",
			   o->archive, x.member[0] ? x.member : "(none)");
		goto out;
	}
	if (drain(&x, &rd) != 0)
		goto out;
	rc = 0;
out:
	archive_read_free(a);
	if (x.fd >= 0)
		close(x.fd);
	free(x.fpath);
	dirwalk_forget(&x.walk);
	close(x.rootfd);
	if (x.log_skipped > 0)
		say(&x, LOG_INFO, "archive %s: %lu files of the source's log directory %s not copied",
		    o->archive, x.log_skipped, x.log_rel);
	free(x.log_rel);
	for (size_t i = 0; i < x.nlinks; i++)
		free(x.links[i]);
	free(x.links);
	if (st) {
		st->files += x.st.files;
		st->dirs += x.st.dirs;
		st->links += x.st.links;
		st->skipped += x.st.skipped;
		st->file_bytes += x.st.file_bytes;
	}
	return rc;
}
