#include "full/tablespace.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fsutil.h"
#include "xalloc.h"

int full_tablespace_prepare(const struct tablespace *ts, struct full_syncer *syncer,
			    struct errbuf *err)
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
	return 0;
}

