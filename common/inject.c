#include "inject.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char inject_tag[32];
static void (*before_pause)(void *arg);
static void *before_pause_arg;

void inject_set_before_pause(void (*fn)(void *arg), void *arg)
{
	before_pause = fn;
	before_pause_arg = arg;
}

void inject_set_tag(const char *tag)
{
	snprintf(inject_tag, sizeof(inject_tag), "%s", tag);
}

void inject_point(const char *name)
{
	const char *want = getenv("SEGRECOVER_INJECT_PAUSE");
	const char *file = getenv("SEGRECOVER_INJECT_FILE");
	const char *at;
	size_t len;

	if (want == NULL)
		return;
	at = strchr(want, '@');
	len = at ? (size_t) (at - want) : strlen(want);
	if (strlen(name) != len || strncmp(want, name, len) != 0 ||
	    (at != NULL && strcmp(at + 1, inject_tag) != 0))
		return;
	if (file != NULL && file[0] != '\0') {
		char text[64];
		int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (fd >= 0) {
			int n = snprintf(text, sizeof(text), "%d %s\n", (int) getpid(), name);

			if (write(fd, text, (size_t) n) < 0) {
				/* the test then times out waiting: nothing else to do here */
			}
			close(fd);
		}
	}
	if (before_pause)
		before_pause(before_pause_arg);
	raise(SIGSTOP);
}
