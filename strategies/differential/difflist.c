#include "differential/difflist.h"

#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "xalloc.h"

#define ENTRY_HEADER 11 /* u8 type, u64 size, u16 path length */

void diff_list_add(struct diff_list *l, const char *path, enum file_type type, uint64_t size,
		   const char *link)
{
	struct diff_entry *e;

	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 256;
		l->entries = xrealloc(l->entries, l->cap * sizeof(*l->entries));
	}
	e = &l->entries[l->n++];
	e->path = xstrdup(path);
	e->type = type;
	e->size = type == FILE_TYPE_REGULAR ? size : 0;
	e->link = link ? xstrdup(link) : NULL;
}

static int by_path(const void *a, const void *b, void *arg)
{
	const struct diff_list *l = arg;

	return strcmp(l->entries[*(const size_t *) a].path, l->entries[*(const size_t *) b].path);
}

void diff_list_seal(struct diff_list *l)
{
	size_t control = SIZE_MAX;

	l->files = xcalloc(l->n + 1, sizeof(*l->files));
	l->sorted = xcalloc(l->n + 1, sizeof(*l->sorted));
	l->nfiles = 0;
	l->bytes = 0;
	for (size_t i = 0; i < l->n; i++) {
		l->sorted[i] = i;
		if (l->entries[i].type != FILE_TYPE_REGULAR)
			continue;
		l->bytes += l->entries[i].size;
		/* pg_control last, as a base backup sends it. */
		if (strcmp(l->entries[i].path, "global/pg_control") == 0)
			control = i;
		else
			l->files[l->nfiles++] = i;
	}
	if (control != SIZE_MAX)
		l->files[l->nfiles++] = control;
	qsort_r(l->sorted, l->n, sizeof(*l->sorted), by_path, l);
}

const struct diff_entry *diff_list_find(const struct diff_list *l, const char *path)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(l->entries[l->sorted[mid]].path, path);

		if (c == 0)
			return &l->entries[l->sorted[mid]];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void diff_list_free(struct diff_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->entries[i].path);
		free(l->entries[i].link);
	}
	free(l->entries);
	free(l->files);
	free(l->sorted);
	memset(l, 0, sizeof(*l));
}

int diff_list_send(const struct diff_list *l, struct wire_out *w, struct errbuf *err)
{
	unsigned char count[4];

	for (size_t i = 0; i < l->n; i++) {
		const struct diff_entry *e = &l->entries[i];
		size_t plen = strlen(e->path), llen = e->link ? strlen(e->link) : 0;
		unsigned char hdr[ENTRY_HEADER];
		char *body;
		int rc;

		if (plen > UINT16_MAX || llen > 4096)
			return errbuf_set(err, "the source path \"%s\" is too long", e->path);
		hdr[0] = (unsigned char) e->type;
		wire_put_u64(hdr + 1, e->size);
		wire_put_u16(hdr + 9, (uint16_t) plen);
		body = xmalloc(plen + llen + 1);
		memcpy(body, e->path, plen);
		if (llen)
			memcpy(body + plen, e->link, llen);
		rc = wire_put(w, WIRE_ENTRY, hdr, sizeof(hdr), body, plen + llen, err);
		free(body);
		if (rc != 0)
			return -1;
	}
	wire_put_u32(count, (uint32_t) l->nfiles);
	if (wire_put(w, WIRE_LIST_END, count, sizeof(count), NULL, 0, err) != 0)
		return -1;
	return wire_flush(w, err);
}

int diff_list_receive(struct diff_list *l, struct wire_in *w, struct errbuf *err)
{
	for (;;) {
		const unsigned char *p;
		size_t len, plen;
		char type, *path, *link;

		if (wire_next(w, &type, &p, &len, err) != 0)
			return -1;
		if (type == WIRE_ERROR)
			return errbuf_set(err, "%.*s", (int) len, (const char *) p);
		if (type == WIRE_LIST_END) {
			diff_list_seal(l);
			if (len != 4 || wire_get_u32(p) != l->nfiles)
				return errbuf_set(err, "%s sent %zu files but announced %u", w->peer,
						  l->nfiles, len == 4 ? wire_get_u32(p) : 0);
			return 0;
		}
		if (type != WIRE_ENTRY || len < ENTRY_HEADER ||
		    (plen = wire_get_u16(p + 9)) == 0 || ENTRY_HEADER + plen > len ||
		    p[0] < FILE_TYPE_REGULAR || p[0] > FILE_TYPE_SYMLINK)
			return errbuf_set(err, "%s sent a malformed file list (frame '%c', %zu bytes)",
					  w->peer, type, len);
		path = xstrndup((const char *) p + ENTRY_HEADER, plen);
		/* Every path is written beneath the target's root: none may climb out of it. */
		if (!path_is_safe_relative(path)) {
			errbuf_set(err, "%s sent the path \"%s\", which leaves the data directory",
				   w->peer, path);
			free(path);
			return -1;
		}
		link = len > ENTRY_HEADER + plen
			       ? xstrndup((const char *) p + ENTRY_HEADER + plen, len - ENTRY_HEADER - plen)
			       : NULL;
		diff_list_add(l, path, (enum file_type) p[0], wire_get_u64(p + 1), link);
		free(path);
		free(link);
	}
}
