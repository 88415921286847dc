#include "log.h"

#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xalloc.h"

static struct {
	char program[64];
	char host[256];
	char user[64];
	char path[4096];
	FILE *file;
	FILE *console;
	enum log_verbosity verbosity;
	void (*hook)(void);
	void (*after_hook)(void);
} logstate = { .program = "segrecover", .verbosity = LOG_NORMAL };

const char *log_level_name(enum log_level level)
{
	switch (level) {
	case LOG_DEBUG:
		return "DEBUG";
	case LOG_INFO:
		return "INFO";
	case LOG_WARNING:
		return "WARNING";
	case LOG_ERROR:
		return "ERROR";
	case LOG_CRITICAL:
		return "CRITICAL";
	}
	return "INFO";
}

void log_format_line(char *out, size_t outlen, time_t when, pid_t pid, const char *program,
		     const char *host, const char *user, enum log_level level, const char *msg)
{
	struct tm tm;
	char stamp[32];

	localtime_r(&when, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d:%H:%M:%S", &tm);
	snprintf(out, outlen, "%s:%06d %s:%s:%s-[%s]:-%s", stamp, (int) pid, program, host, user,
		 log_level_name(level), msg);
}

static void identify_self(void)
{
	struct passwd *pw = getpwuid(geteuid());
	char *dot;

	if (gethostname(logstate.host, sizeof(logstate.host)) != 0)
		snprintf(logstate.host, sizeof(logstate.host), "localhost");
	logstate.host[sizeof(logstate.host) - 1] = '\0';
	/* gplog uses the short host name */
	dot = strchr(logstate.host, '.');
	if (dot)
		*dot = '\0';
	snprintf(logstate.user, sizeof(logstate.user), "%s", pw ? pw->pw_name : "unknown");
}

static int ensure_dir(const char *dir)
{
	struct stat st;

	if (stat(dir, &st) == 0)
		return S_ISDIR(st.st_mode) ? 0 : -1;
	return mkdir(dir, 0700);
}

int log_init(const char *program, const char *logdir, enum log_verbosity verbosity,
	     struct errbuf *err)
{
	char defdir[4096];
	char day[16];
	time_t now = time(NULL);
	struct tm tm;

	snprintf(logstate.program, sizeof(logstate.program), "%s", program);
	logstate.verbosity = verbosity;
	if (logstate.console == NULL)
		logstate.console = stdout;
	identify_self();

	if (logdir == NULL) {
		const char *home = getenv("HOME");
		struct passwd *pw = getpwuid(geteuid());

		if ((home == NULL || home[0] == '\0') && pw)
			home = pw->pw_dir;
		if (home == NULL)
			home = "/tmp";
		snprintf(defdir, sizeof(defdir), "%s/gpAdminLogs", home);
		logdir = defdir;
	}
	if (ensure_dir(logdir) != 0)
		return errbuf_set_errno(err, errno, "cannot create log directory \"%s\"", logdir);
	localtime_r(&now, &tm);
	strftime(day, sizeof(day), "%Y%m%d", &tm);
	if ((size_t) snprintf(logstate.path, sizeof(logstate.path), "%s/%s_%s.log", logdir, program,
			      day) >= sizeof(logstate.path)) {
		logstate.path[0] = '\0';
		return errbuf_set(err, "log directory path \"%s\" is too long", logdir);
	}
	logstate.file = fopen(logstate.path, "a");
	if (logstate.file == NULL) {
		int e = errno;

		logstate.path[0] = '\0';
		return errbuf_set_errno(err, e, "cannot open log file in \"%s\"", logdir);
	}
	return 0;
}

void log_close(void)
{
	if (logstate.file)
		fclose(logstate.file);
	logstate.file = NULL;
}

void log_set_console(FILE *stream)
{
	logstate.console = stream;
}

void log_set_verbosity(enum log_verbosity verbosity)
{
	logstate.verbosity = verbosity;
}

enum log_verbosity log_get_verbosity(void)
{
	return logstate.verbosity;
}

void log_set_console_hook(void (*hook)(void))
{
	logstate.hook = hook;
}

void log_set_console_after_hook(void (*hook)(void))
{
	logstate.after_hook = hook;
}

char *log_dir_file(const char *name)
{
	const char *slash = logstate.path[0] ? strrchr(logstate.path, '/') : NULL;
	size_t n, len;
	char *out;

	if (slash == NULL)
		return NULL;
	n = (size_t) (slash - logstate.path);
	len = n + 1 + strlen(name) + 1;
	out = xmalloc(len);
	snprintf(out, len, "%.*s/%s", (int) n, logstate.path, name);
	return out;
}

const char *log_file_path(void)
{
	return logstate.path[0] ? logstate.path : NULL;
}

const char *log_program(void)
{
	return logstate.program;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char msg[4096];
	char line[4608];
	size_t len;
	bool to_console;
	int saved_errno = errno;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	len = strlen(msg);
	while (len > 0 && msg[len - 1] == '\n')
		msg[--len] = '\0';
	if (logstate.host[0] == '\0')
		identify_self();
	log_format_line(line, sizeof(line), time(NULL), getpid(), logstate.program, logstate.host,
			logstate.user, level, msg);

	/* The file gets INFO and above, DEBUG too with -v; the console drops INFO with -q. */
	if (logstate.file && (level > LOG_DEBUG || logstate.verbosity >= LOG_VERBOSE)) {
		fprintf(logstate.file, "%s\n", line);
		fflush(logstate.file);
	}
	switch (logstate.verbosity) {
	case LOG_QUIET:
		to_console = level >= LOG_WARNING;
		break;
	case LOG_VERBOSE:
		to_console = true;
		break;
	default:
		to_console = level >= LOG_INFO;
		break;
	}
	if (to_console) {
		FILE *out = logstate.console ? logstate.console : stdout;

		if (logstate.hook)
			logstate.hook();
		fprintf(out, "%s\n", line);
		fflush(out);
		if (logstate.after_hook)
			logstate.after_hook();
	}
	errno = saved_errno;
}
