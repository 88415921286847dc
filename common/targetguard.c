#include "targetguard.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "exec.h"
#include "fsutil.h"
#include "postmaster.h"
#include "xalloc.h"

/* How long postgres processes of a postmaster that just died may take to exit. */
#define STRAGGLER_WAIT_S 10.0

void guard_init(struct target_guard *g, const char *this_address)
{
	memset(g, 0, sizeof(*g));
	g->this_address = this_address;
}

void guard_free(struct target_guard *g)
{
	for (size_t i = 0; i < g->n; i++) {
		free(g->inst[i].hostname);
		free(g->inst[i].address);
		free(g->inst[i].datadir);
	}
	free(g->inst);
	memset(g, 0, sizeof(*g));
}

void guard_protect(struct target_guard *g, int dbid, const char *hostname, const char *address,
		   int port, const char *datadir)
{
	struct guard_instance *in;

	if (g->n == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 16;
		g->inst = xrealloc(g->inst, g->cap * sizeof(*g->inst));
	}
	in = &g->inst[g->n++];
	in->dbid = dbid;
	in->hostname = xstrdup(hostname ? hostname : "");
	in->address = xstrdup(address ? address : "");
	in->port = port;
	in->datadir = xstrdup(datadir);
	in->local = -1;
}

int guard_protect_spec(struct target_guard *g, const char *spec, struct errbuf *err)
{
	const char *f[4];
	const char *p = spec;
	char *host, *addr, *end;
	long dbid, port;

	/* dbid|hostname|address|port|datadir: the data directory last, so it may hold a '|'. */
	for (int i = 0; i < 4; i++) {
		f[i] = p;
		p = strchr(p, '|');
		if (p == NULL)
			return errbuf_set(err, "--protect \"%s\": expected dbid|hostname|address|port|datadir",
					  spec);
		p++;
	}
	dbid = strtol(f[0], &end, 10);
	if (end == f[0] || *end != '|' || dbid < 0 || dbid > 32767)
		return errbuf_set(err, "--protect \"%s\": the dbid is not a number", spec);
	port = strtol(f[3], &end, 10);
	if (end == f[3] || *end != '|' || port < 0 || port > 65535)
		return errbuf_set(err, "--protect \"%s\": the port is not a number", spec);
	if (p[0] != '/')
		return errbuf_set(err, "--protect \"%s\": the data directory is not absolute", spec);
	host = xstrndup(f[1], (size_t) (f[2] - f[1] - 1));
	addr = xstrndup(f[2], (size_t) (f[3] - f[2] - 1));
	guard_protect(g, (int) dbid, host, addr, (int) port, p);
	free(host);
	free(addr);
	return 0;
}

char *guard_format_spec(int dbid, const char *hostname, const char *address, int port,
			const char *datadir)
{
	return xasprintf("%d|%s|%s|%d|%s", dbid, hostname, address, port, datadir);
}

int guard_path_text(const char *what, const char *path, struct errbuf *err)
{
	if (path == NULL || path[0] != '/')
		return errbuf_set(err, "%s \"%s\" is not an absolute path", what, path ? path : "");
	for (const unsigned char *c = (const unsigned char *) path; *c; c++) {
		/* pg_ctl runs the server through /bin/sh with the directory inside "...". */
		if (*c == '"' || *c == '$' || *c == '`' || *c == '\\')
			return errbuf_set(err, "%s \"%s\" holds the character '%c', which PostgreSQL's "
					       "pg_ctl would hand to a shell: choose a path without \" $ ` "
					       "or \\",
					  what, path, *c);
		if (*c < 0x20 || *c == 0x7f)
			return errbuf_set(err, "%s holds a control character (byte 0x%02x at offset %zu): "
					       "choose a printable path",
					  what, *c, (size_t) ((const char *) c - path));
	}
	if (!path_is_normal_absolute(path))
		return errbuf_set(err, "%s \"%s\" is not normalized (an empty, \".\" or \"..\" component, "
				       "or a trailing slash): write it as a plain absolute path",
				  what, path);
	return 0;
}

static bool is_local(struct target_guard *g, struct guard_instance *in)
{
	if (in->local < 0) {
		bool same = g->this_address && g->this_address[0] &&
			    (strcmp(in->address, g->this_address) == 0 ||
			     strcmp(in->hostname, g->this_address) == 0);

		in->local = same || (in->address[0] && host_is_local(in->address)) ||
			    (in->hostname[0] && host_is_local(in->hostname));
	}
	return in->local == 1;
}

static const char *relation_words(enum path_relation rel)
{
	return rel == PATH_SAME ? "is" : rel == PATH_CONTAINS ? "contains" : "lies inside";
}

/* Resolved, or the text itself when it cannot be (a protected path that is not there). */
static char *resolve_or_copy(const char *path)
{
	struct errbuf ignored;
	char *real = path_is_normal_absolute(path) ? path_resolve(path, &ignored) : NULL;

	return real ? real : xstrdup(path);
}

/*
 * Call FN for every directory DATADIR's pg_tblspc links resolve to (OID is the link's name),
 * until it fails; links that lead nowhere are skipped.
 */
static int each_tablespace(const char *datadir,
			   int (*fn)(void *ctx, const char *oid, const char *dest, struct errbuf *err),
			   void *ctx, struct errbuf *err)
{
	char *tblspc = path_join(datadir, "pg_tblspc");
	DIR *d = opendir(tblspc);
	struct dirent *de;
	int rc = 0;

	while (d && rc == 0 && (de = readdir(d)) != NULL) {
		char *link, *dest;

		if (de->d_name[0] == '.')
			continue;
		link = path_join(tblspc, de->d_name);
		dest = realpath(link, NULL);
		free(link);
		if (dest != NULL)
			rc = fn(ctx, de->d_name, dest, err);
		free(dest);
	}
	if (d)
		closedir(d);
	free(tblspc);
	return rc;
}

struct instance_check {
	const struct guard_instance *in;
	const char *path, *real;
};

static int check_instance_tablespace(void *ctx, const char *oid, const char *dest, struct errbuf *err)
{
	const struct instance_check *ic = ctx;
	enum path_relation rel = path_relation(ic->real, dest);

	(void) oid;
	if (rel == PATH_UNRELATED)
		return 0;
	return errbuf_set(err, "\"%s\" %s the tablespace directory %s of dbid %d (%s:%d %s), another "
			       "instance of the cluster: refusing to touch it",
			  ic->path, relation_words(rel), dest, ic->in->dbid, ic->in->address,
			  ic->in->port, ic->in->datadir);
}

static int check_instance(const struct guard_instance *in, const char *path, const char *real,
			  struct errbuf *err)
{
	char *ireal = resolve_or_copy(in->datadir);
	enum path_relation rel = path_relation(real, ireal);
	struct instance_check ic = { .in = in, .path = path, .real = real };
	bool resolved = strcmp(path, real) != 0;
	int rc;

	if (rel != PATH_UNRELATED)
		rc = errbuf_set(err, "\"%s\"%s%s%s %s the data directory of dbid %d (%s:%d %s), another "
				     "instance of the cluster: refusing to touch it",
				path, resolved ? " (resolved: " : "", resolved ? real : "",
				resolved ? ")" : "", relation_words(rel), in->dbid, in->address, in->port,
				in->datadir);
	else
		rc = each_tablespace(ireal, check_instance_tablespace, &ic, err);
	free(ireal);
	return rc;
}

struct own_tablespace_check {
	struct target_guard *g;
	const char *datadir;
};

static int check_own_tablespace(void *ctx, const char *oid, const char *dest, struct errbuf *err)
{
	const struct own_tablespace_check *oc = ctx;

	if (guard_check(oc->g, dest, NULL, err) == GUARD_OK)
		return 0;
	return errbuf_prefix(err, "tablespace %s of \"%s\"", oid, oc->datadir);
}

int guard_check_tablespaces(struct target_guard *g, const char *datadir, struct errbuf *err)
{
	struct own_tablespace_check oc = { .g = g, .datadir = datadir };

	return each_tablespace(datadir, check_own_tablespace, &oc, err);
}

enum guard_verdict guard_check(struct target_guard *g, const char *path, pid_t *pid,
			       struct errbuf *err)
{
	struct postgres_process p;
	double deadline = now_seconds() + STRAGGLER_WAIT_S;
	char *real;
	enum guard_verdict verdict = GUARD_OK;

	if (pid)
		*pid = 0;
	if (guard_path_text("the target directory", path, err) != 0)
		return GUARD_REFUSED;
	real = path_resolve(path, err);
	if (real == NULL)
		return GUARD_REFUSED;
	for (size_t i = 0; i < g->n; i++)
		if (is_local(g, &g->inst[i]) && check_instance(&g->inst[i], path, real, err) != 0) {
			free(real);
			return GUARD_REFUSED;
		}
	while (postgres_process_near(real, &p)) {
		if (p.postmaster_runs) {
			if (p.relation == PATH_SAME) {
				if (pid)
					*pid = p.postmaster;
				errbuf_set(err, "a postmaster (PID %d) runs in \"%s\"", (int) p.postmaster,
					   path);
				verdict = GUARD_TARGET_RUNNING;
			} else {
				errbuf_set(err, "\"%s\" %s \"%s\", where a PostgreSQL server (PID %d) runs: "
						"refusing to touch it",
					   path, relation_words(p.relation), p.cwd, (int) p.postmaster);
				verdict = GUARD_REFUSED;
			}
			break;
		}
		/* Backends of a postmaster that was just killed exit within moments. */
		if (now_seconds() > deadline) {
			errbuf_set(err, "postgres process %d still works in \"%s\" although no postmaster "
					"runs there: wait for it to exit (or stop it), then run the recovery "
					"again",
				   (int) p.pid, p.cwd);
			verdict = GUARD_REFUSED;
			break;
		}
		usleep(100 * 1000);
	}
	free(real);
	return verdict;
}
