/*
 * wire: the framed stream between the differential strategy on the target and its helper next
 * to the source data. A frame is a type byte, a 32-bit big-endian payload length, the payload.
 */
#ifndef SEGRECOVER_DIFFERENTIAL_WIRE_H
#define SEGRECOVER_DIFFERENTIAL_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errbuf.h"

#define WIRE_MAX_PAYLOAD (2u << 20)

enum wire_type {
	/* helper → target */
	WIRE_ENTRY = 'E',    /* a source path: u8 type, u64 size, u16 path length, path, link */
	WIRE_LIST_END = 'L', /* the list is complete: u32 number of regular files */
	WIRE_FILE = 'H',     /* u32 file, u8 mode (enum wire_mode): how its data follows */
	WIRE_DATA = 'B',     /* u32 file, u64 offset, bytes to write there */
	WIRE_DELTA = 'D',    /* u32 file, librsync delta bytes against the target's own file */
	WIRE_PROGRESS = 'P', /* u32 file, u64 offset, u64 bytes of it compared so far */
	WIRE_FILE_END = 'F', /* u32 file, u64 its size on the source, u64 bytes compared */
	WIRE_DONE = 'Z',     /* every file was sent: u64 the helper's peak resident set, kB */
	WIRE_ERROR = 'X',    /* the helper failed: the message */
	/* target → helper */
	WIRE_SIG = 'S',      /* u32 file, signature bytes of the target's copy */
	WIRE_SIG_END = 'T',  /* u32 file: its signature is complete (alone: no copy on the target) */
};

enum wire_mode {
	WIRE_MODE_PAGES = 1, /* changed 8 KiB pages, written in place */
	WIRE_MODE_DELTA = 2, /* a librsync delta, patched into a new file that replaces the old */
	WIRE_MODE_WHOLE = 3, /* the whole file from offset 0 */
	WIRE_MODE_GONE = 4,  /* the file vanished on the source: the target's copy goes too */
};

struct wire_out {
	int fd;
	unsigned char *buf;
	size_t len, cap;
	uint64_t bytes; /* sent so far, frames included */
	bool broken;    /* a write failed: the peer is gone */
};

struct wire_in {
	int fd;
	unsigned char *buf;
	size_t start, end, cap;
	uint64_t bytes; /* received so far */
	const char *peer; /* for messages: "the differential helper", "the target" */
	bool broken;      /* the stream ended early or could not be read: the peer is gone */
};

void wire_out_init(struct wire_out *w, int fd);
void wire_out_release(struct wire_out *w);
/* Queue a frame of HLEN header bytes then DLEN data bytes (large data is written directly). */
int wire_put(struct wire_out *w, char type, const void *hdr, size_t hlen, const void *data,
	     size_t dlen, struct errbuf *err);
int wire_flush(struct wire_out *w, struct errbuf *err);

void wire_in_init(struct wire_in *w, int fd, const char *peer);
void wire_in_release(struct wire_in *w);
/* The next frame; *payload stays valid until the next call. End of stream is an error. */
int wire_next(struct wire_in *w, char *type, const unsigned char **payload, size_t *len,
	      struct errbuf *err);

/* Big-endian fields. */
void wire_put_u16(unsigned char *p, uint16_t v);
void wire_put_u32(unsigned char *p, uint32_t v);
void wire_put_u64(unsigned char *p, uint64_t v);
uint16_t wire_get_u16(const unsigned char *p);
uint32_t wire_get_u32(const unsigned char *p);
uint64_t wire_get_u64(const unsigned char *p);

#endif
