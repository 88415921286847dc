/*
 * filemap: every path of the source and target data directories, and what to do with each to
 * make the target match the source (pg_rewind's filemap, with segrecover's WAL rules: the
 * source's WAL segments are not copied, the new mirror streams them through its slot).
 */
#ifndef SEGRECOVER_INCREMENTAL_FILEMAP_H
#define SEGRECOVER_INCREMENTAL_FILEMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/targetio.h"
#include "errbuf.h"
#include "incremental/blockmap.h"
#include "pgcontrol.h"

#define RELSEG_BLOCKS 131072u /* blocks per 1 GB relation segment file */
#define BLOCK_SIZE 8192u
#define TABLESPACE_VERSION_DIR TABLESPACE_VERSION_DIR_15

/* Execution order is this order; REMOVE runs in reverse path order (children first). */
enum file_action {
	ACTION_UNDECIDED = 0,
	ACTION_CREATE,    /* directory or symlink only on the source */
	ACTION_COPY,      /* copy the whole file from the source */
	ACTION_COPY_TAIL, /* relation file shorter on the target: copy [target_size, source_size) */
	ACTION_NONE,
	ACTION_TRUNCATE,  /* relation file longer on the target: cut to source_size */
	ACTION_REMOVE,    /* only on the target (or excluded): remove */
};

struct file_entry {
	char *path;               /* relative to the data directory, no leading "./" */
	bool is_relation;         /* main-fork relation data file: blocks can be copied one by one */
	enum file_type source_type;
	uint64_t source_size;
	char *source_link;        /* symlink target (tablespaces), or NULL */
	enum file_type target_type;
	uint64_t target_size;
	char *target_link;
	struct blockmap blocks;   /* blocks the target's WAL changed since the last common checkpoint */
	bool keep_wal;            /* a target WAL segment recovery will read: never removed */
	bool force_copy;          /* copy whole even where the rules would not (e.g. the source's
				     segment holding the divergence point) */
	enum file_action action;
};

struct filemap_rules {
	/* The source's log_directory when it is relative (e.g. "log"): its contents are neither
	 * copied nor removed; each side keeps its own server logs. NULL when absolute. */
	const char *log_directory;
	/* Names that belong to the target and are left alone anywhere at the top level of the data
	 * directory: e.g. the recovery lock file, standby.signal, an in-progress marker. NULL-ended. */
	const char *const *keep_target;
};

struct filemap;

struct filemap *filemap_create(void);
void filemap_free(struct filemap *fm);

/* Record a path as the source's (resp. the target's) file list shows it. Paths are copied. */
void filemap_add_source(struct filemap *fm, const char *path, enum file_type type, uint64_t size,
			const char *link);
void filemap_add_target(struct filemap *fm, const char *path, enum file_type type, uint64_t size,
			const char *link);
struct file_entry *filemap_lookup(struct filemap *fm, const char *path);

/*
 * A block the target's WAL touched. Only main-fork blocks are kept; the bit is set only when the
 * relation segment file exists on both sides as a regular file and the whole block lies within
 * both sizes (other cases are covered by the file's own action), as pg_rewind does.
 */
void filemap_note_block(struct filemap *fm, uint32_t spc, uint32_t db, uint32_t rel, int fork,
			uint32_t blkno);

/* Mark a target WAL file (path like "pg_wal/000000010000000000000003") as needed. */
void filemap_keep_wal(struct filemap *fm, const char *path);
/* Copy this source file whole whatever the rules say (the entry must exist on the source). */
int filemap_force_copy(struct filemap *fm, const char *path, struct errbuf *err);

/*
 * Decide the action of every entry, then sort the entries in execution order. Rules, in order:
 * global/pg_control → NONE (the caller writes it last); the target's own names (rules) and the
 * log directory's contents → NONE; excluded paths (basebackup's exclusion list, research §2.4)
 * → REMOVE when on the target, else NONE; pg_wal: *.history files and force_copy files follow
 * the normal rules, WAL segments and other files directly in pg_wal or pg_wal/archive_status are
 * never copied from the source and are removed from the target unless keep_wal (an
 * archive_status file follows its segment); only on the source: directory/symlink → CREATE,
 * file → COPY; only on the target → REMOVE; different types on the two sides → error;
 * PG_VERSION, directories, symlinks on both → NONE; regular non-relation file → COPY;
 * relation file: smaller on target → COPY_TAIL, larger → TRUNCATE, same size → NONE, plus
 * the block map in every case.
 */
int filemap_decide(struct filemap *fm, const struct filemap_rules *rules, struct errbuf *err);

/* After filemap_decide: the entries in execution order. */
size_t filemap_count(const struct filemap *fm);
struct file_entry *filemap_entry(struct filemap *fm, size_t i);

struct filemap_totals {
	uint64_t fetch_bytes;   /* bytes to fetch: whole copies + tails + 8 KiB per block */
	uint64_t source_bytes;  /* size of all regular files on the source */
	size_t copy, copy_tail, truncate, remove, create, blocks;
};
void filemap_totals(const struct filemap *fm, struct filemap_totals *t);

/* Pure helpers, exposed for tests. */
bool filemap_is_relation_file(const char *path);
/* Is PATH on basebackup's exclusion list (research §2.4 step 2)? */
bool filemap_is_excluded(const char *path);
/* "base/DB/REL[.SEG]", "global/REL[.SEG]" or "pg_tblspc/SPC/PG_15_202209061/DB/REL[.SEG]". */
void filemap_relation_path(char *buf, size_t len, uint32_t spc, uint32_t db, uint32_t rel,
			   uint32_t segno);

#endif
