#include "gpactivatestandby/oldcoord.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "fsutil.h"
#include "log.h"
#include "pgconn.h"
#include "postmaster.h"
#include "strbuf.h"

static bool answers(const struct old_coordinator *oc)
{
	char port[16];
	const char *keys[] = { "host", "port", "dbname", "connect_timeout", NULL };
	const char *vals[] = { oc->host, port, "postgres", "5", NULL };
	PGPing ping;

	snprintf(port, sizeof(port), "%d", oc->port);
	ping = PQpingParams(keys, vals, 0);
	return ping == PQPING_OK || ping == PQPING_REJECT;
}

/* Is PID a live process (not a zombie) on HOST? 1 yes, 0 no, -1 the host cannot be asked. */
static int pid_alive(const char *host, long pid)
{
	struct exec_options eo = { .host = host };
	char p[32];
	const char *argv[] = { "ps", "-o", "stat=", "-p", p, NULL };
	struct strbuf out = STRBUF_INIT;
	struct errbuf err;
	int status = -1, rc;

	snprintf(p, sizeof(p), "%ld", pid);
	strbuf_init(&out, 64);
	if (exec_run(&eo, argv, &out, NULL, &status, &err) != 0 || status == 255)
		rc = -1;
	else
		rc = status == 0 && out.len > 0 && out.buf[0] != 'Z';
	strbuf_release(&out);
	return rc;
}

/* The PID in the socket lock file on HOST (0 when there is none); -1 the host cannot be asked. */
static long lock_pid(const char *host, const char *path)
{
	struct exec_options eo = { .host = host };
	const char *argv[] = { "cat", path, NULL };
	struct strbuf out = STRBUF_INIT;
	struct errbuf err;
	int status = -1;
	long pid = 0;

	strbuf_init(&out, 128);
	if (exec_run(&eo, argv, &out, NULL, &status, &err) != 0 || status == 255)
		pid = -1;
	else if (status == 0)
		pid = strtol(out.buf, NULL, 10);
	strbuf_release(&out);
	return pid;
}

int oldcoord_alive(const struct old_coordinator *oc, bool *warning, struct errbuf *err)
{
	*warning = false;
	if (answers(oc)) {
		errbuf_set(err, "the coordinator at %s:%d still answers connections", oc->host,
			   oc->port);
		return 1;
	}
	if (oc->socketdir && oc->socketdir[0]) {
		char path[1400];
		long pid;

		snprintf(path, sizeof(path), "%s/.s.PGSQL.%d.lock", oc->socketdir, oc->port);
		pid = lock_pid(oc->host, path);
		if (pid < 0) {
			*warning = true;
			log_warning("cannot reach the old coordinator's host %s over ssh: it counts as "
				    "down. Make sure it is (powered off or cut off from clients) before "
				    "clients use the new coordinator",
				    oc->host);
			return 0;
		}
		if (pid > 0) {
			int alive = pid_alive(oc->host, pid);

			if (alive > 0) {
				errbuf_set(err, "process %ld holds the coordinator's socket lock %s on %s",
					   pid, path, oc->host);
				return 1;
			}
			log_info("the socket lock %s on %s names process %ld, which is gone: left by "
				 "the coordinator that failed",
				 path, oc->host, pid);
		}
	}
	if (oc->datadir && host_is_local(oc->host)) {
		pid_t pid = 0;

		if (postmaster_running(oc->datadir, &pid)) {
			errbuf_set(err, "a postmaster (PID %d) runs in the coordinator's data directory "
				   "%s",
				   (int) pid, oc->datadir);
			return 1;
		}
	}
	return 0;
}
