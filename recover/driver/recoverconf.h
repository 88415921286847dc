/*
 * recoverconf: Greenplum's recovery configuration file (gprecoverseg -i reads it, -o writes it):
 * one failed instance a line, "address|port|datadir" for in-place, followed by one space and
 * "address|port|datadir" for a new location; optional hostname field; optional I|/D|/F| type.
 */
#ifndef SEGRECOVER_RECOVERCONF_H
#define SEGRECOVER_RECOVERCONF_H

#include <stdbool.h>
#include <stddef.h>

#include "errbuf.h"
#include "segment.h"
#include "strbuf.h"

/* A new location's port: from here to 65535 (below is privileged). */
#define RECOVERCONF_MIN_NEW_PORT 1024

struct recoverconf_location {
	char *hostname; /* NULL when the line gave 3 parts (then hostname := address) */
	char *address;
	int port;
	char *datadir;
};

struct recoverconf_entry {
	int line;   /* 1-based line number in the file */
	char type;  /* 0 (none given), 'I' incremental, 'D' differential, 'F' full */
	struct recoverconf_location failed;
	bool has_target;                   /* a new location was given */
	struct recoverconf_location target;
};

struct recoverconf {
	struct recoverconf_entry *entries;
	size_t nentries;
};

/*
 * Parse the text of a file (FILENAME is used in messages). Every error names the line:
 * "line N of file F: ...". Checks each line on its own (group and part counts, equal part
 * counts in both groups, type prefix, port 1-65535, absolute data directory, no empty field)
 * and the lines together (the same failed instance twice; an in-place instance that is also a
 * target; the same target twice — as Greenplum words them).
 */
int recoverconf_parse(const char *text, const char *filename, struct recoverconf *out,
		      struct errbuf *err);
int recoverconf_read(const char *path, struct recoverconf *out, struct errbuf *err);
void recoverconf_free(struct recoverconf *conf);

/* One -o line: "address|port|datadir", plus " address|port|datadir" when target is not NULL. */
void recoverconf_format_line(struct strbuf *out, const struct segment *failed,
			     const struct segment *target);

#endif
