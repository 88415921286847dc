#include "incremental/sourcefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "xalloc.h"

int source_file_use(struct source_file *f, const char *datadir, const char *path)
{
	char *full;

	if (f->path != NULL && strcmp(f->path, path) == 0)
		return f->fd;
	source_file_close(f);
	full = path_join(datadir, path);
	f->path = xstrdup(path);
	f->fd = open(full, O_RDONLY | O_CLOEXEC);
	f->err = f->fd < 0 ? errno : 0;
	free(full);
	return f->fd;
}

void source_file_close(struct source_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	free(f->path);
	f->path = NULL;
	f->fd = -1;
	f->err = 0;
}
