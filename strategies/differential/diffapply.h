/*
 * diffapply: the target's main thread of a differential copy: it applies what the helper
 * sends, file by file, through targetio: changed pages in place, librsync patches into a new
 * file that then replaces the old one, whole files, files gone from the source removed.
 */
#ifndef SEGRECOVER_DIFFERENTIAL_DIFFAPPLY_H
#define SEGRECOVER_DIFFERENTIAL_DIFFAPPLY_H

#include <stddef.h>
#include <stdint.h>

#include "base/targetio.h"
#include "differential/difflist.h"
#include "differential/diffwire.h"
#include "errbuf.h"

struct recovery;

struct diffapply_totals {
	uint64_t compared;  /* bytes of the source's files read and compared */
	uint64_t received;  /* bytes of pages, deltas and whole files received */
	size_t pages;       /* changed pages written in place */
	size_t patched;     /* files replaced from a librsync delta */
	size_t whole;       /* files copied whole (the target had none) */
	size_t gone;        /* files removed because the source dropped them meanwhile */
	size_t truncated;   /* relation files cut to the source's size */
	uint64_t helper_peak_kb; /* the helper's peak resident set, as it reported it */
};

/*
 * Apply the helper's stream IN to TIO until WIRE_DONE. SOURCE is the source's list, TARGET
 * the target's (for the sizes of its copies). Progress goes to R's host.
 */
int diffapply_run(struct recovery *r, struct targetio *tio, const struct diff_list *source,
		  const struct diff_list *target, struct wire_in *in, struct diffapply_totals *t,
		  struct errbuf *err);

#endif
