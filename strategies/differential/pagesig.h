/*
 * pagesig: librsync signatures of 8 KiB pages, one entry per page at its own offset, so that
 * the two sides of a differential copy compare a relation file page for page: an unchanged
 * page costs one strong hash on each side, a changed one is sent whole, and nothing rolls.
 */
#ifndef SEGRECOVER_DIFFERENTIAL_PAGESIG_H
#define SEGRECOVER_DIFFERENTIAL_PAGESIG_H

#include <stdbool.h>
#include <stddef.h>

#include "errbuf.h"

#define PAGESIG_BLOCK 8192u
#define PAGESIG_STRONG 16u                  /* MD4 bytes kept per page */
#define PAGESIG_ENTRY (4u + PAGESIG_STRONG) /* librsync's weak sum, then the strong one */
#define PAGESIG_CHUNK (1u << 20)            /* pages hashed per librsync job */

/*
 * The entries of DATA (LEN ≤ PAGESIG_CHUNK bytes, a multiple of the page except at a file's
 * end) into OUT, room for PAGESIG_ENTRY per page begun; returns the number of entries, or -1.
 */
int pagesig_chunk(const void *data, size_t len, unsigned char *out, struct errbuf *err);

/* Is PATH a relation fork file ("base/1/1259", "global/2671_vm", "pg_tblspc/…/16384/2613.1")? */
bool pagesig_is_paged_file(const char *path);

#endif
