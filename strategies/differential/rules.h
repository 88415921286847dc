/*
 * rules: which paths of a data directory a differential copy makes equal, which it never
 * copies (and removes from the target), and which each side keeps as its own. Greenplum 7's
 * rsync exclusions, made explicit.
 */
#ifndef SEGRECOVER_DIFFERENTIAL_RULES_H
#define SEGRECOVER_DIFFERENTIAL_RULES_H

#define DIFF_PATCH_SUFFIX ".segrecover-new" /* a patched file before it replaces the old one */

enum diff_rule {
	DIFF_SYNC = 0, /* made equal to the source's */
	DIFF_SKIP,     /* never copied; the target's is removed (runtime state, WAL segments) */
	DIFF_OWN,      /* neither copied nor removed: the server logs, the recovery's own files */
};

/* The rule of PATH (relative, no "./"); LOG_DIRECTORY is the relative log_directory or NULL. */
enum diff_rule diff_rule_of(const char *path, const char *log_directory);

#endif
