#include "agent/target.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "clock.h"
#include "exec.h"
#include "fsutil.h"
#include "inject.h"
#include "log.h"
#include "pgbin.h"
#include "pgconn.h"
#include "postmaster.h"
#include "replication.h"
#include "standbyconf.h"
#include "strbuf.h"
#include "units.h"
#include "xalloc.h"

int target_stop(const char *datadir, int timeout_s, struct errbuf *err)
{
	char *pg_ctl = pgbin_path("pg_ctl");
	char timeout[16];
	const char *argv[] = { pg_ctl, "-D", datadir, "-m", "fast", "-w", "-t", timeout, "stop", NULL };
	struct exec_options opts = { 0 };
	struct strbuf out = STRBUF_INIT;
	pid_t pid = 0;
	int status = -1, rc = 0;

	if (!postmaster_running(datadir, &pid))
		return 0;
	snprintf(timeout, sizeof(timeout), "%d", timeout_s);
	strbuf_init(&out, 0);
	if (exec_run(&opts, argv, &out, &out, &status, err) != 0)
		rc = -1;
	else if (status != 0 || postmaster_running(datadir, NULL)) {
		strbuf_rtrim(&out);
		rc = errbuf_set(err, "cannot stop the postmaster (PID %d) running in \"%s\": %s", (int) pid,
				datadir, out.buf);
	}
	strbuf_release(&out);
	free(pg_ctl);
	return rc;
}

int target_prepare(struct target *t, struct errbuf *err)
{
	struct stat st;
	pid_t pid = 0;
	char *lockpath;
	char text[32];

	t->lock_fd = -1;
	/* The guard has looked already; this closes the window as far as we can. */
	if (postmaster_running(t->datadir, &pid))
		return errbuf_set(err, "a postmaster (PID %d) started in \"%s\"; a running instance is "
				       "never stopped nor overwritten",
				  (int) pid, t->datadir);
	if (stat(t->datadir, &st) != 0) {
		if (errno != ENOENT)
			return errbuf_set_errno(err, errno, "cannot examine \"%s\"", t->datadir);
		if (mkdir_p(t->datadir, 0700, err) != 0)
			return -1;
	} else if (!S_ISDIR(st.st_mode)) {
		return errbuf_set(err, "\"%s\" exists and is not a directory", t->datadir);
	}
	if (chmod(t->datadir, 0700) != 0)
		return errbuf_set_errno(err, errno, "cannot set mode 0700 on \"%s\"", t->datadir);
	lockpath = path_join(t->datadir, TARGET_LOCK_FILE);
	t->lock_fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (t->lock_fd < 0) {
		errbuf_set_errno(err, errno, "cannot create lock file \"%s\"", lockpath);
		free(lockpath);
		return -1;
	}
	free(lockpath);
	/* flock: the kernel drops it if we die, so a crashed recovery never leaves a stale lock. */
	if (flock(t->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		char holder[32] = "";
		ssize_t n = pread(t->lock_fd, holder, sizeof(holder) - 1, 0);

		holder[n > 0 ? n : 0] = '\0';
		holder[strcspn(holder, "\n")] = '\0';
		errbuf_set(err, "another recovery (PID %s) is working on \"%s\"; wait for it to finish",
			   holder[0] ? holder : "unknown", t->datadir);
		close(t->lock_fd);
		t->lock_fd = -1;
		return -1;
	}
	snprintf(text, sizeof(text), "%d\n", (int) getpid());
	if (ftruncate(t->lock_fd, 0) != 0 || pwrite(t->lock_fd, text, strlen(text), 0) < 0) {
		errbuf_set_errno(err, errno, "cannot write the lock file in \"%s\"", t->datadir);
		target_release(t);
		return -1;
	}
	return 0;
}

void target_release(struct target *t)
{
	if (t->lock_fd >= 0) {
		char *lockpath = path_join(t->datadir, TARGET_LOCK_FILE);

		unlink(lockpath);
		free(lockpath);
		close(t->lock_fd);
	}
	t->lock_fd = -1;
}

/* Nothing in DIR but segrecover's own files and standby.signal? */
static bool holds_only_ours(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool only = true;

	if (d == NULL)
		return false;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
		    strcmp(de->d_name, "standby.signal") != 0 && !targetmark_is_own_file(de->d_name)) {
			only = false;
			break;
		}
	closedir(d);
	return only;
}

/* Only PostgreSQL's per-version directories (PG_15_...) in a tablespace directory? */
static bool is_tablespace_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool yes = true;

	if (d == NULL)
		return false;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
		    strncmp(de->d_name, "PG_", 3) != 0) {
			yes = false;
			break;
		}
	closedir(d);
	return yes;
}

/*
 * The directories the target's own tablespace links point at hold the failed instance's data
 * too: empty them under the same rules as the data directory (only PostgreSQL's own layout).
 */
static int wipe_tablespaces(struct target *t, struct errbuf *err)
{
	char *tblspc = path_join(t->datadir, "pg_tblspc");
	DIR *d = opendir(tblspc);
	struct dirent *de;
	int rc = 0;

	if (d == NULL) {
		free(tblspc);
		return 0;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		char *link = path_join(tblspc, de->d_name);
		char dest[4096];
		ssize_t n = readlink(link, dest, sizeof(dest) - 1);

		free(link);
		if (n <= 0)
			continue;
		dest[n] = '\0';
		if (!path_exists(dest))
			continue;
		if (!is_tablespace_dir(dest)) {
			rc = errbuf_set(err, "tablespace directory \"%s\" (linked from %s/pg_tblspc/%s) "
					     "holds more than PostgreSQL's PG_* directories: refusing to "
					     "wipe it; check it and empty it yourself",
					dest, t->datadir, de->d_name);
			break;
		}
		rc = empty_directory(dest, NULL, err);
		if (rc == 0)
			rc = fsync_path(dest, true, err);
	}
	closedir(d);
	free(tblspc);
	return rc;
}

static void wiped_one(void *ctx, size_t removed)
{
	(void) ctx;
	if (removed == 1)
		inject_point("wipe-mid");
}

int target_wipe(struct target *t, const char *strategy, struct errbuf *err)
{
	const char *keep[] = { TARGET_LOCK_FILE, TARGET_MARK_FILE, "standby.signal", NULL };
	struct target_mark mark;
	pid_t pid = 0;

	targetmark_read(t->datadir, &mark);
	if (mark.state == TARGET_MARK_NONE && !holds_only_ours(t->datadir) && !is_pg_datadir(t->datadir))
		return errbuf_set(err, "\"%s\" is neither empty, nor a PostgreSQL data directory (no "
				       "PG_VERSION or global/), nor a copy segrecover left unfinished "
				       "(no " TARGET_MARK_FILE "): refusing to wipe it; check the path, "
				       "or empty it yourself if it really is the failed segment's",
				  t->datadir);
	/* Checked again right before deleting anything: the window must be as small as we can. */
	if (postmaster_running(t->datadir, &pid))
		return errbuf_set(err, "a postmaster (PID %d) started in \"%s\"; refusing to wipe it",
				  (int) pid, t->datadir);
	/*
	 * Invariants 2 and 4: from before the first deletion until the server streams, the
	 * directory can only start as a standby and says it is ours, so that a run killed at any
	 * moment leaves a directory the same command wipes and finishes.
	 */
	if (target_begin_changes(t->datadir, strategy, err) != 0)
		return -1;
	inject_point("wipe-begin");
	if (wipe_tablespaces(t, err) != 0)
		return -1;
	if (empty_directory_each(t->datadir, keep, wiped_one, NULL, err) != 0)
		return errbuf_prefix(err, "cannot empty \"%s\"", t->datadir);
	return fsync_path(t->datadir, true, err);
}

int target_begin_changes(const char *datadir, const char *strategy, struct errbuf *err)
{
	if (standby_write_signal(datadir, err) != 0 ||
	    targetmark_write(datadir, strategy, TARGET_MARK_COPYING, err) != 0)
		return -1;
	return 0;
}

int target_clear_stale_pidfile(struct target *t, struct errbuf *err)
{
	char *pidfile = path_join(t->datadir, "postmaster.pid");
	pid_t pid = 0;
	int rc = 0;

	/*
	 * PostgreSQL refuses to start while postmaster.pid names any live process — a recycled PID,
	 * a zombie not yet reaped — and pg_ctl would signal that process. Only a pid file that the
	 * guard found stale gets here.
	 */
	if (postmaster_state(t->datadir, &pid) == POSTMASTER_STALE) {
		log_info("removing the stale postmaster.pid of \"%s\" (PID %d is no postmaster of it)",
			 t->datadir, (int) pid);
		if (unlink(pidfile) != 0 && errno != ENOENT)
			rc = errbuf_set_errno(err, errno, "cannot remove the stale \"%s\"", pidfile);
	}
	free(pidfile);
	return rc;
}

int target_check_port_free(const struct target *t, struct errbuf *err)
{
	int families[] = { AF_INET, AF_INET6 };

	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		struct sockaddr_storage ss;
		socklen_t len;
		int one = 1, fd = socket(families[i], SOCK_STREAM | SOCK_CLOEXEC, 0);
		int rc;

		if (fd < 0)
			continue; /* no such family on this host */
		memset(&ss, 0, sizeof(ss));
		if (families[i] == AF_INET) {
			struct sockaddr_in *in = (struct sockaddr_in *) &ss;

			in->sin_family = AF_INET;
			in->sin_port = htons((uint16_t) t->port);
			in->sin_addr.s_addr = htonl(INADDR_ANY);
			len = sizeof(*in);
		} else {
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &ss;

			in6->sin6_family = AF_INET6;
			in6->sin6_port = htons((uint16_t) t->port);
			in6->sin6_addr = in6addr_any;
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
			len = sizeof(*in6);
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		rc = bind(fd, (struct sockaddr *) &ss, len);
		close(fd);
		if (rc != 0 && errno == EADDRINUSE)
			return errbuf_set(err, "port %d is already in use on this host by another process: "
					       "the recovered server could not listen on it; free the port or "
					       "recover to another one with gprecoverseg -i",
					  t->port);
	}
	return 0;
}

int target_configure(struct target *t, const char *source_host, int source_port, struct errbuf *err)
{
	struct passwd *pw = getpwuid(geteuid());
	struct standby_settings s = {
		.primary_host = source_host,
		.primary_port = source_port,
		.user = pw ? pw->pw_name : NULL,
		.application_name = REPLICATION_APP_NAME,
		.slot_name = REPLICATION_SLOT,
	};
	char *logdir = path_join(t->datadir, "log");
	int rc;

	rc = standby_write_signal(t->datadir, err);
	if (rc == 0)
		rc = standby_write_settings(t->datadir, &s, err);
	if (rc == 0)
		rc = conf_set_port(t->datadir, t->port, err);
	if (rc == 0)
		rc = mkdir_p(logdir, 0700, err);
	free(logdir);
	if (rc != 0)
		return errbuf_prefix(err, "cannot write the standby configuration in \"%s\"", t->datadir);
	return 0;
}

/*
 * The last lines of the server's start-up log, for an error message: at most 6 lines and
 * LOG_TAIL_MAX bytes (whole lines), so that the message the driver shows still ends with them.
 */
#define LOG_TAIL_MAX 900
static void log_tail(const char *path, struct strbuf *out)
{
	char *text = NULL;
	size_t len, end, keep;
	struct errbuf ignored;
	int lines = 0;

	if (read_small_file(path, &text, &len, &ignored) != 0 || len == 0) {
		free(text);
		strbuf_addstr(out, "(empty or missing)");
		return;
	}
	end = len;
	while (end > 0 && text[end - 1] == '\n')
		end--;
	/* The tail is text[keep, end): whole lines, walked back one at a time. */
	keep = end;
	while (lines < 6 && keep > 0) {
		size_t b = keep;

		if (text[b - 1] == '\n')
			b--;
		while (b > 0 && text[b - 1] != '\n')
			b--;
		if (lines > 0 && end - b > LOG_TAIL_MAX)
			break;
		keep = b;
		lines++;
	}
	if (end - keep > LOG_TAIL_MAX) {
		/* one line longer than the whole budget: its end is what was said last */
		strbuf_addstr(out, "...");
		keep = end - (LOG_TAIL_MAX - 3);
	}
	strbuf_add(out, text + keep, end - keep);
	strbuf_rtrim(out);
	for (size_t i = 0; i < out->len; i++)
		if (out->buf[i] == '\n')
			out->buf[i] = '|';
	free(text);
}

/*
 * Where a rebuilt standby becomes consistent, as its control file says before it starts: an
 * in-place copy sets minRecoveryPoint to the source's position after the copy (pg_rewind's
 * rule) or to the end of its backup bracket. A copy of a primary's control file has none (0):
 * a BASE_BACKUP's end is found only in the WAL.
 */
static lsn_t consistent_point(const char *datadir)
{
	struct pgcontrol ctl;
	struct errbuf ignored;

	return pgcontrol_read(datadir, &ctl, &ignored) == 0 ? ctl.min_recovery_point : 0;
}

int target_start(struct target *t, bool wait_ready, int timeout_s, struct errbuf *err)
{
	char *pg_ctl = pgbin_path("pg_ctl");
	char *logfile = path_join(t->datadir, "log/startup.log");
	char timeout[16];
	/*
	 * A copied data directory starts with pg_control saying "in production", so the server
	 * fsyncs every file before recovery. The strategy has already fsynced all it wrote; one
	 * syncfs() per file system instead of an fsync per file saves seconds on a large instance
	 * and is just as durable. Only this start uses it (-o), later restarts keep the default.
	 */
	const char *argv[] = { pg_ctl, "-D", t->datadir, "-l", logfile, wait_ready ? "-w" : "-W",
			       "-t", timeout, "-o", "-c recovery_init_sync_method=syncfs", "start", NULL };
	struct exec_options opts = { 0 };
	struct strbuf out = STRBUF_INIT, tail = STRBUF_INIT;
	int status = -1, rc = 0;

	snprintf(timeout, sizeof(timeout), "%d", timeout_s);
	strbuf_init(&out, 0);
	strbuf_init(&tail, 0);
	t->consistent_at = consistent_point(t->datadir);
	t->seen_postmaster = false;
	t->launched_at = now_seconds();
	if (exec_run(&opts, argv, &out, &out, &status, err) != 0) {
		rc = -1;
	} else if (status != 0) {
		strbuf_rtrim(&out);
		log_tail(logfile, &tail);
		rc = errbuf_set(err, "pg_ctl start failed (exit %d): %s; server log %s: %s", status,
				out.buf, logfile, tail.buf);
	}
	strbuf_release(&out);
	strbuf_release(&tail);
	free(pg_ctl);
	free(logfile);
	return rc;
}

/*
 * Is the server target_start launched still there? 0 while it is (or cannot be known yet),
 * -1 once it is gone: ERR then says the server in the directory stopped WHEN, then HINT (what
 * to do, before the log lines so that a cut message keeps it), then its log's last lines.
 * The one check of every wait after the start, so that each fails the moment the server does.
 */
static int postmaster_gone(struct target *t, const char *when, const char *hint,
			   struct errbuf *err)
{
	struct strbuf tail = STRBUF_INIT;
	char *logfile;

	/* pg_ctl -W returns before the pid file is written: missing, it counts once seen, or after 10 s. */
	if (postmaster_running(t->datadir, NULL)) {
		t->seen_postmaster = true;
		return 0;
	}
	if (!t->seen_postmaster && now_seconds() <= t->launched_at + 10)
		return 0;
	logfile = path_join(t->datadir, "log/startup.log");
	strbuf_init(&tail, 0);
	log_tail(logfile, &tail);
	errbuf_set(err, "the server in \"%s\" stopped %s; %sserver log %s: %s", t->datadir, when,
		   hint, logfile, tail.buf);
	strbuf_release(&tail);
	free(logfile);
	return -1;
}

int target_wait_streaming(struct target *t, const char *source_host, int source_port,
			  int timeout_s, struct errbuf *err)
{
	static const char *const sql =
		"SELECT r.state FROM pg_catalog.pg_replication_slots AS s"
		"  JOIN pg_catalog.pg_stat_replication AS r ON r.pid = s.active_pid"
		" WHERE s.slot_name = '" REPLICATION_SLOT "'";
	struct pgconn_params params = { .host = source_host, .port = source_port,
					 .connect_timeout = 5 };
	double deadline = now_seconds() + timeout_s;
	char last[ERRBUF_SIZE] = "its walreceiver has not connected yet";
	PGconn *conn = NULL;

	for (;;) {
		struct errbuf cerr;
		char *state = NULL;

		errbuf_clear(&cerr);
		if (conn == NULL)
			conn = pg_connect(&params, &cerr);
		if (conn != NULL) {
			PGresult *res = pg_query(conn, sql, 0, NULL, &cerr);

			if (res != NULL && PQntuples(res) == 1)
				state = xstrdup(PQgetvalue(res, 0, 0));
			PQclear(res);
			if (state != NULL &&
			    (strcmp(state, "streaming") == 0 || strcmp(state, "catchup") == 0)) {
				free(state);
				PQfinish(conn);
				return 0;
			}
			if (!errbuf_empty(&cerr)) {
				snprintf(last, sizeof(last), "%s", cerr.msg);
				PQfinish(conn);
				conn = NULL;
			} else if (state != NULL) {
				snprintf(last, sizeof(last), "its walsender is in state %s", state);
			}
			free(state);
		} else {
			snprintf(last, sizeof(last), "the primary cannot be asked: %.1900s", cerr.msg);
		}
		if (postmaster_gone(t, "while starting", "", err) != 0) {
			PQfinish(conn);
			return -1;
		}
		if (now_seconds() >= deadline) {
			PQfinish(conn);
			return errbuf_set(err, "the server in \"%s\" did not start streaming from its "
					       "primary %s:%d within %d s (%s); see %s/log/startup.log",
					  t->datadir, source_host, source_port, timeout_s, last,
					  t->datadir);
		}
		usleep(50 * 1000);
	}
}

/*
 * How far the replay is, as the primary hears it from the standby's walreceiver (which reports
 * the startup process's position whether or not the standby is consistent), into BUF.
 */
static bool replay_progress(PGconn **conn, const struct pgconn_params *params, const struct target *t,
			    char *buf, size_t len)
{
	struct walsender_state ws;
	struct errbuf cerr;
	unsigned long long replayed = 0, flushed = 0;
	char togo[32];

	if (*conn == NULL && (*conn = pg_connect(params, &cerr)) == NULL)
		return false;
	if (walsender_query(*conn, &ws, &cerr) != 0) {
		PQfinish(*conn);
		*conn = NULL;
		return false;
	}
	if (!ws.present || !pg_parse_lsn(ws.replay_lsn, &replayed))
		return false;
	if (t->consistent_at > replayed) {
		units_format_bytes(t->consistent_at - replayed, togo, sizeof(togo));
		snprintf(buf, len, "replayed up to %s, consistent at " LSN_FMT " (%s to go)",
			 ws.replay_lsn, LSN_ARGS(t->consistent_at), togo);
	} else if (pg_parse_lsn(ws.flush_lsn, &flushed) && flushed > replayed) {
		units_format_bytes(flushed - replayed, togo, sizeof(togo));
		snprintf(buf, len, "replayed up to %s, %s received and not replayed yet",
			 ws.replay_lsn, togo);
	} else {
		snprintf(buf, len, "replayed up to %s", ws.replay_lsn);
	}
	return true;
}

int target_wait_consistent(struct target *t, const char *source_host, int source_port,
			   int timeout_s, void (*note)(void *ctx, const char *msg), void *ctx,
			   struct errbuf *err)
{
	struct pgconn_params self = { .host = t->address, .port = t->port, .connect_timeout = 2 };
	struct pgconn_params source = { .host = source_host, .port = source_port,
					 .connect_timeout = 5 };
	double started = now_seconds(), deadline = started + timeout_s;
	double next_note = started + 10, next_blind_ping = started, ready_since = 0;
	PGconn *conn = NULL;
	char where[512] = "";
	int rc;

	for (;;) {
		enum postmaster_status status = postmaster_status(t->datadir);
		double now;

		if (postmaster_gone(t, "before it was consistent (it was replaying WAL)",
				    "look at the end of its log for the cause, then run the same "
				    "gprecoverseg again; ",
				    err) != 0) {
			rc = -1;
			break;
		}
		/*
		 * hot_standby = off: the server says "standby" once its replay has begun and refuses
		 * every connection until it is promoted, consistent or not, and nothing outside it
		 * tells when it gets there. We do not wait for what cannot be seen: the caller
		 * decides what that means for its instance (gpsegrecovery/recover.c).
		 */
		if (status == POSTMASTER_STATUS_STANDBY) {
			rc = TARGET_NOT_HOT_STANDBY;
			break;
		}
		/*
		 * The server's own status line says when it is ready, and only then is it pinged:
		 * every connection it refuses while it replays is a FATAL line in its log, which
		 * would bury the lines a failure shows. A status we cannot read is pinged once a
		 * second instead.
		 */
		now = now_seconds();
		if (status == POSTMASTER_STATUS_READY ||
		    (status == POSTMASTER_STATUS_UNKNOWN && now >= next_blind_ping)) {
			PGPing ping = pg_ping(&self);

			next_blind_ping = now + 1;
			if (ping == PQPING_OK) {
				rc = 0;
				break;
			}
			if (status == POSTMASTER_STATUS_READY && ready_since == 0)
				ready_since = now;
			/* Ready by its own word, yet not there for us: the driver could not see it either. */
			if (status == POSTMASTER_STATUS_READY && now - ready_since > 5) {
				rc = errbuf_set(err, "the server in \"%s\" is consistent and says it accepts "
						     "connections, but %s:%d %s: check its listen_addresses "
						     "and port; see %s/log/startup.log",
						t->datadir, t->address, t->port,
						ping == PQPING_NO_RESPONSE ? "does not answer"
									   : "refuses them",
						t->datadir);
				break;
			}
		}
		if (now >= next_note) {
			next_note = now + 10;
			if (replay_progress(&conn, &source, t, where, sizeof(where)) && note != NULL) {
				char msg[600];

				snprintf(msg, sizeof(msg), "replaying WAL before the server in \"%.200s\" "
							   "is consistent: %s",
					 t->datadir, where);
				note(ctx, msg);
			}
		}
		if (now >= deadline) {
			rc = errbuf_set(err, "the server in \"%s\" did not reach a consistent state within "
					     "%d s (--start-timeout); it still runs and replays WAL%s%s%s: "
					     "run the same gprecoverseg again later, which waits for it "
					     "instead of copying again; see %s/log/startup.log",
					t->datadir, timeout_s, where[0] ? " (" : "", where,
					where[0] ? ")" : "", t->datadir);
			break;
		}
		usleep(50 * 1000);
	}
	PQfinish(conn);
	return rc;
}
