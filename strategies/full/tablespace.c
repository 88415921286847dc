#include "full/tablespace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fsutil.h"
#include "xalloc.h"

bool full_same_location(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	while (la > 1 && a[la - 1] == '/')
		la--;
	while (lb > 1 && b[lb - 1] == '/')
		lb--;
	return la == lb && memcmp(a, b, la) == 0;
}

int full_tablespace_map(const char *location, unsigned oid, int source_dbid, int dbid,
			bool source_local, char **target, struct errbuf *err)
{
	char suffix[32];
	size_t len, slen;

	*target = NULL;
	if (location == NULL || location[0] != '/')
		return errbuf_set(err, "tablespace %u is at \"%s\", which is not an absolute path "
				       "(an in-place tablespace?): the full strategy cannot map it",
				  oid, location ? location : "");
	len = strlen(location);
	while (len > 1 && location[len - 1] == '/')
		len--;
	slen = (size_t) snprintf(suffix, sizeof(suffix), "/%d", source_dbid);
	if (len > slen && memcmp(location + len - slen, suffix, slen) == 0) {
		*target = xasprintf("%.*s/%d", (int) (len - slen), location, dbid);
		return 0;
	}
	if (source_local)
		return errbuf_set(err, "tablespace %u is at \"%s\", which does not end in \"/%d\" (the "
				       "source dbid), and the source runs on this host: the mirror "
				       "would write into the primary's tablespace. Recover onto another "
				       "host, or use per-dbid tablespace directories "
				       "(<location>/<dbid>)",
				  oid, location, source_dbid);
	/* Another host: the same path there is the mirror's own. */
	*target = xstrndup(location, len);
	return 0;
}

bool full_path_is_under(const char *path, const char *dir)
{
	size_t lp = strlen(path), ld = strlen(dir);

	while (lp > 1 && path[lp - 1] == '/')
		lp--;
	while (ld > 1 && dir[ld - 1] == '/')
		ld--;
	if (ld == 1 && dir[0] == '/')
		return path[0] == '/';
	return lp >= ld && memcmp(path, dir, ld) == 0 && (lp == ld || path[ld] == '/');
}

int full_tablespace_check_place(const struct full_tablespace *ts, const char *target_datadir,
				const char *source_datadir, bool source_local, struct errbuf *err)
{
	if (target_datadir && full_path_is_under(ts->target_location, target_datadir))
		return errbuf_set(err, "tablespace %u would go to \"%s\", inside the target data "
				       "directory %s: move the tablespace out of the data directory "
				       "on the source",
				  ts->oid, ts->target_location, target_datadir);
	if (source_local && source_datadir && source_datadir[0] == '/' &&
	    (full_path_is_under(ts->target_location, source_datadir) ||
	     full_path_is_under(source_datadir, ts->target_location)))
		return errbuf_set(err, "tablespace %u would go to \"%s\", which overlaps the source's "
				       "data directory %s on this host: the mirror must never write "
				       "into the primary's directory",
				  ts->oid, ts->target_location, source_datadir);
	return 0;
}

int full_tablespace_check_empty(const struct full_tablespace *ts, struct errbuf *err)
{
	struct stat st;

	if (lstat(ts->target_location, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		return errbuf_set_errno(err, errno, "cannot stat tablespace directory \"%s\"",
					ts->target_location);
	}
	if (!S_ISDIR(st.st_mode))
		return errbuf_set(err, "tablespace %u's directory \"%s\" exists and is not a "
				       "directory", ts->oid, ts->target_location);
	if (!dir_is_empty(ts->target_location))
		return errbuf_set(err, "tablespace %u's directory \"%s\" is not empty (files of the "
				       "instance that failed?): empty it, then run gprecoverseg -F "
				       "again",
				  ts->oid, ts->target_location);
	return 0;
}

int full_tablespace_prepare(const struct full_tablespace *ts, struct full_syncer *syncer,
			    struct errbuf *err)
{
	char *path;

	if (full_tablespace_check_empty(ts, err) != 0)
		return -1;
	/*
	 * Every directory this creates, and the first one that existed, gets an fsync: walk up
	 * from the location to the first ancestor that exists before making them.
	 */
	path = xstrdup(ts->target_location);
	for (;;) {
		bool existed = path_exists(path);
		char *slash;

		full_syncer_dir(syncer, path);
		slash = strrchr(path, '/');
		if (existed || slash == NULL || slash == path)
			break;
		*slash = '\0';
	}
	free(path);
	if (mkdir_p(ts->target_location, 0700, err) != 0)
		return errbuf_prefix(err, "tablespace %u", ts->oid);
	if (chmod(ts->target_location, 0700) != 0)
		return errbuf_set_errno(err, errno, "cannot set the mode of \"%s\"", ts->target_location);
	return 0;
}

void full_tablespaces_free(struct full_tablespace *ts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(ts[i].source_location);
		free(ts[i].target_location);
	}
	free(ts);
}
