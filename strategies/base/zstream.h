/*
 * zstream: one compressed byte stream (lz4 or zstd, by libarchive's own code in its raw
 * format), written to a sink a helper chooses and read back from a file descriptor, for the
 * strategies whose helpers send what gprecoverseg --compress asks to be compressed.
 */
#ifndef SEGRECOVER_BASE_ZSTREAM_H
#define SEGRECOVER_BASE_ZSTREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "errbuf.h"

/* "lz4" and "zstd" are the codecs; anything else is refused with a message. */
int zstream_check_codec(const char *codec, struct errbuf *err);

/* Where a writer's compressed bytes go: all N of them, or -1 with err. */
typedef int (*zstream_sink_fn)(void *arg, const void *buf, size_t n, struct errbuf *err);

struct zwriter;

/* Compress into SINK (at level 1: the copy is bound by the disk or link, not by ratio). */
int zwriter_open(const char *codec, zstream_sink_fn sink, void *arg, struct zwriter **out,
		 struct errbuf *err);
int zwriter_write(struct zwriter *w, const void *buf, size_t n, struct errbuf *err);
/* Flush what is buffered and end the stream; frees W whatever happens. */
int zwriter_close(struct zwriter *w, struct errbuf *err);
/* Compressed bytes handed to the sink so far. */
uint64_t zwriter_out_bytes(const struct zwriter *w);

/* A sink writing to a blocking file descriptor. */
int zstream_fd_sink(void *fd_as_intptr, const void *buf, size_t n, struct errbuf *err);

struct zreader;

/* Decompress what FD carries (PEER names it in messages). */
int zreader_open(int fd, const char *peer, struct zreader **out, struct errbuf *err);
/* Up to N bytes into BUF: *got 0 at the end of the stream. */
int zreader_read(struct zreader *r, void *buf, size_t n, size_t *got, struct errbuf *err);
/* Compressed bytes read from the descriptor so far. */
uint64_t zreader_in_bytes(const struct zreader *r);
void zreader_close(struct zreader *r);

#endif
