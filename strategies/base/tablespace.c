#include "base/tablespace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fsutil.h"
#include "xalloc.h"

bool tablespace_same_location(const char *a, const char *b)
{
	return path_relation(a, b) == PATH_SAME;
}

int tablespace_map(const char *location, unsigned oid, int source_dbid, int dbid,
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

int tablespace_check_place(const struct tablespace *ts, const char *target_datadir,
			   const char *source_datadir, bool source_local, struct errbuf *err)
{
	enum path_relation in_target = target_datadir ? path_relation(ts->target_location, target_datadir)
						     : PATH_UNRELATED;

	if (in_target == PATH_SAME || in_target == PATH_INSIDE)
		return errbuf_set(err, "tablespace %u would go to \"%s\", inside the target data "
				       "directory %s: move the tablespace out of the data directory "
				       "on the source",
				  ts->oid, ts->target_location, target_datadir);
	if (source_local && source_datadir && source_datadir[0] == '/' &&
	    path_relation(ts->target_location, source_datadir) != PATH_UNRELATED)
		return errbuf_set(err, "tablespace %u would go to \"%s\", which overlaps the source's "
				       "data directory %s on this host: the mirror must never write "
				       "into the primary's directory",
				  ts->oid, ts->target_location, source_datadir);
	return 0;
}

int tablespace_check_empty(const struct tablespace *ts, struct errbuf *err)
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

void tablespaces_free(struct tablespace *ts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(ts[i].source_location);
		free(ts[i].target_location);
	}
	free(ts);
}
