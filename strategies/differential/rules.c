#include "differential/rules.h"

#include <stdbool.h>
#include <string.h>

#include "targetmark.h"

/* Top-level names that belong to the target, whatever the source holds. */
static const char *const own_names[] = { TARGET_LOCK_FILE, TARGET_MARK_FILE, "standby.signal",
					 "recovery.signal", NULL };

/* Top-level files and trees never copied: the server's runtime state and backup leftovers. */
static const char *const skipped_names[] = {
	"postmaster.pid", "postmaster.opts", "backup_label", "backup_label.old", "tablespace_map",
	"tablespace_map.old", "postgresql.auto.conf.tmp", "current_logfiles.tmp", "db_dumps",
	"promote", "backups", NULL,
};

/* Top-level directories kept, but whose contents are never copied. */
static const char *const emptied_dirs[] = {
	"pg_dynshmem", "pg_notify", "pg_replslot", "pg_serial", "pg_snapshots", "pg_stat_tmp",
	"pg_subtrans", "pg_anchor_snapshots", NULL,
};

static bool in_list(const char *const *list, const char *name, size_t len)
{
	for (size_t i = 0; list[i]; i++)
		if (strlen(list[i]) == len && strncmp(list[i], name, len) == 0)
			return true;
	return false;
}

static bool has_component(const char *path, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = path; p; p = strchr(p, '/'), p = p ? p + 1 : NULL)
		if (strncmp(p, name, n) == 0 && (p[n] == '/' || p[n] == '\0'))
			return true;
	return false;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* pg_wal keeps its history files and archive_status; segments stream through the slot. */
static enum diff_rule wal_rule(const char *rest)
{
	if (strcmp(rest, "archive_status") == 0)
		return DIFF_SYNC;
	if (strchr(rest, '/') == NULL && ends_with(rest, ".history"))
		return DIFF_SYNC;
	return DIFF_SKIP;
}

enum diff_rule diff_rule_of(const char *path, const char *log_directory)
{
	size_t top = strcspn(path, "/");

	if (log_directory && log_directory[0]) {
		size_t n = strlen(log_directory);

		if (strncmp(path, log_directory, n) == 0 && (path[n] == '/' || path[n] == '\0'))
			return DIFF_OWN;
	}
	if (path[top] == '\0' && in_list(own_names, path, top))
		return DIFF_OWN;
	if (in_list(skipped_names, path, top))
		return DIFF_SKIP;
	if (path[top] == '/' && in_list(emptied_dirs, path, top))
		return DIFF_SKIP;
	if (top == 6 && strncmp(path, "pg_wal", 6) == 0 && path[top] == '/')
		return wal_rule(path + top + 1);
	if (has_component(path, "pgsql_tmp") || ends_with(path, DIFF_PATCH_SUFFIX))
		return DIFF_SKIP;
	return DIFF_SYNC;
}
