/*
 * receive: the COPY stream of a PostgreSQL 15 BASE_BACKUP, demultiplexed as it arrives.
 *
 * Every CopyData message starts with a type byte: 'n' opens a new archive (name and tablespace
 * location follow, each NUL-terminated), 'd' carries archive or manifest bytes, 'p' a progress
 * count (int64, big-endian), 'm' announces the manifest. Each archive is unpacked by
 * full_extract() straight from the messages (base.tar into the target, <oid>.tar into that
 * tablespace's mapped location; with server compression base.tar.lz4 or base.tar.zst, and so
 * on, decompressed on the way); the manifest goes to backup_manifest.tmp, which the caller
 * renames with full_manifest_commit() once everything is synced.
 *
 * The messages come from a copy source: libpq in the strategy, memory in the tests.
 */
#ifndef SEGRECOVER_FULL_RECEIVE_H
#define SEGRECOVER_FULL_RECEIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errbuf.h"
#include "full/extract.h"

#define FULL_MANIFEST "backup_manifest"
#define FULL_MANIFEST_TMP "backup_manifest.tmp"

struct full_copy_source {
	/*
	 * The next CopyData message: returns 1 with *buf and *len set (valid until the next call),
	 * 0 at the end of the COPY, -1 on error with err filled.
	 */
	int (*next)(void *ctx, const char **buf, size_t *len, struct errbuf *err);
	void *ctx;
};

struct full_receive_opts {
	const char *target;                        /* the data directory */
	const struct tablespace *tablespaces; /* every tablespace the server announced */
	size_t ntablespaces;
	const char *log_directory;                 /* the source's log_directory setting */
	struct full_syncer *syncer;
	/* "lz4" or "zstd" when BASE_BACKUP asked for COMPRESSION: archives are <name>.tar.lz4/.zst */
	const char *compression;
	/* Optional: bytes received so far, and the server's own count ('p', uncompressed). */
	void (*progress)(void *ctx, uint64_t received, uint64_t server_done);
	void (*log)(void *ctx, int level, const char *msg);
	void *ctx;
};

struct full_receive_result {
	uint64_t bytes;       /* archive and manifest bytes received */
	uint64_t server_done; /* the server's last progress count */
	unsigned archives;
	bool manifest;
	struct full_extract_stats extract;
};

/*
 * Consume the whole COPY stream. Returns 0 when every announced archive arrived complete and
 * the stream ended; -1 with err otherwise (a source error is passed through as is).
 */
int full_receive(const struct full_receive_opts *o, const struct full_copy_source *src,
		 struct full_receive_result *res, struct errbuf *err);

/* Rename backup_manifest.tmp to backup_manifest in TARGET and fsync TARGET. */
int full_manifest_commit(const char *target, struct errbuf *err);

#endif
