/*
 * source: the live source (the acting primary) over a normal libpq connection, as pg_rewind's
 * libpq_source: its file list, small files, and ranges of files fetched in large batched
 * queries and written into the target through targetio.
 */
#ifndef SEGRECOVER_INCREMENTAL_SOURCE_H
#define SEGRECOVER_INCREMENTAL_SOURCE_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "errbuf.h"
#include "incremental/filemap.h"
#include "base/targetio.h"
#include "pgcontrol.h"

#define SOURCE_MAX_CHUNK (1024 * 1024) /* bytes per requested range */
#define SOURCE_MAX_CHUNKS 1000         /* ranges per query, at most */
#define SOURCE_MIN_BATCH 64            /* ranges per query, at least (unless fewer are left) */
#define SOURCE_FETCHERS 4              /* connections fetching at once */
#define SOURCE_QUEUE_CAP (SOURCE_FETCHERS * SOURCE_MAX_CHUNKS) /* queued ranges before fetching */

struct source;

/*
 * Connect (by parameters) and set the session up: no statement/lock/idle timeouts, no JIT,
 * read only, empty search_path; full_page_writes must be on. Fetched data is written through TIO.
 */
int source_open(const char *host, int port, struct targetio *tio, struct source **out,
		struct errbuf *err);
void source_close(struct source *s);
/* Name the source by its dbid in every message (with its host:port). */
void source_set_dbid(struct source *s, int dbid);
PGconn *source_conn(struct source *s);

/*
 * The source data directory's file list (recursive pg_ls_dir / pg_stat_file, tablespace links):
 * _start sends the query and returns at once, so the caller can walk the target meanwhile;
 * _finish waits for the answer and calls FN for each entry.
 */
int source_list_files_start(struct source *s, struct errbuf *err);
int source_list_files_finish(struct source *s, targetio_file_fn fn, void *arg, struct errbuf *err);

/* A whole small file (pg_control, history files); *data malloc'd, NUL-terminated. */
int source_fetch_file(struct source *s, const char *path, char **data, size_t *len,
		      struct errbuf *err);

/*
 * Queue bytes [off, off+len) of PATH to be copied to the same place in the target; adjacent
 * ranges of one path merge; ranges are split at SOURCE_MAX_CHUNK. Queued work may run at once
 * when the queue is full. Ranges are fetched over up to SOURCE_FETCHERS connections at once and
 * written as they arrive, in no particular order.
 */
int source_queue_range(struct source *s, const char *path, uint64_t off, uint64_t len,
		       struct errbuf *err);
/* Queue the whole file: the target file is truncated now and filled to the source's current
 * size (a file that grew meanwhile is copied whole; one that vanished is removed). */
int source_queue_file(struct source *s, const char *path, uint64_t len, struct errbuf *err);
/* Run everything queued. */
int source_flush(struct source *s, struct errbuf *err);

/*
 * Called with each queued range just before the fetchers start on the queue it is in, so that
 * the source's kernel can read it ahead (prefetch): a window of about one queue ahead.
 */
typedef void (*source_hint_fn)(void *arg, const char *path, uint64_t off, uint64_t len);
void source_set_hint(struct source *s, source_hint_fn fn, void *arg);

/* pg_current_wal_insert_lsn() */
int source_insert_lsn(struct source *s, lsn_t *lsn, struct errbuf *err);

/* Bytes received from the source by the fetches so far. */
uint64_t source_bytes_fetched(const struct source *s);

/* Queries for ranges sent so far, over every connection. */
uint64_t source_batches_sent(const struct source *s);

#endif
