#include "full/tablespace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "xalloc.h"

/* DATADIR/pg_tblspc/<oid> -> the mapped location; an existing identical link is fine. */
static int link_early(const struct tablespace *ts, const char *datadir, struct errbuf *err)
{
	char name[32], dest[4096];
	char *tblspc = path_join(datadir, "pg_tblspc");
	char *link;
	ssize_t n;
	int rc = 0;

	if (mkdir_p(tblspc, 0700, err) != 0) {
		free(tblspc);
		return -1;
	}
	snprintf(name, sizeof(name), "%u", ts->oid);
	link = path_join(tblspc, name);
	if (symlink(ts->target_location, link) != 0) {
		int saved = errno;

		n = saved == EEXIST ? readlink(link, dest, sizeof(dest) - 1) : -1;
		if (n > 0)
			dest[n] = '\0';
		if (n <= 0 || strcmp(dest, ts->target_location) != 0)
			rc = errbuf_set_errno(err, saved, "cannot link \"%s\" to \"%s\"", link,
					      ts->target_location);
	}
	free(link);
	free(tblspc);
	return rc;
}

int full_tablespace_prepare(const struct tablespace *ts, const char *datadir,
			    struct full_syncer *syncer, struct errbuf *err)
{
	char *path;

	if (tablespace_check_empty(ts, err) != 0)
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
	return link_early(ts, datadir, err);
}

