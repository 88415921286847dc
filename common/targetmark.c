#include "targetmark.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "strbuf.h"

static const char *state_word(enum target_mark_state state)
{
	return state == TARGET_MARK_STARTING ? "starting" : "copying";
}

int targetmark_write(const char *datadir, const char *strategy, enum target_mark_state state,
		     struct errbuf *err)
{
	char *path = path_join(datadir, TARGET_MARK_FILE);
	struct strbuf text = STRBUF_INIT;
	int rc;

	strbuf_init(&text, 128);
	strbuf_addf(&text, "# segrecover is rebuilding this directory; rerun the recovery to finish it\n"
			   "strategy=%s\nstate=%s\npid=%d\n",
		    strategy, state_word(state), (int) getpid());
	rc = write_file_durable(path, text.buf, text.len, 0600, err);
	strbuf_release(&text);
	free(path);
	return rc;
}

void targetmark_read(const char *datadir, struct target_mark *mark)
{
	char *path = path_join(datadir, TARGET_MARK_FILE);
	char *text = NULL;
	size_t len;
	struct errbuf ignored;

	memset(mark, 0, sizeof(*mark));
	if (!path_exists(path)) {
		free(path);
		return;
	}
	mark->state = TARGET_MARK_COPYING;
	if (read_small_file(path, &text, &len, &ignored) == 0) {
		for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
			if (strncmp(line, "strategy=", 9) == 0)
				snprintf(mark->strategy, sizeof(mark->strategy), "%s", line + 9);
			else if (strcmp(line, "state=starting") == 0)
				mark->state = TARGET_MARK_STARTING;
		}
	}
	free(text);
	free(path);
}

int targetmark_remove(const char *datadir, struct errbuf *err)
{
	char *path = path_join(datadir, TARGET_MARK_FILE);
	int rc = 0;

	if (unlink(path) != 0 && errno != ENOENT)
		rc = errbuf_set_errno(err, errno, "cannot remove \"%s\"", path);
	else
		rc = fsync_path(datadir, true, err);
	free(path);
	return rc;
}

bool targetmark_is_own_file(const char *name)
{
	return strcmp(name, TARGET_LOCK_FILE) == 0 || strcmp(name, TARGET_MARK_FILE) == 0;
}

bool targetmark_is_coordinator_file(const char *rel)
{
	static const char *const names[] = { "gprecoverseg.lock", "gpfts.lock", "gpinitstandby.lock",
					     STANDBY_JOURNAL_FILE };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t n = strlen(names[i]);

		if (strncmp(rel, names[i], n) == 0 && (rel[n] == '\0' || rel[n] == '/'))
			return true;
	}
	return false;
}
