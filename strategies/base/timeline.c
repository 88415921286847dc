#include "base/timeline.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "xalloc.h"

void timeline_history_init_first(struct timeline_history *out)
{
	out->entries = xcalloc(1, sizeof(*out->entries));
	out->entries[0].tli = 1;
	out->entries[0].begin = LSN_INVALID;
	out->entries[0].end = LSN_INVALID;
	out->count = 1;
}

void timeline_history_copy(struct timeline_history *dst, const struct timeline_history *src)
{
	dst->count = src->count;
	dst->entries = xmalloc(src->count * sizeof(*dst->entries));
	memcpy(dst->entries, src->entries, src->count * sizeof(*dst->entries));
}

void timeline_history_release(struct timeline_history *h)
{
	free(h->entries);
	h->entries = NULL;
	h->count = 0;
}

uint32_t timeline_history_tli(const struct timeline_history *h)
{
	return h->count > 0 ? h->entries[h->count - 1].tli : 0;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Parse 1-8 hex digits at *p (up to END) into *value; advances *p. */
static bool parse_hex32(const char **p, const char *end, uint32_t *value)
{
	const char *s = *p;
	uint32_t v = 0;
	int n = 0, d;

	while (s < end && (d = hex_digit(*s)) >= 0) {
		if (++n > 8)
			return false;
		v = (v << 4) | (uint32_t) d;
		s++;
	}
	if (n == 0)
		return false;
	*p = s;
	*value = v;
	return true;
}

/* One non-comment line: "<tli> <hi>/<lo> [reason]". */
static int parse_history_line(const char *p, const char *end, const char *source, size_t lineno,
			      uint32_t *tli, lsn_t *switchpoint, struct errbuf *err)
{
	uint64_t v = 0;
	uint32_t hi, lo;
	const char *digits = p;

	while (p < end && *p >= '0' && *p <= '9') {
		v = v * 10 + (uint64_t) (*p - '0');
		if (v > UINT32_MAX)
			return errbuf_set(err, "%s line %zu: timeline ID is out of range", source,
					  lineno);
		p++;
	}
	if (p == digits || (p < end && !is_blank(*p)))
		return errbuf_set(err, "%s line %zu: syntax error: expected a numeric timeline ID",
				  source, lineno);
	while (p < end && is_blank(*p))
		p++;
	if (!parse_hex32(&p, end, &hi) || p >= end || *p != '/')
		goto bad_lsn;
	p++;
	if (!parse_hex32(&p, end, &lo) || (p < end && !is_blank(*p)))
		goto bad_lsn;
	*tli = (uint32_t) v;
	*switchpoint = ((lsn_t) hi << 32) | lo;
	return 0;

bad_lsn:
	return errbuf_set(
	    err,
	    "%s line %zu: syntax error: expected a write-ahead log switch point location "
	    "(X/X) after the timeline ID",
	    source, lineno);
}

int timeline_history_parse(const char *text, size_t len, uint32_t tli, const char *source,
			   struct timeline_history *out, struct errbuf *err)
{
	const char *p = text, *end = text + len;
	struct timeline_entry *entries = NULL;
	size_t count = 0, alloc = 0, lineno = 0;
	uint32_t last_tli = 0;
	lsn_t prev_end = LSN_INVALID;

	if (tli == 0)
		return errbuf_set(err, "%s: timeline 0 is not a valid timeline", source);
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t) (end - p));
		const char *line_end = eol ? eol : end;
		uint32_t entry_tli = 0;
		lsn_t switchpoint = LSN_INVALID;

		lineno++;
		while (p < line_end && is_blank(*p))
			p++;
		if (p == line_end || *p == '#')
			goto next_line;
		if (parse_history_line(p, line_end, source, lineno, &entry_tli, &switchpoint,
				       err) != 0)
			goto fail;
		if (entry_tli == 0 || entry_tli <= last_tli) {
			errbuf_set(
			    err,
			    "%s line %zu: invalid data: timeline IDs must be in increasing order "
			    "(%u after %u)",
			    source, lineno, entry_tli, last_tli);
			goto fail;
		}
		if (entry_tli >= tli) {
			errbuf_set(
			    err,
			    "%s line %zu: invalid data: timeline ID %u must be less than the "
			    "file's timeline %u",
			    source, lineno, entry_tli, tli);
			goto fail;
		}
		/* The divergence search and the segment-to-timeline rule need ordered ends. */
		if (switchpoint == LSN_INVALID || switchpoint < prev_end) {
			errbuf_set(err,
				   "%s line %zu: invalid data: switch point " LSN_FMT
				   " is invalid or before the previous one " LSN_FMT,
				   source, lineno, LSN_ARGS(switchpoint), LSN_ARGS(prev_end));
			goto fail;
		}
		if (count == alloc) {
			alloc = alloc ? alloc * 2 : 8;
			entries = xrealloc(entries, (alloc + 1) * sizeof(*entries));
		}
		entries[count].tli = entry_tli;
		entries[count].begin = prev_end;
		entries[count].end = switchpoint;
		count++;
		last_tli = entry_tli;
		prev_end = switchpoint;
	next_line:
		p = eol ? eol + 1 : end;
	}
	/* The file's own timeline has no line: it begins at the last switch point, open-ended. */
	if (entries == NULL)
		entries = xmalloc(sizeof(*entries));
	entries[count].tli = tli;
	entries[count].begin = prev_end;
	entries[count].end = LSN_INVALID;
	out->entries = entries;
	out->count = count + 1;
	return 0;

fail:
	free(entries);
	return -1;
}

int timeline_history_load(const char *waldir, uint32_t tli, struct timeline_history *out,
			  struct errbuf *err)
{
	char name[32], *path, *text = NULL;
	size_t len;
	int rc;

	if (tli == 1) {
		timeline_history_init_first(out);
		return 0;
	}
	snprintf(name, sizeof(name), "%08X.history", tli);
	path = path_join(waldir, name);
	if (read_small_file(path, &text, &len, err) != 0) {
		errbuf_prefix(err, "cannot read the history of timeline %u", tli);
		free(path);
		return -1;
	}
	rc = timeline_history_parse(text, len, tli, path, out, err);
	free(text);
	free(path);
	return rc;
}

/* The smaller of two timeline ends, where an invalid end means infinity. */
static lsn_t min_end(lsn_t a, lsn_t b)
{
	if (a == LSN_INVALID)
		return b;
	if (b == LSN_INVALID)
		return a;
	return a < b ? a : b;
}

int timeline_find_common_ancestor(const struct timeline_history *source,
				  const struct timeline_history *target,
				  struct timeline_divergence *out, struct errbuf *err)
{
	size_t n = source->count < target->count ? source->count : target->count;
	size_t i;

	/*
	 * The same TLI with another begin means the two servers picked the same number for different
	 * timelines (each promoted on its own): that entry is no longer common.
	 */
	for (i = 0; i < n; i++) {
		if (source->entries[i].tli != target->entries[i].tli ||
		    source->entries[i].begin != target->entries[i].begin)
			break;
	}
	if (i == 0)
		return errbuf_set(
		    err,
		    "could not find a common ancestor of the source's timeline %u and the "
		    "target's timeline %u",
		    timeline_history_tli(source), timeline_history_tli(target));
	i--;
	out->index = i;
	out->tli = source->entries[i].tli;
	out->lsn = min_end(source->entries[i].end, target->entries[i].end);
	return 0;
}

uint32_t timeline_tli_of_lsn(const struct timeline_history *h, lsn_t lsn)
{
	size_t i;

	for (i = 0; i < h->count; i++) {
		const struct timeline_entry *e = &h->entries[i];

		if ((e->begin == LSN_INVALID || e->begin <= lsn) &&
		    (e->end == LSN_INVALID || lsn < e->end))
			return e->tli;
	}
	return 0;
}

uint32_t timeline_tli_of_segment(const struct timeline_history *h, uint64_t segno,
				 uint32_t seg_size)
{
	lsn_t seg_end = (segno + 1) * (lsn_t) seg_size;
	size_t i = 0;

	if (h->count == 0)
		return 0;
	while (i + 1 < h->count && h->entries[i].end < seg_end)
		i++;
	return h->entries[i].tli;
}

bool wal_seg_size_valid(uint32_t seg_size)
{
	return seg_size >= (1u << 20) && seg_size <= (1u << 30) && (seg_size & (seg_size - 1)) == 0;
}

static uint64_t segments_per_xlogid(uint32_t seg_size)
{
	return UINT64_C(0x100000000) / seg_size;
}

void wal_file_name(char name[WAL_FILE_NAME_LEN + 1], uint32_t tli, uint64_t segno,
		   uint32_t seg_size)
{
	uint64_t per = segments_per_xlogid(seg_size);

	snprintf(name, WAL_FILE_NAME_LEN + 1, "%08X%08X%08X", tli, (unsigned) (segno / per),
		 (unsigned) (segno % per));
}

bool wal_file_name_parse(const char *name, uint32_t seg_size, uint32_t *tli, uint64_t *segno)
{
	uint32_t part[3] = { 0, 0, 0 };
	uint64_t per;
	int i;

	if (!wal_seg_size_valid(seg_size) || strlen(name) != WAL_FILE_NAME_LEN)
		return false;
	for (i = 0; i < WAL_FILE_NAME_LEN; i++) {
		char c = name[i];

		/* The server writes upper case only; anything else is not one of its files. */
		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F')))
			return false;
		part[i / 8] = (part[i / 8] << 4) | (uint32_t) hex_digit(c);
	}
	per = segments_per_xlogid(seg_size);
	if (part[0] == 0 || part[2] >= per)
		return false;
	*tli = part[0];
	*segno = (uint64_t) part[1] * per + part[2];
	return true;
}
