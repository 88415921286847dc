#include "base/tablespace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec.h"
#include "fsutil.h"
#include "pgconn.h"
#include "strategy.h"
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

/*
 * Is the mapped directory the target's own tablespace (its pg_tblspc/<oid> link points there)?
 * The host empties those with the data directory, so check() need not find them empty.
 */
static bool is_targets_own(const struct recovery *r, const struct tablespace *ts)
{
	char link[64], dest[4096];
	char *path;
	ssize_t n;

	snprintf(link, sizeof(link), "pg_tblspc/%u", ts->oid);
	path = path_join(r->target_datadir, link);
	n = readlink(path, dest, sizeof(dest) - 1);
	free(path);
	if (n <= 0)
		return false;
	dest[n] = '\0';
	return tablespace_same_location(dest, ts->target_location);
}

/*
 * The source's tablespaces (not pg_default/pg_global), each mapped for the target. With
 * check_empty, every mapped directory must be empty or absent, or be the target's own.
 */
int tablespace_list_source(PGconn *conn, const struct recovery *r, bool check_empty,
			    struct tablespace **out, size_t *nout, struct errbuf *err)
{
	static const char sql[] = "SELECT oid, pg_tablespace_location(oid) FROM pg_tablespace "
				  "WHERE spcname NOT IN ('pg_default', 'pg_global') ORDER BY oid";
	PGresult *res = pg_query(conn, sql, 0, NULL, err);
	struct tablespace *ts;
	bool local;
	int n;

	*out = NULL;
	*nout = 0;
	if (res == NULL)
		return -1;
	n = PQntuples(res);
	local = host_is_local(r->source_host);
	ts = xcalloc((size_t) n + 1, sizeof(*ts));
	for (int i = 0; i < n; i++) {
		ts[i].oid = (unsigned) strtoul(PQgetvalue(res, i, 0), NULL, 10);
		ts[i].source_location = xstrdup(PQgetvalue(res, i, 1));
		*nout = (size_t) i + 1;
		if (tablespace_map(ts[i].source_location, ts[i].oid, r->source_dbid, r->dbid, local,
				   &ts[i].target_location, err) != 0 ||
		    tablespace_check_place(&ts[i], r->target_datadir, r->source_datadir, local,
					   err) != 0 ||
		    (check_empty && !is_targets_own(r, &ts[i]) &&
		     tablespace_check_empty(&ts[i], err) != 0)) {
			PQclear(res);
			tablespaces_free(ts, *nout);
			*nout = 0;
			return -1;
		}
	}
	PQclear(res);
	*out = ts;
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* check */

/* The source itself was checked by the agent (base/sourcecheck): what is left is ours. */
