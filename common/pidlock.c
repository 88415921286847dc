#include "pidlock.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "xalloc.h"

static pid_t read_pid(const char *lockdir)
{
	char *pidfile = path_join(lockdir, "PID");
	char *text = NULL;
	size_t len;
	struct errbuf ignored;
	long pid = 0;

	if (read_small_file(pidfile, &text, &len, &ignored) == 0)
		pid = strtol(text, NULL, 10);
	free(text);
	free(pidfile);
	return pid > 0 ? (pid_t) pid : 0;
}

pid_t pidlock_holder(const char *lockdir)
{
	pid_t pid = read_pid(lockdir);

	if (pid > 0 && (kill(pid, 0) == 0 || errno == EPERM))
		return pid;
	return 0;
}

int pidlock_acquire(struct pidlock *lock, const char *lockdir, const char *program,
		    struct errbuf *err)
{
	char pidtext[32];
	char *pidfile;

	lock->dir = NULL; /* set once the lock is held: a refused lock owns nothing */
	lock->held = false;
	for (int attempt = 0; attempt < 2; attempt++) {
		pid_t holder;

		if (mkdir(lockdir, 0700) == 0)
			break;
		if (errno != EEXIST)
			return errbuf_set_errno(err, errno, "cannot create lock directory \"%s\"",
						lockdir);
		holder = pidlock_holder(lockdir);
		if (holder > 0)
			return errbuf_set(err,
					  "Lockfile %s indicates that an instance of %s is already "
					  "running with PID %d. If this is not the case, remove the "
					  "lockfile directory at %s",
					  lockdir, program, (int) holder, lockdir);
		/*
		 * The holder is gone, or died between mkdir and writing its PID. Give a fresh lock a
		 * moment to get its PID file, then treat it as stale.
		 */
		if (read_pid(lockdir) == 0)
			usleep(200 * 1000);
		if (pidlock_holder(lockdir) == 0 && remove_tree(lockdir, err) != 0)
			return errbuf_prefix(err, "cannot remove the stale lock \"%s\"", lockdir);
		if (attempt == 1)
			return errbuf_set(err, "cannot take the lock \"%s\": it keeps reappearing",
					  lockdir);
	}
	pidfile = path_join(lockdir, "PID");
	snprintf(pidtext, sizeof(pidtext), "%d\n", (int) getpid());
	if (write_file_durable(pidfile, pidtext, strlen(pidtext), 0600, err) != 0) {
		free(pidfile);
		rmdir(lockdir);
		return -1;
	}
	free(pidfile);
	lock->dir = xstrdup(lockdir);
	lock->held = true;
	return 0;
}

void pidlock_release(struct pidlock *lock)
{
	struct errbuf ignored;

	if (lock->held)
		remove_tree(lock->dir, &ignored);
	lock->held = false;
	free(lock->dir);
	lock->dir = NULL;
}
