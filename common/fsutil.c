#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "strbuf.h"
#include "xalloc.h"

char *path_join(const char *a, const char *b)
{
	size_t la = strlen(a);

	while (la > 1 && a[la - 1] == '/')
		la--;
	while (*b == '/')
		b++;
	return xasprintf("%.*s/%s", (int) la, a, b);
}

int fsync_fd(int fd, bool is_dir, const char *path, struct errbuf *err)
{
	if (fsync(fd) != 0 && !(is_dir && (errno == EBADF || errno == EINVAL)))
		return errbuf_set_errno(err, errno, "cannot fsync %s\"%s\"", is_dir ? "directory " : "",
					path);
	return 0;
}

int fsync_path(const char *path, bool is_dir, struct errbuf *err)
{
	int fd = open(path, (is_dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return errbuf_set_errno(err, errno, "cannot open \"%s\" to fsync it", path);
	rc = fsync_fd(fd, is_dir, path, err);
	close(fd);
	return rc;
}

int fsync_parent(const char *path, struct errbuf *err)
{
	char *copy = xstrdup(path);
	char *slash = strrchr(copy, '/');
	int rc;

	if (slash == copy)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		strcpy(copy, ".");
	rc = fsync_path(copy, true, err);
	free(copy);
	return rc;
}

typedef int (*tree_visit)(const char *path, bool is_dir, struct errbuf *err);

/*
 * Depth-first walk; directories are visited after their contents. pg_links: enter pg_wal and
 * tablespace links as PostgreSQL's fsync_pgdata does (for syncing); otherwise links and other
 * special files are visited as entries themselves (for removal).
 */
static int walk_tree(const char *path, bool follow_link, bool pg_links, int depth,
		     tree_visit visit, struct errbuf *err)
{
	struct stat st;
	DIR *dir;
	struct dirent *de;
	int rc = 0;

	if ((follow_link ? stat(path, &st) : lstat(path, &st)) != 0) {
		if (errno == ENOENT)
			return 0; /* vanished while we walked: nothing to sync */
		return errbuf_set_errno(err, errno, "cannot stat \"%s\"", path);
	}
	if (S_ISREG(st.st_mode))
		return visit(path, false, err);
	if (!S_ISDIR(st.st_mode))
		return pg_links ? 0 : visit(path, false, err);
	dir = opendir(path);
	if (dir == NULL)
		return errbuf_set_errno(err, errno, "cannot open directory \"%s\"", path);
	while (rc == 0 && (de = readdir(dir)) != NULL) {
		char *child;
		bool enter_link;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		child = path_join(path, de->d_name);
		/* pg_wal and tablespace links point at data that is part of the cluster */
		enter_link = pg_links && ((depth == 0 && strcmp(de->d_name, "pg_wal") == 0) ||
					  (depth == 1 && strstr(path, "pg_tblspc") != NULL));
		rc = walk_tree(child, enter_link, pg_links, depth + 1, visit, err);
		free(child);
	}
	closedir(dir);
	if (rc == 0)
		rc = visit(path, true, err);
	return rc;
}

static int start_writeback(const char *path, bool is_dir, struct errbuf *err)
{
	int fd;

	(void) err;
	if (is_dir)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0; /* the fsync pass reports real problems */
	sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	close(fd);
	return 0;
}

static int sync_one(const char *path, bool is_dir, struct errbuf *err)
{
	return fsync_path(path, is_dir, err);
}

int fsync_tree(const char *root, struct errbuf *err)
{
	if (walk_tree(root, true, true, 0, start_writeback, err) != 0)
		return -1;
	return walk_tree(root, true, true, 0, sync_one, err);
}

int mkdir_p(const char *path, mode_t mode, struct errbuf *err)
{
	char *copy = xstrdup(path);
	size_t len = strlen(copy);
	int rc = 0;

	for (size_t i = 1; i <= len && rc == 0; i++) {
		if (copy[i] != '/' && copy[i] != '\0')
			continue;
		copy[i] = '\0';
		if (mkdir(copy, mode) != 0 && errno != EEXIST)
			rc = errbuf_set_errno(err, errno, "cannot create directory \"%s\"", copy);
		else if (errno == EEXIST) {
			struct stat st;

			if (stat(copy, &st) == 0 && !S_ISDIR(st.st_mode))
				rc = errbuf_set(err, "\"%s\" exists and is not a directory", copy);
		}
		if (i < len)
			copy[i] = '/';
	}
	free(copy);
	return rc;
}

static int remove_one(const char *path, bool is_dir, struct errbuf *err)
{
	if ((is_dir ? rmdir(path) : unlink(path)) != 0 && errno != ENOENT)
		return errbuf_set_errno(err, errno, "cannot remove \"%s\"", path);
	return 0;
}

static int remove_entry(const char *path, struct errbuf *err)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : errbuf_set_errno(err, errno, "cannot stat \"%s\"", path);
	if (!S_ISDIR(st.st_mode))
		return remove_one(path, false, err);
	return walk_tree(path, false, false, 0, remove_one, err);
}

int remove_tree(const char *path, struct errbuf *err)
{
	return remove_entry(path, err);
}

int empty_directory(const char *dirpath, const char *const *keep, struct errbuf *err)
{
	return empty_directory_each(dirpath, keep, NULL, NULL, err);
}

int empty_directory_each(const char *dirpath, const char *const *keep,
			 void (*removed)(void *ctx, size_t count), void *ctx, struct errbuf *err)
{
	size_t count = 0;
	DIR *dir = opendir(dirpath);
	struct dirent *de;
	int rc = 0;

	if (dir == NULL)
		return errbuf_set_errno(err, errno, "cannot open directory \"%s\"", dirpath);
	while (rc == 0 && (de = readdir(dir)) != NULL) {
		bool kept = false;
		char *child;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		for (size_t i = 0; keep && keep[i]; i++)
			if (strcmp(keep[i], de->d_name) == 0)
				kept = true;
		if (kept)
			continue;
		child = path_join(dirpath, de->d_name);
		rc = remove_entry(child, err);
		free(child);
		if (rc == 0 && removed)
			removed(ctx, ++count);
	}
	closedir(dir);
	return rc;
}

bool path_is_safe_relative(const char *path)
{
	const char *p = path;

	if (path == NULL || path[0] == '\0' || path[0] == '/')
		return false;
	while (*p) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t) (end - p) : strlen(p);

		if (len == 2 && p[0] == '.' && p[1] == '.')
			return false;
		if (!end)
			break;
		p = end + 1;
	}
	return true;
}

bool path_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

bool dir_is_empty(const char *path)
{
	DIR *dir = opendir(path);
	struct dirent *de;
	bool empty = true;

	if (dir == NULL)
		return false;
	while ((de = readdir(dir)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
			empty = false;
			break;
		}
	closedir(dir);
	return empty;
}

bool is_pg_datadir(const char *path)
{
	char *version = path_join(path, "PG_VERSION");
	char *global = path_join(path, "global");
	struct stat st1, st2;
	bool yes = stat(version, &st1) == 0 && S_ISREG(st1.st_mode) && stat(global, &st2) == 0 &&
		   S_ISDIR(st2.st_mode);

	free(version);
	free(global);
	return yes;
}

/* Lexical: PATH is absolute and has no empty, "." or ".." component (nor a trailing slash). */
bool path_is_normal_absolute(const char *path)
{
	const char *p = path;

	if (path == NULL || path[0] != '/')
		return false;
	if (path[1] == '\0')
		return true;
	while (*p == '/') {
		const char *seg = p + 1, *end = strchr(seg, '/');
		size_t len = end ? (size_t) (end - seg) : strlen(seg);

		if (len == 0 || (len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
			return false;
		p = seg + len;
	}
	return true;
}

char *path_resolve(const char *path, struct errbuf *err)
{
	char *copy, *real = NULL, *out;
	size_t cut;

	if (!path_is_normal_absolute(path)) {
		errbuf_set(err, "\"%s\" is not a normalized absolute path", path);
		return NULL;
	}
	copy = xstrdup(path);
	cut = strlen(copy);
	/* The deepest part that exists is resolved by the kernel; the rest is appended as it is. */
	for (;;) {
		char saved = copy[cut];

		copy[cut] = '\0';
		real = realpath(cut == 0 ? "/" : copy, NULL);
		copy[cut] = saved;
		if (real != NULL)
			break;
		if (errno != ENOENT && errno != ENOTDIR) {
			errbuf_set_errno(err, errno, "cannot resolve \"%s\"", path);
			free(copy);
			return NULL;
		}
		while (cut > 0 && copy[--cut] != '/')
			;
	}
	if (copy[cut] == '\0')
		out = real;
	else {
		out = strcmp(real, "/") == 0 ? xstrdup(copy + cut) : xasprintf("%s%s", real, copy + cut);
		free(real);
	}
	free(copy);
	return out;
}

enum path_relation path_relation(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	while (la > 1 && a[la - 1] == '/')
		la--;
	while (lb > 1 && b[lb - 1] == '/')
		lb--;
	if (la == lb && strncmp(a, b, la) == 0)
		return PATH_SAME;
	/* "/" contains everything; otherwise a prefix must end at a component boundary. */
	if (la < lb && strncmp(a, b, la) == 0 && (b[la] == '/' || (la == 1 && a[0] == '/')))
		return PATH_CONTAINS;
	if (lb < la && strncmp(a, b, lb) == 0 && (a[lb] == '/' || (lb == 1 && b[0] == '/')))
		return PATH_INSIDE;
	return PATH_UNRELATED;
}

int write_file_durable(const char *path, const void *data, size_t len, mode_t mode,
		       struct errbuf *err)
{
	char *tmp = xasprintf("%s.segrecover.tmp", path);
	const char *p = data;
	size_t done = 0;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	if (fd < 0) {
		errbuf_set_errno(err, errno, "cannot create \"%s\"", tmp);
		free(tmp);
		return -1;
	}
	while (done < len) {
		ssize_t n = write(fd, p + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			errbuf_set_errno(err, errno, "cannot write \"%s\"", tmp);
			goto fail;
		}
		done += (size_t) n;
	}
	if (fchmod(fd, mode) != 0) {
		errbuf_set_errno(err, errno, "cannot set the mode of \"%s\"", tmp);
		goto fail;
	}
	if (fsync_fd(fd, false, tmp, err) != 0)
		goto fail;
	close(fd);
	fd = -1;
	if (rename(tmp, path) != 0) {
		errbuf_set_errno(err, errno, "cannot rename \"%s\" to \"%s\"", tmp, path);
		goto fail;
	}
	free(tmp);
	return fsync_parent(path, err);
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	return -1;
}

int read_small_file(const char *path, char **data, size_t *len, struct errbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[8192];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*data = NULL;
	*len = 0;
	if (fd < 0)
		return errbuf_set_errno(err, errno, "cannot open \"%s\"", path);
	strbuf_init(&sb, 0);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			errbuf_set_errno(err, errno, "cannot read \"%s\"", path);
			close(fd);
			strbuf_release(&sb);
			return -1;
		}
		if (n == 0)
			break;
		strbuf_add(&sb, buf, (size_t) n);
	}
	close(fd);
	*data = strbuf_detach(&sb, len);
	return 0;
}
