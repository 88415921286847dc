/* diffwire: the frame types of the differential strategy's stream with its helper (base/wire). */
#ifndef SEGRECOVER_DIFFERENTIAL_DIFFWIRE_H
#define SEGRECOVER_DIFFERENTIAL_DIFFWIRE_H

#include "base/wire.h"

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

#endif
