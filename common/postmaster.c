#include "postmaster.h"

#include <ctype.h>
#include <dirent.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errbuf.h"
#include "fsutil.h"
#include "xalloc.h"

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

/*
 * The directory a process works in, as a (device, inode) pair: the same whatever mount
 * namespace either side is in, where its path text would not be (a host of the multi-host demo,
 * a container, see another tree at /data).
 */
static bool cwd_id(pid_t pid, struct stat *st)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/cwd", (int) pid);
	return stat(path, st) == 0;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* The PID in DIR/postmaster.pid (DIR may be a /proc/PID/cwd path), 0 when there is none. */
static long pidfile_pid(const char *dir, bool *unreadable)
{
	char *pidfile = path_join(dir, "postmaster.pid");
	char *text = NULL;
	size_t len;
	struct errbuf ignored;
	long value = 0;

	*unreadable = false;
	if (path_exists(pidfile)) {
		if (read_small_file(pidfile, &text, &len, &ignored) == 0)
			value = strtol(text, NULL, 10);
		else
			*unreadable = true;
	}
	free(text);
	free(pidfile);
	/* A negative PID means a single-user backend, which also owns the directory. */
	return value < 0 ? -value : value;
}

/* Does PID name a live postgres process working in the directory DIR_ST? */
static enum postmaster_state pid_state(long value, const struct stat *dir_st)
{
	struct stat cwd;
	char buf[8];

	if (value <= 0 || value > INT_MAX || inspect((pid_t) value) != PROC_POSTGRES)
		return POSTMASTER_STALE;
	if (!cwd_id((pid_t) value, &cwd))
		/* We may not look at another user's process: never assume it is gone. */
		return proc_cwd((pid_t) value, buf, sizeof(buf)) < 0 ? POSTMASTER_RUNNING
								       : POSTMASTER_STALE;
	/* A postmaster works in its data directory (ChangeToDataDir): another one's PID is stale. */
	return same_file(&cwd, dir_st) ? POSTMASTER_RUNNING : POSTMASTER_STALE;
}

enum postmaster_state postmaster_state(const char *datadir, pid_t *pid)
{
	struct stat dir_st;
	bool unreadable;
	long value = pidfile_pid(datadir, &unreadable);

	if (pid)
		*pid = value > 0 && value <= INT_MAX ? (pid_t) value : 0;
	if (unreadable)
		return POSTMASTER_RUNNING; /* present but unreadable: someone else's server */
	if (value == 0) {
		char *pidfile = path_join(datadir, "postmaster.pid");
		bool present = path_exists(pidfile);

		free(pidfile);
		return present ? POSTMASTER_STALE : POSTMASTER_NONE;
	}
	if (stat(datadir, &dir_st) != 0)
		return POSTMASTER_STALE;
	return pid_state(value, &dir_st);
}

bool postmaster_running(const char *datadir, pid_t *pid)
{
	return postmaster_state(datadir, pid) == POSTMASTER_RUNNING;
}

enum postmaster_status postmaster_status_of(const char *text)
{
	static const struct {
		const char *word;
		enum postmaster_status status;
	} words[] = {
		{ "starting", POSTMASTER_STATUS_STARTING },
		{ "stopping", POSTMASTER_STATUS_STOPPING },
		{ "ready", POSTMASTER_STATUS_READY },
		{ "standby", POSTMASTER_STATUS_STANDBY },
	};
	const char *line = text;
	size_t len;

	/* LOCK_FILE_LINE_PM_STATUS is line 8; the server pads the word with spaces to 8 characters. */
	for (int n = 1; n < 8 && line != NULL; n++) {
		line = strchr(line, '\n');
		if (line != NULL)
			line++;
	}
	if (line == NULL)
		return POSTMASTER_STATUS_UNKNOWN;
	len = strcspn(line, " \n");
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (len == strlen(words[i].word) && strncmp(line, words[i].word, len) == 0)
			return words[i].status;
	return POSTMASTER_STATUS_UNKNOWN;
}

enum postmaster_status postmaster_status(const char *datadir)
{
	char *pidfile = path_join(datadir, "postmaster.pid");
	char *text = NULL;
	size_t len;
	struct errbuf ignored;
	enum postmaster_status status = POSTMASTER_STATUS_UNKNOWN;

	if (read_small_file(pidfile, &text, &len, &ignored) == 0)
		status = postmaster_status_of(text);
	free(text);
	free(pidfile);
	return status;
}

/* How REAL stands to the directory a process works in, by inode: see path_relation. */
static enum path_relation relation_to(const char *real, const struct stat *real_st, pid_t pid,
				      const struct stat *cwd)
{
	char path[64];
	char *up;
	int fd;

	if (real_st && same_file(real_st, cwd))
		return PATH_SAME;
	/* REAL lies inside its directory: one of REAL's ancestors is that directory. */
	up = xstrdup(real);
	for (char *slash = strrchr(up, '/'); slash != NULL; slash = strrchr(up, '/')) {
		struct stat st;

		if (slash == up)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (stat(up, &st) == 0 && same_file(&st, cwd)) {
			free(up);
			return PATH_INSIDE;
		}
		if (slash == up)
			break;
	}
	free(up);
	if (real_st == NULL)
		return PATH_UNRELATED;
	/* Its directory lies inside REAL: walk up from it, in its own view, until the root. */
	snprintf(path, sizeof(path), "/proc/%d/cwd", (int) pid);
	fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	for (int depth = 0; fd >= 0 && depth < 256; depth++) {
		struct stat st, parent_st;
		int parent = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);

		if (parent < 0 || fstat(fd, &st) != 0 || fstat(parent, &parent_st) != 0) {
			if (parent >= 0)
				close(parent);
			break;
		}
		close(fd);
		fd = parent;
		if (same_file(&parent_st, real_st)) {
			close(fd);
			return PATH_CONTAINS;
		}
		if (same_file(&parent_st, &st))
			break; /* its root */
	}
	if (fd >= 0)
		close(fd);
	return PATH_UNRELATED;
}

bool postgres_process_near(const char *real, struct postgres_process *found)
{
	DIR *proc = opendir("/proc");
	struct dirent *de;
	struct stat real_st;
	bool have_real = stat(real, &real_st) == 0;
	bool hit = false;

	if (proc == NULL)
		return false;
	while (!hit && (de = readdir(proc)) != NULL) {
		struct stat cwd;
		char dirpath[64];
		long value;
		char *end;
		bool unreadable;
		enum path_relation rel;

		if (!isdigit((unsigned char) de->d_name[0]))
			continue;
		value = strtol(de->d_name, &end, 10);
		if (*end != '\0' || value <= 0 || value == (long) getpid())
			continue;
		if (inspect((pid_t) value) != PROC_POSTGRES || !cwd_id((pid_t) value, &cwd))
			continue;
		rel = relation_to(real, have_real ? &real_st : NULL, (pid_t) value, &cwd);
		if (rel == PATH_UNRELATED)
			continue;
		found->pid = (pid_t) value;
		found->relation = rel;
		if (proc_cwd((pid_t) value, found->cwd, sizeof(found->cwd)) != 1)
			snprintf(found->cwd, sizeof(found->cwd), "(unknown)");
		/* Its directory's postmaster, read through its own view of the directory. */
		snprintf(dirpath, sizeof(dirpath), "/proc/%ld/cwd", value);
		found->postmaster = (pid_t) pidfile_pid(dirpath, &unreadable);
		found->postmaster_runs = unreadable || pid_state(found->postmaster, &cwd) == POSTMASTER_RUNNING;
		hit = true;
	}
	closedir(proc);
	return hit;
}
