/*
 * chunkread: how both sides of a differential copy read a file: large reads at offsets, a
 * short count only at the file's end. (Asking the kernel to fetch the next megabytes ahead,
 * POSIX_FADV_WILLNEED, was measured no faster here: 7.4-8.0 s against 7.0-8.3 s.)
 */
#ifndef SEGRECOVER_DIFFERENTIAL_CHUNKREAD_H
#define SEGRECOVER_DIFFERENTIAL_CHUNKREAD_H

#include <stddef.h>
#include <stdint.h>

#include "errbuf.h"

/* Up to LEN bytes at OFF into BUF; *got short of LEN means the file ended (it may have shrunk). */
int chunk_read(int fd, const char *what, uint64_t off, size_t len, size_t *got, unsigned char *buf,
	       struct errbuf *err);

#endif
