/*
 * dirwalk: the safe walk beneath a target's root that every strategy writes through. A
 * directory is opened one component at a time with O_NOFOLLOW, so that nothing is reached
 * through a symbolic link the caller did not allow; missing directories may be created on the
 * way (as tar does); the last directory opened is kept for the next call.
 */
#ifndef SEGRECOVER_BASE_DIRWALK_H
#define SEGRECOVER_BASE_DIRWALK_H

#include <stdbool.h>
#include <stddef.h>

#include "errbuf.h"

struct dirwalk {
	int rootfd;          /* the caller's, not closed here */
	const char *root;    /* its path, for messages */
	int open_flags;      /* O_RDONLY or O_PATH, with which directories are opened */
	/* NULL: no link anywhere; else may the link at component INDEX (0 = below the root) be
	 * followed, FIRST being the first component of the path? */
	bool (*link_allowed)(size_t index, const char *first);
	const char *links_hint;  /* which links are allowed, for the refusal ("only pg_wal ...") */
	/* NULL: a missing directory is an error; else it is created (0700) and reported. */
	void (*created)(void *ctx, const char *rel);
	void *ctx;
	/* private: the last directory opened */
	char *cache_rel;
	int cache_fd;
};

/* Set W up; it holds nothing until the first dirwalk_open. */
void dirwalk_init(struct dirwalk *w, int rootfd, const char *root, int open_flags);

/*
 * The directory REL ("" is the root) beneath the root, opened: the descriptor stays W's (valid
 * until the next call or dirwalk_forget). On failure -1, *errnum the errno (ELOOP for a link
 * that is not allowed, ENOTDIR for something that is no directory) and ERR filled.
 */
int dirwalk_open(struct dirwalk *w, const char *rel, int *errnum, struct errbuf *err);

/* Close the kept directory: after a removal or a rename, the path may name another one. */
void dirwalk_forget(struct dirwalk *w);

#endif
