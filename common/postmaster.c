#include "postmaster.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errbuf.h"
#include "fsutil.h"

/* What /proc says of one process. */
enum proc_kind { PROC_GONE, PROC_OTHER, PROC_POSTGRES };

static enum proc_kind inspect(pid_t pid)
{
	char path[64], buf[512];
	FILE *f;
	size_t n;
	char *paren;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
	f = fopen(path, "re");
	if (f == NULL)
		return PROC_GONE;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* "pid (comm) S ...": comm may hold spaces and parentheses, the state follows the last ')'. */
	paren = strrchr(buf, ')');
	if (paren == NULL || paren[1] != ' ')
		return PROC_GONE;
	/* A zombie is a server that died and was not reaped yet: it holds nothing. */
	if (paren[2] == 'Z' || paren[2] == 'X' || paren[2] == 'x')
		return PROC_GONE;
	{
		char *open = strchr(buf, '(');
		size_t len = open ? (size_t) (paren - open - 1) : 0;

		if (open == NULL)
			return PROC_GONE;
		if ((len >= 8 && strncmp(open + 1, "postgres", 8) == 0) ||
		    (len >= 10 && strncmp(open + 1, "postmaster", 10) == 0))
			return PROC_POSTGRES;
	}
	return PROC_OTHER;
}

/* 1: read the process's cwd into BUF; 0: it is gone; -1: we may not look (another user's). */
static int proc_cwd(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/cwd", (int) pid);
	n = readlink(path, buf, len - 1);
	if (n < 0)
		return errno == EACCES || errno == EPERM ? -1 : 0;
	buf[n] = '\0';
	return 1;
}

enum postmaster_state postmaster_state(const char *datadir, pid_t *pid)
{
	char *pidfile = path_join(datadir, "postmaster.pid");
	char *text = NULL, *real = NULL;
	char cwd[PATH_MAX];
	size_t len;
	struct errbuf ignored;
	long value;
	enum postmaster_state state = POSTMASTER_STALE;
	int seen;

	if (pid)
		*pid = 0;
	if (!path_exists(pidfile)) {
		free(pidfile);
		return POSTMASTER_NONE;
	}
	if (read_small_file(pidfile, &text, &len, &ignored) != 0) {
		free(pidfile);
		/* Present but unreadable: someone else's server; never assume it is gone. */
		return POSTMASTER_RUNNING;
	}
	free(pidfile);
	value = strtol(text, NULL, 10);
	free(text);
	/* A negative PID means a single-user backend, which also owns the directory. */
	if (value < 0)
		value = -value;
	if (value <= 0 || value > INT_MAX)
		return POSTMASTER_STALE;
	if (pid)
		*pid = (pid_t) value;
	if (inspect((pid_t) value) != PROC_POSTGRES)
		return POSTMASTER_STALE;
	seen = proc_cwd((pid_t) value, cwd, sizeof(cwd));
	if (seen < 0)
		return POSTMASTER_RUNNING;
	if (seen == 0)
		return POSTMASTER_STALE;
	/* A postmaster works in its data directory (ChangeToDataDir): another one's PID is stale. */
	real = realpath(datadir, NULL);
	if (real != NULL && strcmp(real, cwd) == 0)
		state = POSTMASTER_RUNNING;
	free(real);
	return state;
}

bool postmaster_running(const char *datadir, pid_t *pid)
{
	return postmaster_state(datadir, pid) == POSTMASTER_RUNNING;
}

bool postgres_process_near(const char *real, struct postgres_process *found)
{
	DIR *proc = opendir("/proc");
	struct dirent *de;
	bool hit = false;

	if (proc == NULL)
		return false;
	while (!hit && (de = readdir(proc)) != NULL) {
		char cwd[PATH_MAX];
		long value;
		char *end;

		if (!isdigit((unsigned char) de->d_name[0]))
			continue;
		value = strtol(de->d_name, &end, 10);
		if (*end != '\0' || value <= 0 || value == (long) getpid())
			continue;
		if (inspect((pid_t) value) != PROC_POSTGRES || proc_cwd((pid_t) value, cwd, sizeof(cwd)) != 1)
			continue;
		if (path_relation(real, cwd) == PATH_UNRELATED)
			continue;
		found->pid = (pid_t) value;
		snprintf(found->cwd, sizeof(found->cwd), "%s", cwd);
		hit = true;
	}
	closedir(proc);
	return hit;
}
