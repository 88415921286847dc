#include "gpstate/probe.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "fsutil.h"
#include "log.h"
#include "pgconn.h"
#include "postmaster.h"
#include "strbuf.h"
#include "xalloc.h"

/*
 * The check run on another host through ssh. The data directory is an argument ($1), never part
 * of the script text. It prints "nofile", or "pid <first line of postmaster.pid>" and then
 * "comm <process name>" when that process lives.
 */
static const char remote_check_script[] =
	"f=\"$1/postmaster.pid\"; "
	"if [ ! -e \"$f\" ]; then echo nofile; exit 0; fi; "
	"pid=$(head -n 1 \"$f\" 2>/dev/null); echo \"pid $pid\"; "
	"case $pid in ''|*[!0-9-]*) exit 0;; esac; "
	"comm=$(ps -o comm= -p \"${pid#-}\" 2>/dev/null) && echo \"comm $comm\"; exit 0";

long long state_lsn_diff(const char *b, const char *a)
{
	unsigned long long lb, la;

	if (b == NULL || a == NULL || !pg_parse_lsn(b, &lb) || !pg_parse_lsn(a, &la) || lb < la)
		return -1;
	return (long long) (lb - la);
}

/* Copy a message onto one line: libpq's tabs and newlines become single spaces. */
static void copy_message(char *dst, size_t len, const char *src)
{
	size_t n = 0;

	for (; *src && n + 1 < len; src++) {
		char c = (*src == '\t' || *src == '\n' || *src == '\r') ? ' ' : *src;

		if (c == ' ' && (n == 0 || dst[n - 1] == ' '))
			continue;
		dst[n++] = c;
	}
	while (n > 0 && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
}

static long parse_pid(const char *text)
{
	long pid = strtol(text, NULL, 10);

	return pid < 0 ? -pid : pid;
}

void state_probe_parse_host_check(const char *output, struct instance_probe *p)
{
	char *copy = xstrdup(output), *line, *save = NULL;

	p->pidfile_found = false;
	p->pidfile_pid = 0;
	p->process_found = false;
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "pid ", 4) == 0) {
			p->pidfile_found = true;
			p->pidfile_pid = parse_pid(line + 4);
		} else if (strcmp(line, "pid") == 0) {
			p->pidfile_found = true; /* an empty postmaster.pid */
		} else if (strncmp(line, "comm ", 5) == 0) {
			const char *comm = line + 5;

			p->process_found = p->pidfile_pid > 0 && (strncmp(comm, "postgres", 8) == 0 ||
								  strncmp(comm, "postmaster", 10) == 0);
		}
	}
	free(copy);
}

static long read_pidfile_pid(const char *datadir)
{
	char *path = path_join(datadir, "postmaster.pid");
	char *text = NULL;
	size_t len;
	struct errbuf ignored;
	long pid = 0;

	if (read_small_file(path, &text, &len, &ignored) == 0)
		pid = parse_pid(text);
	free(text);
	free(path);
	return pid;
}

static void check_local_host(struct instance_probe *p)
{
	char *pidfile = path_join(p->seg->datadir, "postmaster.pid");
	pid_t pid = 0;

	p->host_ok = true;
	p->pidfile_found = path_exists(pidfile);
	p->pidfile_pid = p->pidfile_found ? read_pidfile_pid(p->seg->datadir) : 0;
	p->process_found = postmaster_running(p->seg->datadir, &pid);
	if (p->process_found)
		p->pidfile_pid = pid;
	free(pidfile);
}

/* The check through ssh, bounded by timeout(1) so that an unreachable host cannot hang us. */
static void check_remote_host(struct instance_probe *p, int timeout)
{
	const char *check[] = { "sh", "-c", remote_check_script, "sh", p->seg->datadir, NULL };
	struct exec_options remote = { .host = p->seg->address };
	struct exec_options local = { 0 };
	char **ssh = exec_build_argv(&remote, check);
	size_t n = 0;
	const char **argv;
	char kill_after[16], limit[16];
	struct strbuf out = STRBUF_INIT, errout = STRBUF_INIT;
	struct errbuf err;
	int status = 0;

	while (ssh[n])
		n++;
	argv = xcalloc(n + 5, sizeof(char *));
	snprintf(kill_after, sizeof(kill_after), "--kill-after=%d", 2);
	snprintf(limit, sizeof(limit), "%d", timeout + 5);
	argv[0] = "timeout";
	argv[1] = kill_after;
	argv[2] = limit;
	for (size_t i = 0; i < n; i++)
		argv[3 + i] = ssh[i];
	strbuf_init(&out, 256);
	strbuf_init(&errout, 256);
	errbuf_clear(&err);
	if (exec_run(&local, argv, &out, &errout, &status, &err) != 0) {
		snprintf(p->host_error, sizeof(p->host_error), "%s", err.msg);
	} else if (status == 124 || status == 128 + 9) {
		snprintf(p->host_error, sizeof(p->host_error),
			 "no answer from host %s through ssh within %d s", p->seg->address, timeout + 5);
	} else if (status != 0) {
		char *nl;

		strbuf_rtrim(&errout);
		nl = strchr(errout.buf, '\n');
		if (nl)
			*nl = '\0';
		snprintf(p->host_error, sizeof(p->host_error),
			 "cannot check host %s through ssh (exit %d): %s; check that gpadmin can ssh "
			 "to it without a password",
			 p->seg->address, status, errout.buf[0] ? errout.buf : "no message");
	} else {
		p->host_ok = true;
		state_probe_parse_host_check(out.buf, p);
	}
	strbuf_release(&out);
	strbuf_release(&errout);
	free(argv);
	exec_free_argv(ssh);
}

static bool same_directory(const char *a, const char *b)
{
	char ra[PATH_MAX], rb[PATH_MAX];

	if (strcmp(a, b) == 0)
		return true;
	if (realpath(a, ra) == NULL || realpath(b, rb) == NULL)
		return true; /* cannot tell: do not accuse */
	return strcmp(ra, rb) == 0;
}

static void query_replication(PGconn *conn, struct instance_probe *p)
{
	static const char sql[] =
		"SELECT pg_current_wal_lsn(), pg_current_wal_flush_lsn(),"
		" (SELECT date_trunc('second', backend_start)::text FROM pg_stat_replication"
		"  WHERE state = 'backup' ORDER BY backend_start LIMIT 1)";
	struct errbuf err;
	PGresult *res;
	char flush[32] = "";

	errbuf_clear(&err);
	if (walsender_query(conn, &p->ws, &err) != 0) {
		copy_message(p->repl_error, sizeof(p->repl_error), err.msg);
		return;
	}
	res = pg_query(conn, sql, 0, NULL, &err);
	if (res == NULL) {
		copy_message(p->repl_error, sizeof(p->repl_error), err.msg);
		return;
	}
	if (PQntuples(res) == 1) {
		snprintf(p->current_lsn, sizeof(p->current_lsn), "%s", PQgetvalue(res, 0, 0));
		snprintf(flush, sizeof(flush), "%s", PQgetvalue(res, 0, 1));
		if (!PQgetisnull(res, 0, 2))
			snprintf(p->backup_start, sizeof(p->backup_start), "%s",
				 PQgetvalue(res, 0, 2));
	}
	PQclear(res);
	p->repl_ok = true;
	if (p->ws.present) {
		p->sent_left = state_lsn_diff(p->current_lsn, p->ws.sent_lsn);
		p->sync_remaining = state_lsn_diff(flush, p->ws.sent_lsn);
		p->flush_left = state_lsn_diff(p->ws.sent_lsn, p->ws.flush_lsn);
		p->replay_left = state_lsn_diff(p->ws.sent_lsn, p->ws.replay_lsn);
	}
}

static void probe_server(struct instance_probe *p, int timeout)
{
	struct errbuf err;
	PGconn *conn;
	PGresult *res;
	char ms[32];
	const char *params[1] = { ms };

	errbuf_clear(&err);
	conn = pg_connect_segment(p->seg, timeout, false, &err);
	if (conn == NULL) {
		copy_message(p->conn_error, sizeof(p->conn_error), err.msg);
		return;
	}
	/* A server that accepts the connection but then hangs must not hang us either. */
	snprintf(ms, sizeof(ms), "%d", timeout * 1000);
	if (pg_exec(conn, "SELECT set_config('statement_timeout', $1, false)", 1, params, &err) !=
	    0) {
		copy_message(p->conn_error, sizeof(p->conn_error), err.msg);
		PQfinish(conn);
		return;
	}
	res = pg_query(conn, "SELECT pg_is_in_recovery(), current_setting('data_directory'),"
			     " current_setting('server_version')",
		       0, NULL, &err);
	if (res == NULL || PQntuples(res) != 1) {
		copy_message(p->conn_error, sizeof(p->conn_error),
			     res == NULL ? err.msg : "pg_is_in_recovery() returned no row");
		PQclear(res);
		PQfinish(conn);
		return;
	}
	p->connected = true;
	p->in_recovery = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	p->data_directory = xstrdup(PQgetvalue(res, 0, 1));
	snprintf(p->server_version, sizeof(p->server_version), "%s", PQgetvalue(res, 0, 2));
	PQclear(res);
	if (p->local && !same_directory(p->data_directory, p->seg->datadir))
		p->datadir_differs = true;
	if (!p->in_recovery && !p->datadir_differs)
		query_replication(conn, p);
	PQfinish(conn);
}

static void probe_one(struct instance_probe *p, int timeout)
{
	p->sent_left = p->sync_remaining = p->flush_left = p->replay_left = -1;
	p->local = host_is_local(p->seg->address);
	if (p->local)
		check_local_host(p);
	else
		check_remote_host(p, timeout);
	probe_server(p, timeout);
}

struct probe_pool {
	struct cluster_probe *cp;
	int timeout;
	size_t next;
	pthread_mutex_t mu;
};

static void *probe_worker(void *arg)
{
	struct probe_pool *pool = arg;

	for (;;) {
		size_t i;

		pthread_mutex_lock(&pool->mu);
		i = pool->next++;
		pthread_mutex_unlock(&pool->mu);
		if (i >= pool->cp->n)
			return NULL;
		probe_one(&pool->cp->inst[i], pool->timeout);
	}
}

void state_probe_cluster(const struct catalog *cat, const struct state_probe_options *opts,
			 struct cluster_probe *out)
{
	struct probe_pool pool = { .cp = out, .timeout = opts->timeout > 0 ? opts->timeout : 10 };
	size_t nthreads = opts->parallel > 0 ? (size_t) opts->parallel : 1;
	pthread_t *threads;
	size_t started = 0;

	out->n = cat->nsegs;
	out->inst = xcalloc(cat->nsegs ? cat->nsegs : 1, sizeof(*out->inst));
	for (size_t i = 0; i < cat->nsegs; i++)
		out->inst[i].seg = &cat->segs[i];
	if (nthreads > cat->nsegs)
		nthreads = cat->nsegs;
	pthread_mutex_init(&pool.mu, NULL);
	threads = xcalloc(nthreads ? nthreads : 1, sizeof(pthread_t));
	for (size_t i = 0; i < nthreads; i++) {
		if (pthread_create(&threads[i], NULL, probe_worker, &pool) != 0)
			break;
		started++;
	}
	/* Without threads (none could start), probe here: the pool hands out what is left. */
	if (started == 0)
		probe_worker(&pool);
	for (size_t i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	free(threads);
	pthread_mutex_destroy(&pool.mu);
}

void state_probe_free(struct cluster_probe *cp)
{
	for (size_t i = 0; i < cp->n; i++)
		free(cp->inst[i].data_directory);
	free(cp->inst);
	cp->inst = NULL;
	cp->n = 0;
}

const struct instance_probe *state_probe_find(const struct cluster_probe *cp,
					      const struct segment *seg)
{
	if (cp == NULL)
		return NULL;
	for (size_t i = 0; i < cp->n; i++)
		if (cp->inst[i].seg == seg || cp->inst[i].seg->dbid == seg->dbid)
			return &cp->inst[i];
	return NULL;
}

void state_probe_log(const struct cluster_probe *cp)
{
	for (size_t i = 0; i < cp->n; i++) {
		const struct instance_probe *p = &cp->inst[i];

		log_debug("probe " SEG_FMT ": host %s, postmaster.pid %s (PID %ld), process %s, "
			  "server %s%s%s",
			  SEG_ARGS(p->seg), p->host_ok ? "checked" : p->host_error,
			  p->pidfile_found ? "found" : "missing", p->pidfile_pid,
			  p->process_found ? "found" : "missing",
			  p->connected ? (p->in_recovery ? "in recovery" : "not in recovery")
				       : p->conn_error,
			  p->repl_ok && p->ws.present ? ", walsender " : "",
			  p->repl_ok && p->ws.present ? p->ws.state : "");
	}
}
