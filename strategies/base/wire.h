/*
 * wire: the framed stream between a strategy on the target and its helper next to the source
 * data. A frame is a type byte, a 32-bit big-endian payload length, the payload.
 */
#ifndef SEGRECOVER_BASE_WIRE_H
#define SEGRECOVER_BASE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errbuf.h"

#define WIRE_MAX_PAYLOAD (2u << 20)
#define WIRE_FRAME_HEADER 5 /* the type byte and the payload length */

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

/* A frame's header into P (WIRE_FRAME_HEADER bytes), for a caller that writes the frame itself. */
void wire_put_header(unsigned char *p, char type, uint32_t payload_len);

/* Big-endian fields. */
void wire_put_u16(unsigned char *p, uint16_t v);
void wire_put_u32(unsigned char *p, uint32_t v);
void wire_put_u64(unsigned char *p, uint64_t v);
uint16_t wire_get_u16(const unsigned char *p);
uint32_t wire_get_u32(const unsigned char *p);
uint64_t wire_get_u64(const unsigned char *p);

#endif
