/*
 * difflist: the source's file list as the differential helper sends it (one WIRE_ENTRY frame
 * per path) and the target keeps it: entries in the order sent, the regular files numbered in
 * that order (global/pg_control last), and a lookup by path.
 */
#ifndef SEGRECOVER_DIFFERENTIAL_DIFFLIST_H
#define SEGRECOVER_DIFFERENTIAL_DIFFLIST_H

#include <stddef.h>
#include <stdint.h>

#include "base/targetio.h"
#include "differential/diffwire.h"
#include "errbuf.h"

struct diff_entry {
	char *path;
	enum file_type type;
	uint64_t size;
	char *link; /* symlinks only */
};

struct diff_list {
	struct diff_entry *entries;
	size_t n, cap;
	size_t *files;   /* index into entries of regular file number i */
	size_t nfiles;
	size_t *sorted;  /* entries by path, for diff_list_find */
	uint64_t bytes;  /* sum of the regular files' sizes */
};

void diff_list_add(struct diff_list *l, const char *path, enum file_type type, uint64_t size,
		   const char *link);
/* Number the regular files (pg_control last) and sort for lookups; call once, after the adds. */
void diff_list_seal(struct diff_list *l);
/* The entry at PATH, or NULL. */
const struct diff_entry *diff_list_find(const struct diff_list *l, const char *path);
void diff_list_free(struct diff_list *l);

/* Send every entry, then WIRE_LIST_END. */
int diff_list_send(const struct diff_list *l, struct wire_out *w, struct errbuf *err);
/* Read the frames diff_list_send wrote (sealed on return). */
int diff_list_receive(struct diff_list *l, struct wire_in *w, struct errbuf *err);

#endif
