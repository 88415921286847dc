/* hba: the pg_hba.conf entries a primary needs so that its (new) mirror can replicate, and merging them in. */
#ifndef SEGRECOVER_HBA_H
#define SEGRECOVER_HBA_H

#include <stdbool.h>
#include <stddef.h>

#include "errbuf.h"
#include "strbuf.h"

#define HBA_MARKER "# segrecover: replication for recovered mirrors"

/*
 * The entries for a mirror at MIRROR_ADDRESS (IPs resolved with getaddrinfo; IPv4 as /32,
 * IPv6 as /128) or, with use_hostnames, MIRROR_HOSTNAME: "host all USER <addr> trust",
 * "host replication USER <addr> trust", plus "host replication USER samehost trust" — as
 * Greenplum writes them. One entry per line into out, no duplicates.
 */
int hba_entries_for_mirror(const char *mirror_hostname, const char *mirror_address,
			   const char *user, bool use_hostnames, struct strbuf *out,
			   struct errbuf *err);

/*
 * The new pg_hba.conf text: OLD_TEXT unchanged, then the HBA_MARKER line and every entry of
 * ENTRIES (newline-separated) that OLD_TEXT does not already have (compared with whitespace
 * collapsed, comments ignored). *changed tells whether anything was added.
 */
void hba_merge(const char *old_text, const char *entries, struct strbuf *out, bool *changed);

/* Merge ENTRIES into the file at PATH (temp file + rename, same mode); *changed as above. */
int hba_update_file(const char *path, const char *entries, bool *changed, struct errbuf *err);

#endif
