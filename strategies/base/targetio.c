#include "base/targetio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/dirwalk.h"
#include "fsutil.h"
#include "strbuf.h"
#include "xalloc.h"

#define FD_CACHE_SIZE 16
#define WRITEBACK_BYTES (1024u * 1024u) /* start writeback once this much is pending on a file */
#define FILE_MODE 0600
#define DIR_MODE 0700

/* ------------------------------------------------------------------------------------------ */
/* A set of relative paths (open addressing, linear probing, tombstones for removal) */

static char strset_tombstone;
#define TOMBSTONE (&strset_tombstone)

struct strset {
	char **slots;
	size_t nslots; /* 0 or a power of two */
	size_t used;   /* live keys + tombstones */
	size_t live;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++) {
		h ^= (unsigned char) *s;
		h *= 1099511628211ull;
	}
	return h ^ (h >> 29);
}

/* The slot holding KEY, or (when absent) the first free or tombstone slot of its probe run. */
static size_t strset_find(const struct strset *s, const char *key, bool *found)
{
	size_t mask = s->nslots - 1, i = (size_t) hash_str(key) & mask, reuse = SIZE_MAX;

	for (;; i = (i + 1) & mask) {
		char *k = s->slots[i];

		if (k == NULL) {
			*found = false;
			return reuse != SIZE_MAX ? reuse : i;
		}
		if (k == TOMBSTONE) {
			if (reuse == SIZE_MAX)
				reuse = i;
		} else if (strcmp(k, key) == 0) {
			*found = true;
			return i;
		}
	}
}

static bool strset_contains(const struct strset *s, const char *key)
{
	bool found = false;

	if (s->nslots > 0)
		strset_find(s, key, &found);
	return found;
}

static void strset_rehash(struct strset *s, size_t nslots)
{
	char **old = s->slots;
	size_t oldn = s->nslots;

	s->slots = xcalloc(nslots, sizeof(*s->slots));
	s->nslots = nslots;
	s->used = s->live;
	for (size_t i = 0; i < oldn; i++) {
		bool found;

		if (old[i] != NULL && old[i] != TOMBSTONE)
			s->slots[strset_find(s, old[i], &found)] = old[i];
	}
	free(old);
}

static void strset_add(struct strset *s, const char *key)
{
	bool found;
	size_t i;

	if (s->nslots == 0 || (s->used + 1) * 2 > s->nslots)
		strset_rehash(s, s->nslots == 0 ? 256 : (s->live + 1) * 4 > s->nslots ? s->nslots * 2
										       : s->nslots);
	i = strset_find(s, key, &found);
	if (found)
		return;
	if (s->slots[i] == NULL)
		s->used++;
	s->slots[i] = xstrdup(key);
	s->live++;
}

static void strset_remove(struct strset *s, const char *key)
{
	bool found;
	size_t i;

	if (s->nslots == 0)
		return;
	i = strset_find(s, key, &found);
	if (!found)
		return;
	free(s->slots[i]);
	s->slots[i] = TOMBSTONE;
	s->live--;
}

static void strset_clear(struct strset *s)
{
	for (size_t i = 0; i < s->nslots; i++)
		if (s->slots[i] != NULL && s->slots[i] != TOMBSTONE)
			free(s->slots[i]);
	free(s->slots);
	memset(s, 0, sizeof(*s));
}

/* ------------------------------------------------------------------------------------------ */

struct fd_slot {
	char *path; /* NULL: free */
	int fd;
	uint64_t last_use;
	uint64_t wb_lo, wb_hi, wb_pending; /* written since writeback was last started */
};

struct targetio {
	char *datadir;
	int rootfd; /* O_PATH; -1 until first use */
	struct dirwalk walk; /* directories beneath the root, O_PATH, links only where PostgreSQL has them */
	struct fd_slot cache[FD_CACHE_SIZE];
	uint64_t clock;
	struct strset files; /* written or truncated: fsync */
	struct strset dirs;  /* entries created or removed inside: fsync */
	uint64_t written;
	void (*on_write)(void *arg, uint64_t written);
	void *arg;
};

static bool link_allowed(size_t index, const char *first)
{
	if (index == 0)
		return strcmp(first, "pg_wal") == 0;
	return index == 1 && strcmp(first, "pg_tblspc") == 0;
}

struct targetio *targetio_create(const char *datadir, void (*on_write)(void *arg, uint64_t written),
				 void *arg)
{
	struct targetio *tio = xcalloc(1, sizeof(*tio));

	tio->datadir = xstrdup(datadir);
	tio->rootfd = -1;
	dirwalk_init(&tio->walk, -1, tio->datadir, O_PATH);
	tio->walk.link_allowed = link_allowed;
	tio->walk.links_hint = "only pg_wal and pg_tblspc/<oid> may be links";
	for (size_t i = 0; i < FD_CACHE_SIZE; i++)
		tio->cache[i].fd = -1;
	tio->on_write = on_write;
	tio->arg = arg;
	return tio;
}

/*
 * Ask the kernel to start writing back what was written since the last call, so that the final
 * fsync mostly waits for I/O already in flight. Only for a mostly contiguous range: for blocks
 * scattered over a large file the call would walk the whole span, costing more than it saves
 * (the fsync at the end covers them).
 */
static void start_writeback(struct fd_slot *s)
{
	if (s->wb_pending > 0 && s->wb_hi > s->wb_lo && s->wb_hi - s->wb_lo <= 4 * s->wb_pending)
		(void) sync_file_range(s->fd, (off_t) s->wb_lo, (off_t) (s->wb_hi - s->wb_lo),
				       SYNC_FILE_RANGE_WRITE);
	s->wb_pending = 0;
	s->wb_lo = s->wb_hi = 0;
}

static void slot_close(struct fd_slot *s)
{
	if (s->path == NULL)
		return;
	start_writeback(s);
	close(s->fd);
	free(s->path);
	s->path = NULL;
	s->fd = -1;
}

static void forget_dir_cache(struct targetio *tio)
{
	dirwalk_forget(&tio->walk);
}

void targetio_free(struct targetio *tio)
{
	if (tio == NULL)
		return;
	for (size_t i = 0; i < FD_CACHE_SIZE; i++)
		slot_close(&tio->cache[i]);
	forget_dir_cache(tio);
	if (tio->rootfd >= 0)
		close(tio->rootfd);
	strset_clear(&tio->files);
	strset_clear(&tio->dirs);
	free(tio->datadir);
	free(tio);
}

uint64_t targetio_bytes_written(const struct targetio *tio)
{
	return tio->written;
}

/* ------------------------------------------------------------------------------------------ */
/* Path resolution: no "..", no absolute path, no symbolic link inside the data directory except
 * pg_wal and the tablespace links pg_tblspc/<name>. */

struct relpath {
	char *dir;        /* directory part, "" for the top level */
	const char *name; /* last component (points into buf) */
	char *buf;
};

/* Split and normalize RELPATH ("a//b/./c/" → dir "a/b", name "c"); false if it is unsafe. */
static bool split_path(const char *relpath, struct relpath *rp)
{
	struct strbuf sb = STRBUF_INIT;
	char *copy, *save = NULL, *tok;
	const char *last = NULL;

	rp->dir = rp->buf = NULL;
	if (!path_is_safe_relative(relpath))
		return false;
	copy = xstrdup(relpath);
	strbuf_init(&sb, strlen(relpath));
	for (tok = strtok_r(copy, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (strcmp(tok, ".") == 0)
			continue;
		if (last != NULL) {
			if (sb.len > 0)
				strbuf_addch(&sb, '/');
			strbuf_addstr(&sb, last);
		}
		last = tok;
	}
	if (last == NULL) {
		free(copy);
		strbuf_release(&sb);
		return false;
	}
	rp->buf = copy;
	rp->name = last;
	rp->dir = strbuf_detach(&sb, NULL);
	return true;
}

static void relpath_free(struct relpath *rp)
{
	free(rp->dir);
	free(rp->buf);
	rp->dir = rp->buf = NULL;
}

static int unsafe_path(const struct targetio *tio, const char *relpath, struct errbuf *err)
{
	return errbuf_set(err,
			  "refusing the path \"%s\" in \"%s\": it is empty, absolute or leaves the "
			  "data directory",
			  relpath, tio->datadir);
}

/* May the symbolic link at component INDEX (0-based) of a path starting with FIRST be followed? */

static int open_root(struct targetio *tio, struct errbuf *err)
{
	if (tio->rootfd >= 0)
		return 0;
	tio->rootfd = open(tio->datadir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (tio->rootfd < 0) {
		int e = errno;

		errbuf_set_errno(err, e, "cannot open the data directory \"%s\"", tio->datadir);
		errno = e;
		return -1;
	}
	tio->walk.rootfd = tio->rootfd;
	return 0;
}

/*
 * An O_PATH descriptor of directory DIR ("" = the data directory), borrowed (do not close it).
 * On failure -1, err set and *errnum the cause (ENOENT for a missing component).
 */
static int get_dir(struct targetio *tio, const char *dir, int *errnum, struct errbuf *err)
{
	*errnum = 0;
	if (open_root(tio, err) != 0) {
		*errnum = errno;
		return -1;
	}
	return dirwalk_open(&tio->walk, dir, errnum, err);
}

static void mark_dir(struct targetio *tio, const char *dir)
{
	strset_add(&tio->dirs, dir);
}

/* ------------------------------------------------------------------------------------------ */
/* Open files */

static struct fd_slot *cache_lookup(struct targetio *tio, const char *path)
{
	for (size_t i = 0; i < FD_CACHE_SIZE; i++) {
		struct fd_slot *s = &tio->cache[i];

		if (s->path != NULL && strcmp(s->path, path) == 0) {
			s->last_use = ++tio->clock;
			return s;
		}
	}
	return NULL;
}

static void cache_forget(struct targetio *tio, const char *path)
{
	struct fd_slot *s = cache_lookup(tio, path);

	if (s != NULL)
		slot_close(s);
}

/*
 * Open a file of the target for writing, through the cache. CREATE: make it if missing
 * (recording its directory as changed); TRUNC: cut it to zero.
 */
static struct fd_slot *open_target(struct targetio *tio, const char *relpath, bool create,
				   bool trunc, struct errbuf *err)
{
	struct relpath rp;
	struct fd_slot *s = cache_lookup(tio, relpath), *victim;
	int dfd, fd, errnum;

	if (s != NULL) {
		if (trunc && ftruncate(s->fd, 0) != 0) {
			errbuf_set_errno(err, errno, "cannot truncate \"%s/%s\"", tio->datadir,
					 relpath);
			return NULL;
		}
		return s;
	}
	if (!split_path(relpath, &rp)) {
		unsafe_path(tio, relpath, err);
		return NULL;
	}
	dfd = get_dir(tio, rp.dir, &errnum, err);
	if (dfd < 0) {
		relpath_free(&rp);
		return NULL;
	}
	fd = openat(dfd, rp.name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | (trunc ? O_TRUNC : 0));
	if (fd < 0 && errno == ENOENT && create) {
		fd = openat(dfd, rp.name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    FILE_MODE);
		if (fd >= 0)
			mark_dir(tio, rp.dir);
		else if (errno == EEXIST)
			fd = openat(dfd, rp.name,
				    O_WRONLY | O_NOFOLLOW | O_CLOEXEC | (trunc ? O_TRUNC : 0));
	}
	if (fd < 0) {
		if (errno == ELOOP)
			errbuf_set(err, "refusing to write \"%s/%s\": it is a symbolic link",
				   tio->datadir, relpath);
		else
			errbuf_set_errno(err, errno, "cannot open \"%s/%s\" for writing",
					 tio->datadir, relpath);
		relpath_free(&rp);
		return NULL;
	}
	relpath_free(&rp);
	victim = &tio->cache[0];
	for (size_t i = 0; i < FD_CACHE_SIZE; i++) {
		if (tio->cache[i].path == NULL) {
			victim = &tio->cache[i];
			break;
		}
		if (tio->cache[i].last_use < victim->last_use)
			victim = &tio->cache[i];
	}
	slot_close(victim);
	victim->path = xstrdup(relpath);
	victim->fd = fd;
	victim->last_use = ++tio->clock;
	victim->wb_lo = victim->wb_hi = victim->wb_pending = 0;
	strset_add(&tio->files, relpath);
	return victim;
}

int targetio_write(struct targetio *tio, const char *relpath, uint64_t off, const void *data,
		   size_t len, struct errbuf *err)
{
	struct fd_slot *s = open_target(tio, relpath, true, false, err);
	const char *p = data;
	size_t done = 0;

	if (s == NULL)
		return -1;
	while (done < len) {
		ssize_t n = pwrite(s->fd, p + done, len - done, (off_t) (off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return errbuf_set_errno(err, n < 0 ? errno : ENOSPC,
						"cannot write %zu bytes at offset %llu of \"%s/%s\"",
						len, (unsigned long long) off, tio->datadir, relpath);
		done += (size_t) n;
	}
	if (s->wb_pending == 0 || off < s->wb_lo)
		s->wb_lo = off;
	if (s->wb_pending == 0 || off + len > s->wb_hi)
		s->wb_hi = off + len;
	s->wb_pending += len;
	if (s->wb_pending >= WRITEBACK_BYTES)
		start_writeback(s);
	tio->written += len;
	if (tio->on_write)
		tio->on_write(tio->arg, tio->written);
	return 0;
}

int targetio_truncate_whole(struct targetio *tio, const char *relpath, struct errbuf *err)
{
	struct fd_slot *s = open_target(tio, relpath, true, true, err);

	if (s == NULL)
		return -1;
	s->wb_lo = s->wb_hi = s->wb_pending = 0;
	return 0;
}

int targetio_truncate(struct targetio *tio, const char *relpath, uint64_t size, struct errbuf *err)
{
	struct fd_slot *s = open_target(tio, relpath, false, false, err);

	if (s == NULL)
		return -1;
	if (ftruncate(s->fd, (off_t) size) != 0)
		return errbuf_set_errno(err, errno, "cannot truncate \"%s/%s\" to %llu bytes",
					tio->datadir, relpath, (unsigned long long) size);
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Directory entries */

int targetio_remove(struct targetio *tio, const char *relpath, enum file_type type,
		    struct errbuf *err)
{
	struct relpath rp;
	int dfd, errnum, rc;
	bool is_dir = type == FILE_TYPE_DIRECTORY;

	if (!split_path(relpath, &rp))
		return unsafe_path(tio, relpath, err);
	cache_forget(tio, relpath);
	dfd = get_dir(tio, rp.dir, &errnum, err);
	if (dfd < 0) {
		relpath_free(&rp);
		return errnum == ENOENT ? 0 : -1; /* the parent is gone: so is the entry */
	}
	rc = unlinkat(dfd, rp.name, is_dir ? AT_REMOVEDIR : 0);
	/* The list may be stale about the type: try the other kind of removal. */
	if (rc != 0 && ((is_dir && errno == ENOTDIR) || (!is_dir && (errno == EISDIR || errno == EPERM)))) {
		struct stat st;

		if (fstatat(dfd, rp.name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			is_dir = S_ISDIR(st.st_mode);
			rc = unlinkat(dfd, rp.name, is_dir ? AT_REMOVEDIR : 0);
		}
	}
	if (rc != 0 && errno != ENOENT) {
		errbuf_set_errno(err, errno, "cannot remove \"%s/%s\"", tio->datadir, relpath);
		relpath_free(&rp);
		return -1;
	}
	if (rc == 0) {
		char *norm = rp.dir[0] ? xasprintf("%s/%s", rp.dir, rp.name) : xstrdup(rp.name);

		strset_remove(&tio->files, norm);
		strset_remove(&tio->files, relpath);
		strset_remove(&tio->dirs, norm);
		mark_dir(tio, rp.dir);
		free(norm);
		/* The cached directory may have been this one, or lie below it. */
		forget_dir_cache(tio);
	}
	relpath_free(&rp);
	return 0;
}

int targetio_mkdir(struct targetio *tio, const char *relpath, struct errbuf *err)
{
	struct relpath rp;
	int dfd, errnum;

	if (!split_path(relpath, &rp))
		return unsafe_path(tio, relpath, err);
	dfd = get_dir(tio, rp.dir, &errnum, err);
	if (dfd < 0) {
		relpath_free(&rp);
		return -1;
	}
	if (mkdirat(dfd, rp.name, DIR_MODE) != 0) {
		struct stat st;
		int e = errno;

		if (e != EEXIST || fstatat(dfd, rp.name, &st, 0) != 0 || !S_ISDIR(st.st_mode)) {
			errbuf_set_errno(err, e, "cannot create directory \"%s/%s\"", tio->datadir,
					 relpath);
			relpath_free(&rp);
			return -1;
		}
	} else {
		char *norm = rp.dir[0] ? xasprintf("%s/%s", rp.dir, rp.name) : xstrdup(rp.name);

		mark_dir(tio, rp.dir);
		mark_dir(tio, norm);
		free(norm);
	}
	relpath_free(&rp);
	return 0;
}

int targetio_symlink(struct targetio *tio, const char *relpath, const char *link_target,
		     struct errbuf *err)
{
	struct relpath rp;
	int dfd, errnum;
	bool allowed;

	if (!split_path(relpath, &rp))
		return unsafe_path(tio, relpath, err);
	allowed = (strcmp(rp.dir, "") == 0 && strcmp(rp.name, "pg_wal") == 0) ||
		  strcmp(rp.dir, "pg_tblspc") == 0;
	if (!allowed) {
		relpath_free(&rp);
		return errbuf_set(err,
				  "refusing to create the symbolic link \"%s/%s\": only pg_wal and "
				  "pg_tblspc/<oid> may be links",
				  tio->datadir, relpath);
	}
	if (link_target == NULL || link_target[0] == '\0') {
		relpath_free(&rp);
		return errbuf_set(err, "cannot create the symbolic link \"%s/%s\": no link target",
				  tio->datadir, relpath);
	}
	dfd = get_dir(tio, rp.dir, &errnum, err);
	if (dfd < 0) {
		relpath_free(&rp);
		return -1;
	}
	if (symlinkat(link_target, dfd, rp.name) != 0) {
		char buf[PATH_MAX];
		ssize_t n;
		int e = errno;

		if (e != EEXIST ||
		    (n = readlinkat(dfd, rp.name, buf, sizeof(buf) - 1)) < 0 ||
		    ((void) (buf[n] = '\0'), strcmp(buf, link_target) != 0)) {
			errbuf_set_errno(err, e, "cannot create the symbolic link \"%s/%s\" to \"%s\"",
					 tio->datadir, relpath, link_target);
			relpath_free(&rp);
			return -1;
		}
	} else {
		mark_dir(tio, rp.dir);
	}
	relpath_free(&rp);
	return 0;
}

int targetio_write_file(struct targetio *tio, const char *relpath, const void *data, size_t len,
			struct errbuf *err)
{
	struct relpath rp;
	char *tmp;
	const char *p = data;
	size_t done = 0;
	int dfd, fd, dirfd, errnum;

	if (!split_path(relpath, &rp))
		return unsafe_path(tio, relpath, err);
	cache_forget(tio, relpath);
	dfd = get_dir(tio, rp.dir, &errnum, err);
	if (dfd < 0) {
		relpath_free(&rp);
		return -1;
	}
	tmp = xasprintf("%s.segrecover.tmp", rp.name);
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, FILE_MODE);
	if (fd < 0) {
		errbuf_set_errno(err, errno, "cannot create \"%s/%s.segrecover.tmp\"", tio->datadir,
				 relpath);
		goto fail;
	}
	while (done < len) {
		ssize_t n = write(fd, p + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			errbuf_set_errno(err, n < 0 ? errno : ENOSPC, "cannot write \"%s/%s.segrecover.tmp\"",
					 tio->datadir, relpath);
			goto fail;
		}
		done += (size_t) n;
	}
	if (fsync_fd(fd, false, rp.name, err) != 0) {
		errbuf_prefix(err, "in \"%s\"", tio->datadir);
		goto fail;
	}
	close(fd);
	fd = -1;
	if (renameat(dfd, tmp, dfd, rp.name) != 0) {
		errbuf_set_errno(err, errno, "cannot rename \"%s/%s.segrecover.tmp\" to \"%s\"",
				 tio->datadir, relpath, rp.name);
		goto fail;
	}
	dirfd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0 || fsync_fd(dirfd, true, rp.dir, err) != 0) {
		if (dirfd < 0)
			errbuf_set_errno(err, errno, "cannot open directory \"%s/%s\"", tio->datadir,
					 rp.dir);
		else
			close(dirfd);
		free(tmp);
		relpath_free(&rp);
		return -1;
	}
	close(dirfd);
	strset_remove(&tio->files, relpath);
	free(tmp);
	relpath_free(&rp);
	tio->written += len;
	if (tio->on_write)
		tio->on_write(tio->arg, tio->written);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlinkat(dfd, tmp, 0);
	free(tmp);
	relpath_free(&rp);
	return -1;
}

/* ------------------------------------------------------------------------------------------ */
/* Durability */

static int fsync_and_close(const struct targetio *tio, int fd, bool is_dir, const char *rel,
			   struct errbuf *err)
{
	int rc = fsync_fd(fd, is_dir, rel, err);

	close(fd);
	return rc != 0 ? errbuf_prefix(err, "in \"%s\"", tio->datadir) : 0;
}

static int sync_file(struct targetio *tio, const char *relpath, struct errbuf *err)
{
	struct fd_slot *s = cache_lookup(tio, relpath);
	struct relpath rp;
	int dfd, fd, errnum;

	if (s != NULL) {
		if (fsync_fd(s->fd, false, relpath, err) != 0)
			return errbuf_prefix(err, "in \"%s\"", tio->datadir);
		s->wb_pending = 0;
		return 0;
	}
	if (!split_path(relpath, &rp))
		return unsafe_path(tio, relpath, err);
	dfd = get_dir(tio, rp.dir, &errnum, err);
	if (dfd < 0) {
		relpath_free(&rp);
		return -1;
	}
	fd = openat(dfd, rp.name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	relpath_free(&rp);
	if (fd < 0)
		return errbuf_set_errno(err, errno, "cannot open \"%s/%s\" to fsync it", tio->datadir,
					relpath);
	return fsync_and_close(tio, fd, false, relpath, err);
}

static int sync_dir(struct targetio *tio, const char *reldir, struct errbuf *err)
{
	int pfd, fd, errnum;

	pfd = get_dir(tio, reldir, &errnum, err);
	if (pfd < 0)
		return errnum == ENOENT ? 0 : -1; /* removed since: its parent is synced */
	fd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errbuf_set_errno(err, errno, "cannot open directory \"%s/%s\" to fsync it",
					tio->datadir, reldir);
	return fsync_and_close(tio, fd, true, reldir, err);
}

int targetio_sync(struct targetio *tio, struct errbuf *err)
{
	/* Start writeback everywhere first, so that the fsync pass mostly waits for I/O in flight. */
	for (size_t i = 0; i < FD_CACHE_SIZE; i++)
		if (tio->cache[i].path != NULL)
			start_writeback(&tio->cache[i]);
	for (size_t i = 0; i < tio->files.nslots; i++) {
		const char *p = tio->files.slots[i];

		if (p != NULL && p != TOMBSTONE && sync_file(tio, p, err) != 0)
			return -1;
	}
	for (size_t i = 0; i < tio->dirs.nslots; i++) {
		const char *p = tio->dirs.slots[i];

		if (p != NULL && p != TOMBSTONE && sync_dir(tio, p, err) != 0)
			return -1;
	}
	strset_clear(&tio->files);
	strset_clear(&tio->dirs);
	return 0;
}

/*
 * Replace TO with FROM, both in one directory: FROM is made durable first (an fsync, so that a
 * crash never leaves TO naming a file whose contents were not written), its directory later.
 */
int targetio_rename(struct targetio *tio, const char *from, const char *to, struct errbuf *err)
{
	struct relpath rf, rt;
	int dfd, errnum, rc = -1;

	if (!split_path(from, &rf))
		return unsafe_path(tio, from, err);
	if (!split_path(to, &rt)) {
		relpath_free(&rf);
		return unsafe_path(tio, to, err);
	}
	if (strcmp(rf.dir, rt.dir) != 0) {
		errbuf_set(err, "cannot rename \"%s\" to \"%s\": not in one directory", from, to);
		goto out;
	}
	if (strset_contains(&tio->files, from)) {
		if (sync_file(tio, from, err) != 0)
			goto out;
		strset_remove(&tio->files, from);
	}
	cache_forget(tio, from);
	cache_forget(tio, to);
	strset_remove(&tio->files, to);
	dfd = get_dir(tio, rf.dir, &errnum, err);
	if (dfd < 0)
		goto out;
	if (renameat(dfd, rf.name, dfd, rt.name) != 0) {
		errbuf_set_errno(err, errno, "cannot rename \"%s/%s\" to \"%s\"", tio->datadir, from,
				 rt.name);
		goto out;
	}
	mark_dir(tio, rf.dir);
	rc = 0;
out:
	relpath_free(&rf);
	relpath_free(&rt);
	return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* The target's file list */

struct lister {
	const char *datadir;
	struct strbuf full; /* datadir/rel */
	size_t root_len;    /* length of "datadir/" in full */
	targetio_file_fn fn;
	void *arg;
};

static int list_dir(struct lister *l, int depth, struct errbuf *err);

/* The entry whose full path is in l->full (relative part from root_len). */
static int list_entry(struct lister *l, int depth, const char *parent_rel, struct errbuf *err)
{
	const char *full = l->full.buf, *rel = full + l->root_len;
	struct stat st;

	if (lstat(full, &st) != 0) {
		if (errno == ENOENT)
			return 0; /* vanished meanwhile */
		return errbuf_set_errno(err, errno, "cannot stat \"%s\"", full);
	}
	if (S_ISREG(st.st_mode)) {
		l->fn(l->arg, rel, FILE_TYPE_REGULAR, (uint64_t) st.st_size, NULL);
		return 0;
	}
	if (S_ISDIR(st.st_mode)) {
		l->fn(l->arg, rel, FILE_TYPE_DIRECTORY, 0, NULL);
		return list_dir(l, depth + 1, err);
	}
	if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlink(full, target, sizeof(target) - 1);
		struct stat tst;

		if (n < 0)
			return errbuf_set_errno(err, errno, "cannot read the symbolic link \"%s\"", full);
		target[n] = '\0';
		if (depth == 0 && strcmp(rel, "pg_wal") == 0) {
			if (stat(full, &tst) != 0 || !S_ISDIR(tst.st_mode))
				return errbuf_set(err,
						  "\"%s\" is a symbolic link to \"%s\", which is not "
						  "a directory",
						  full, target);
			l->fn(l->arg, rel, FILE_TYPE_DIRECTORY, 0, NULL);
			return list_dir(l, depth + 1, err);
		}
		l->fn(l->arg, rel, FILE_TYPE_SYMLINK, 0, target);
		if (depth == 1 && strcmp(parent_rel, "pg_tblspc") == 0) {
			if (stat(full, &tst) != 0 || !S_ISDIR(tst.st_mode))
				return errbuf_set(err,
						  "tablespace link \"%s\" points to \"%s\", which is "
						  "missing or not a directory; recover with a full "
						  "copy (-F)",
						  full, target);
			return list_dir(l, depth + 1, err);
		}
		return 0;
	}
	return 0; /* sockets, fifos, devices: not part of a data directory */
}

static int list_dir(struct lister *l, int depth, struct errbuf *err)
{
	size_t base_len = l->full.len;
	char *rel = xstrdup(l->full.buf + l->root_len);
	DIR *dir = opendir(l->full.buf);
	struct dirent *de;
	int rc = 0;

	if (dir == NULL) {
		rc = errbuf_set_errno(err, errno, "cannot open directory \"%s\"", l->full.buf);
		free(rel);
		return rc;
	}
	while (rc == 0) {
		errno = 0;
		de = readdir(dir);
		if (de == NULL) {
			if (errno != 0)
				rc = errbuf_set_errno(err, errno, "cannot read directory \"%s\"",
						      l->full.buf);
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		l->full.len = base_len;
		l->full.buf[base_len] = '\0';
		if (base_len > l->root_len)
			strbuf_addch(&l->full, '/');
		strbuf_addstr(&l->full, de->d_name);
		rc = list_entry(l, depth, rel, err);
	}
	l->full.len = base_len;
	l->full.buf[base_len] = '\0';
	closedir(dir);
	free(rel);
	return rc;
}

int targetio_list_files(const char *datadir, targetio_file_fn fn, void *arg, struct errbuf *err)
{
	struct lister l = { datadir, STRBUF_INIT, 0, fn, arg };
	int rc;

	strbuf_init(&l.full, 256);
	strbuf_addstr(&l.full, datadir);
	while (l.full.len > 1 && l.full.buf[l.full.len - 1] == '/')
		l.full.buf[--l.full.len] = '\0';
	strbuf_addch(&l.full, '/');
	l.root_len = l.full.len;
	rc = list_dir(&l, 0, err);
	strbuf_release(&l.full);
	return rc;
}
