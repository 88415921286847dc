#include "pgbin.h"

#include <stdlib.h>
#include <unistd.h>

#include "xalloc.h"

char *pgbin_path(const char *program)
{
	const char *dir = getenv("PGBIN");
	char *path;

	if (dir && dir[0])
		return xasprintf("%s/%s", dir, program);
	path = xasprintf("%s/%s", DEFAULT_PGBIN, program);
	if (access(path, X_OK) == 0)
		return path;
	free(path);
	return xstrdup(program); /* let execvp search PATH */
}
