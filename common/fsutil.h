/* fsutil: durable file operations and the data-directory checks every strategy relies on. */
#ifndef SEGRECOVER_FSUTIL_H
#define SEGRECOVER_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "errbuf.h"

/*
 * fsync FD (PATH names it in messages). As PostgreSQL's fsync_fname_ext: every error counts,
 * except EBADF and EINVAL for a directory (some file systems cannot fsync one).
 */
int fsync_fd(int fd, bool is_dir, const char *path, struct errbuf *err);
int fsync_path(const char *path, bool is_dir, struct errbuf *err);
/* fsync PATH's parent directory, so that a create or rename inside it is durable. */
int fsync_parent(const char *path, struct errbuf *err);
/*
 * fsync every file and directory under ROOT (not following symlinks, except that pg_wal and
 * pg_tblspc/<oid> links are entered, as PostgreSQL's fsync_pgdata does). A first pass asks the
 * kernel to start writeback of everything, so the fsync pass mostly waits for I/O in flight.
 */
int fsync_tree(const char *root, struct errbuf *err);

int mkdir_p(const char *path, mode_t mode, struct errbuf *err);

/* Remove PATH and everything below it, never following symlinks (a link is removed, not its target). */
int remove_tree(const char *path, struct errbuf *err);
/* Remove everything inside DIR except the names in KEEP (NULL-terminated); DIR stays. */
int empty_directory(const char *dir, const char *const *keep, struct errbuf *err);
/* The same, calling REMOVED after each top-level entry it removed (COUNT so far). */
int empty_directory_each(const char *dir, const char *const *keep,
			 void (*removed)(void *ctx, size_t count), void *ctx, struct errbuf *err);

/*
 * True when a relative path from an archive or a remote list can be written under a target:
 * not empty, not absolute, no ".." component.
 */
bool path_is_safe_relative(const char *path);

bool path_exists(const char *path);
bool dir_is_empty(const char *path);
/* A PostgreSQL data directory: has PG_VERSION and global/. */
bool is_pg_datadir(const char *path);

/* Lexical: absolute, no empty, "." or ".." component, no trailing slash ("/" itself is fine). */
bool path_is_normal_absolute(const char *path);

/*
 * PATH (normalized absolute) with every symbolic link resolved: the deepest existing part goes
 * through realpath(), the part that does not exist yet is appended as it is. Malloc'd; NULL
 * with ERR filled when it cannot be resolved.
 */
char *path_resolve(const char *path, struct errbuf *err);

/* How A stands to B, by whole components: the same path, A contains B, A lies inside B. */
enum path_relation { PATH_UNRELATED, PATH_SAME, PATH_CONTAINS, PATH_INSIDE };
enum path_relation path_relation(const char *a, const char *b);

/* Write a whole small file durably: temp file, fsync, rename, fsync directory. */
int write_file_durable(const char *path, const void *data, size_t len, mode_t mode,
		       struct errbuf *err);
/* Read a whole small file (NUL-terminated); *data is malloc'd. */
int read_small_file(const char *path, char **data, size_t *len, struct errbuf *err);

/* Join two path parts with exactly one slash; malloc'd. */
char *path_join(const char *a, const char *b);

#endif
