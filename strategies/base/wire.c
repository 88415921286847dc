#include "base/wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xalloc.h"

#define WIRE_BUFFER (256u << 10)

void wire_put_u16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char) (v >> 8);
	p[1] = (unsigned char) v;
}

void wire_put_u32(unsigned char *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char) v;
}

void wire_put_u64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char) v;
}

uint16_t wire_get_u16(const unsigned char *p)
{
	return (uint16_t) ((p[0] << 8) | p[1]);
}

uint32_t wire_get_u32(const unsigned char *p)
{
	return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) | ((uint32_t) p[2] << 8) | p[3];
}

uint64_t wire_get_u64(const unsigned char *p)
{
	return ((uint64_t) wire_get_u32(p) << 32) | wire_get_u32(p + 4);
}

void wire_put_header(unsigned char *p, char type, uint32_t payload_len)
{
	p[0] = (unsigned char) type;
	wire_put_u32(p + 1, payload_len);
}

void wire_out_init(struct wire_out *w, int fd)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->cap = WIRE_BUFFER;
	w->buf = xmalloc(w->cap);
}

void wire_out_release(struct wire_out *w)
{
	free(w->buf);
	w->buf = NULL;
}

static int write_all(struct wire_out *w, const void *data, size_t len, struct errbuf *err)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(w->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			w->broken = true;
			return errbuf_set_errno(err, errno, "cannot write to the other side of the "
							   "helper's stream");
		}
		p += n;
		len -= (size_t) n;
	}
	return 0;
}

int wire_flush(struct wire_out *w, struct errbuf *err)
{
	int rc = write_all(w, w->buf, w->len, err);

	w->len = 0;
	return rc;
}

int wire_put(struct wire_out *w, char type, const void *hdr, size_t hlen, const void *data,
	     size_t dlen, struct errbuf *err)
{
	unsigned char *p;

	if (hlen + dlen > WIRE_MAX_PAYLOAD)
		return errbuf_set(err, "a frame of %zu bytes is larger than the limit", hlen + dlen);
	if (w->len + WIRE_FRAME_HEADER + hlen > w->cap && wire_flush(w, err) != 0)
		return -1;
	p = w->buf + w->len;
	wire_put_header(p, type, (uint32_t) (hlen + dlen));
	if (hlen)
		memcpy(p + WIRE_FRAME_HEADER, hdr, hlen);
	w->len += WIRE_FRAME_HEADER + hlen;
	w->bytes += WIRE_FRAME_HEADER + hlen + dlen;
	if (dlen == 0)
		return 0;
	/* Large data goes straight to the pipe after what is queued: one copy fewer. */
	if (w->len + dlen > w->cap)
		return wire_flush(w, err) != 0 ? -1 : write_all(w, data, dlen, err);
	memcpy(w->buf + w->len, data, dlen);
	w->len += dlen;
	return 0;
}

void wire_in_init(struct wire_in *w, int fd, const char *peer)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->cap = WIRE_MAX_PAYLOAD + WIRE_BUFFER;
	w->buf = xmalloc(w->cap);
	w->peer = peer;
}

void wire_in_release(struct wire_in *w)
{
	free(w->buf);
	w->buf = NULL;
}

/* At least NEED bytes from start, reading in large gulps. */
static int fill(struct wire_in *w, size_t need, struct errbuf *err)
{
	if (w->start + need > w->cap) {
		memmove(w->buf, w->buf + w->start, w->end - w->start);
		w->end -= w->start;
		w->start = 0;
	}
	while (w->end - w->start < need) {
		ssize_t n = read(w->fd, w->buf + w->end, w->cap - w->end);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			w->broken = true;
		if (n < 0)
			return errbuf_set_errno(err, errno, "cannot read from %s", w->peer);
		if (n == 0)
			return errbuf_set(err, "%s ended its stream early", w->peer);
		w->end += (size_t) n;
		w->bytes += (uint64_t) n;
	}
	return 0;
}

int wire_next(struct wire_in *w, char *type, const unsigned char **payload, size_t *len,
	      struct errbuf *err)
{
	uint32_t n;

	if (fill(w, WIRE_FRAME_HEADER, err) != 0)
		return -1;
	n = wire_get_u32(w->buf + w->start + 1);
	if (n > WIRE_MAX_PAYLOAD)
		return errbuf_set(err, "%s sent a frame of %u bytes: not a differential stream",
				  w->peer, n);
	if (fill(w, WIRE_FRAME_HEADER + n, err) != 0)
		return -1;
	*type = (char) w->buf[w->start];
	*payload = w->buf + w->start + WIRE_FRAME_HEADER;
	*len = n;
	w->start += WIRE_FRAME_HEADER + n;
	if (w->start == w->end)
		w->start = w->end = 0;
	return 0;
}
