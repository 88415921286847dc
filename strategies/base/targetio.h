/*
 * targetio: every change to the target data directory goes through here: path checks (no
 * escape from the directory), a small cache of open files, writeback started as data is
 * written, the list of what was touched (fsynced, with directories, by targetio_sync), and the
 * byte count for progress.
 */
#ifndef SEGRECOVER_BASE_TARGETIO_H
#define SEGRECOVER_BASE_TARGETIO_H

#include <stdint.h>
#include <stddef.h>

#include "errbuf.h"

enum file_type { FILE_TYPE_NONE = 0, FILE_TYPE_REGULAR, FILE_TYPE_DIRECTORY, FILE_TYPE_SYMLINK };

struct targetio;

/* on_write (may be NULL) is called after each write with the running byte total. */
struct targetio *targetio_create(const char *datadir, void (*on_write)(void *arg, uint64_t written),
				 void *arg);
void targetio_free(struct targetio *tio);

/* Write LEN bytes at OFF of RELPATH (created 0600 if missing). */
int targetio_write(struct targetio *tio, const char *relpath, uint64_t off, const void *data,
		   size_t len, struct errbuf *err);
/* Create or truncate to zero, before a whole-file copy. */
int targetio_truncate_whole(struct targetio *tio, const char *relpath, struct errbuf *err);
int targetio_truncate(struct targetio *tio, const char *relpath, uint64_t size, struct errbuf *err);
/* Remove a file, symlink or (empty) directory; missing is fine. */
int targetio_remove(struct targetio *tio, const char *relpath, enum file_type type,
		    struct errbuf *err);
int targetio_mkdir(struct targetio *tio, const char *relpath, struct errbuf *err);
int targetio_symlink(struct targetio *tio, const char *relpath, const char *link_target,
		     struct errbuf *err);
/* Replace TO by FROM (same directory); FROM is fsynced first. */
int targetio_rename(struct targetio *tio, const char *from, const char *to, struct errbuf *err);
/* Write a whole small file durably (backup_label and the like). */
int targetio_write_file(struct targetio *tio, const char *relpath, const void *data, size_t len,
			struct errbuf *err);
/* fsync every file written or truncated, and the directories of everything created or removed. */
int targetio_sync(struct targetio *tio, struct errbuf *err);
uint64_t targetio_bytes_written(const struct targetio *tio);

/*
 * The target's file list, as pg_rewind's traverse_datadir: lstat; enter directories, symlinks
 * directly under pg_tblspc, and pg_wal even when it is a symlink (reported as a directory);
 * other symlinks are reported, not followed. Paths relative, no leading "./".
 */
typedef void (*targetio_file_fn)(void *arg, const char *path, enum file_type type, uint64_t size,
				 const char *link);
int targetio_list_files(const char *datadir, targetio_file_fn fn, void *arg, struct errbuf *err);

#endif
