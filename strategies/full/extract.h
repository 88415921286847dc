/*
 * extract: unpack one tar archive of a BASE_BACKUP into its root directory, as a stream.
 *
 * libarchive parses the tar; the bytes come from a read function (the COPY stream in the
 * strategy, a memory buffer in the tests), a chunk at a time, and nothing is buffered beyond
 * one chunk. Every member goes through one policy before anything touches the disk:
 *
 *  - the name must stay inside the root: no absolute name, no ".." component, no empty or "."
 *    component (a leading "./", as in PostgreSQL's "./pg_wal/archive_status", is dropped);
 *  - regular files and directories are written; a symbolic link is accepted only in the main
 *    archive as pg_tblspc/<oid> of a known tablespace, pointing at the location the server
 *    reported for it, and is written pointing at that tablespace's mapped location; any other
 *    link, hard link, device or FIFO is refused;
 *  - nothing is written below a link this extraction created, nor through any link on disk
 *    (every directory is opened with O_NOFOLLOW from the root);
 *  - in the main archive, segrecover's own files (targetmark.h), standby.signal and recovery.signal
 *    are never written, the contents of a relative log directory are skipped, and so are
 *    Greenplum's db_dumps, promote and db_analyze (what gprecoverseg -F excludes).
 *
 * A refused member stops the extraction with an error that names the archive and the member.
 * Files are handed to a syncer (see syncer.h) as they are finished. A compressed archive (the
 * server's COMPRESSION) is decompressed by libarchive's own lz4 or zstd code, never a program.
 */
#ifndef SEGRECOVER_FULL_EXTRACT_H
#define SEGRECOVER_FULL_EXTRACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/tablespace.h"
#include "errbuf.h"
#include "full/syncer.h"

/*
 * Next chunk of the archive: a pointer valid until the next call and its length (> 0);
 * 0 at the end of the archive; -1 on error with err filled.
 */
typedef ssize_t (*full_read_fn)(void *ctx, const void **buf, struct errbuf *err);

struct full_extract_opts {
	const char *root;         /* existing directory the members are written under */
	const char *archive;      /* "base.tar", "16385.tar": for messages */
	bool main_archive;        /* the data directory's archive */
	const struct tablespace *tablespaces; /* for pg_tblspc/<oid> links */
	size_t ntablespaces;
	const char *log_directory;/* the source's log_directory; contents skipped if relative */
	struct full_syncer *syncer; /* required */
	const char *compression;  /* "lz4" or "zstd": the archive is compressed so; NULL: plain */
	/* Optional: how skipped members are reported (level: enum log_level). */
	void (*log)(void *ctx, int level, const char *msg);
	void *log_ctx;
};

struct full_extract_stats {
	unsigned long files, dirs, links, skipped;
	uint64_t file_bytes;
};

/*
 * Unpack the archive that READ delivers into o->root. Adds to *st (which may be NULL).
 * Returns 0 once the tar's end-of-archive marker is read and the read function reports the end;
 * -1 with err naming the archive and member otherwise.
 */
int full_extract(const struct full_extract_opts *o, full_read_fn read, void *read_ctx,
		 struct full_extract_stats *st, struct errbuf *err);

/*
 * The policy on one member name, without touching the disk: normalize NAME (drop a leading
 * "./" and trailing "/") into OUT. Returns 0 when the name can be written under a root,
 * -1 with a reason in err otherwise. Exposed for the tests.
 */
int full_normalize_member(const char *name, char *out, size_t outlen, struct errbuf *err);

#endif
