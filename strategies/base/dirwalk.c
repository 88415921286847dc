#include "base/dirwalk.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xalloc.h"

void dirwalk_init(struct dirwalk *w, int rootfd, const char *root, int open_flags)
{
	memset(w, 0, sizeof(*w));
	w->rootfd = rootfd;
	w->root = root;
	w->open_flags = open_flags;
	w->cache_fd = -1;
}

void dirwalk_forget(struct dirwalk *w)
{
	if (w->cache_fd >= 0)
		close(w->cache_fd);
	w->cache_fd = -1;
	free(w->cache_rel);
	w->cache_rel = NULL;
}

/* Open component NAME below CUR: a real directory, or a link the caller allows. */
static int open_component(struct dirwalk *w, int cur, const char *name, size_t index,
			  const char *first)
{
	int flags = w->open_flags | O_DIRECTORY | O_CLOEXEC;
	int fd = openat(cur, name, flags | O_NOFOLLOW);
	struct stat st;

	if (fd >= 0 || (errno != ELOOP && errno != ENOTDIR))
		return fd;
	/* O_PATH with O_NOFOLLOW gives ENOTDIR for a link; see whether it is one. */
	if (fstatat(cur, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISLNK(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	if (w->link_allowed == NULL || !w->link_allowed(index, first)) {
		errno = ELOOP;
		return -1;
	}
	return openat(cur, name, flags);
}

int dirwalk_open(struct dirwalk *w, const char *rel, int *errnum, struct errbuf *err)
{
	char *copy, *save = NULL;
	const char *first = NULL;
	int cur = w->rootfd;
	size_t index = 0;

	*errnum = 0;
	if (rel[0] == '\0')
		return w->rootfd;
	if (w->cache_rel && strcmp(w->cache_rel, rel) == 0)
		return w->cache_fd;
	dirwalk_forget(w);
	copy = xstrdup(rel);
	for (char *tok = strtok_r(copy, "/", &save); tok; tok = strtok_r(NULL, "/", &save), index++) {
		int next;

		if (first == NULL)
			first = tok;
		next = open_component(w, cur, tok, index, first);
		if (next < 0 && errno == ENOENT && w->created) {
			/* A member whose directory was not sent first: make it, as tar does. */
			if (mkdirat(cur, tok, 0700) == 0) {
				char *made = xstrndup(rel, (size_t) (tok - copy) + strlen(tok));

				w->created(w->ctx, made);
				free(made);
			}
			next = open_component(w, cur, tok, index, first);
		}
		if (next < 0) {
			int e = errno;
			int len = (int) ((size_t) (tok - copy) + strlen(tok));

			*errnum = e;
			if (e == ELOOP || e == ENOTDIR)
				errbuf_set(err, "\"%.*s\" in %s is a symbolic link or not a directory: "
						"refusing to write through it%s%s%s",
					   len, rel, w->root, w->links_hint ? " (" : "",
					   w->links_hint ? w->links_hint : "", w->links_hint ? ")" : "");
			else
				errbuf_set_errno(err, e, "cannot open directory \"%s/%.*s\"", w->root, len,
						 rel);
			if (cur != w->rootfd)
				close(cur);
			free(copy);
			return -1;
		}
		if (cur != w->rootfd)
			close(cur);
		cur = next;
	}
	free(copy);
	w->cache_rel = xstrdup(rel);
	w->cache_fd = cur;
	return cur;
}
