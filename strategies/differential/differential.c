/*
 * differential: Greenplum 7's --differential, an rsync-style copy made with librsync. Inside a
 * non-exclusive backup of the source (pg_backup_start ... pg_backup_stop, held in one session),
 * a helper next to the source data reads every file and compares it with the signature the
 * target streams of its own copy: relation files page by page at their own offsets, other
 * files with a librsync delta. Only what differs crosses the network; the target removes what
 * the source no longer has and receives the backup's label, so that it replays from the
 * backup's start and streams the rest through the pair's slot (no pg_wal copy).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/sourcecheck.h"
#include "base/tablespace.h"
#include "base/targetio.h"
#include "differential/diffapply.h"
#include "differential/difflist.h"
#include "differential/diffsource.h"
#include "differential/rules.h"
#include "differential/sigsend.h"
#include "differential/diffwire.h"
#include "exec.h"
#include "fsutil.h"
#include "inject.h"
#include "log.h"
#include "pgconn.h"
#include "registry.h"
#include "replication.h"
#include "strategy.h"
#include "strbuf.h"
#include "units.h"
#include "xalloc.h"

#define DIFF_APPLICATION_NAME "gprecoverseg_differential"
#define LOG_DIRECTORY_ARG "log_directory="

/* One run: owned here, released by release(). */
struct diff {
	struct recovery *r;
	PGconn *conn;
	char *log_directory; /* relative, or NULL */
	bool in_backup;
	bool source_local;
	struct diff_list source, target;
	struct targetio *tio;
	struct strategy_helper helper;
	bool helper_started;
	size_t links_made, removed, dirs_made;
};

static PGconn *connect_source(const struct recovery *r, struct errbuf *err)
{
	struct pgconn_params p = { .host = r->source_host, .port = r->source_port,
				   .application_name = DIFF_APPLICATION_NAME };
	PGconn *conn = pg_connect(&p, err);

	if (conn == NULL)
		errbuf_prefix(err, "source dbid %d", r->source_dbid);
	return conn;
}

static int check_args(const struct recovery *r, struct errbuf *err)
{
	if (r->target_datadir == NULL || r->target_datadir[0] != '/')
		return errbuf_set(err, "differential strategy: the target data directory \"%s\" is "
				       "not an absolute path",
				  r->target_datadir ? r->target_datadir : "");
	if (r->source_host == NULL || r->source_host[0] == '\0' || r->source_datadir == NULL ||
	    r->source_datadir[0] != '/')
		return errbuf_set(err, "differential strategy: dbid %d needs its source's host and "
				       "data directory",
				  r->dbid);
	if (r->dbid == r->source_dbid)
		return errbuf_set(err, "differential strategy: dbid %d cannot be its own source",
				  r->dbid);
	return 0;
}

static int differential_check(struct recovery *r, struct errbuf *err)
{
	struct tablespace *ts = NULL;
	size_t nts = 0;
	PGconn *conn;
	int rc;

	/* Any state of the target is repaired, a partial copy of ours included: no mark check. */
	if (check_args(r, err) != 0)
		return -1;
	conn = connect_source(r, err);
	if (conn == NULL)
		return -1;
	rc = tablespace_list_source(conn, r, false, &ts, &nts, err);
	tablespaces_free(ts, nts);
	PQfinish(conn);
	return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* The source: its settings and the backup bracket */

static int begin_backup(struct diff *d, struct errbuf *err)
{
	struct recovery *r = d->r;
	char label[64], *lsn = NULL;
	const char *params[1] = { label };

	if (source_log_directory(d->conn, &d->log_directory, err) != 0)
		return -1;
	r->host->phase(r, "checkpoint");
	/* The slot first: it keeps every WAL record from before the backup's start. */
	if (slot_ensure(d->conn, true, err) != 0)
		return -1;
	snprintf(label, sizeof(label), "segrecover differential dbid %d", r->dbid);
	if (pg_query_value(d->conn, "SELECT pg_backup_start($1, true)::text", 1, params, &lsn,
			   err) != 0)
		return errbuf_prefix(err, "pg_backup_start on source dbid %d", r->source_dbid);
	d->in_backup = true;
	strategy_log(r, LOG_INFO, "dbid %d: backup of source dbid %d (%s:%d) started at %s", r->dbid,
		     r->source_dbid, r->source_host, r->source_port, lsn ? lsn : "?");
	free(lsn);
	return 0;
}

/* The mapped tablespace locations in a tablespace_map: "<oid> <path>" per line. */
static int remap_tablespace_map(struct diff *d, const char *map, struct strbuf *out,
				struct errbuf *err)
{
	const char *line = map;

	while (*line) {
		const char *nl = strchr(line, '\n'), *sp = strchr(line, ' ');
		size_t len = nl ? (size_t) (nl - line) : strlen(line);
		char *path, *mapped = NULL;
		unsigned oid;

		if (len == 0) {
			line += 1;
			continue;
		}
		if (sp == NULL || sp > line + len)
			return errbuf_set(err, "cannot read the line \"%.*s\" of the source's "
					       "tablespace_map",
					  (int) len, line);
		oid = (unsigned) strtoul(line, NULL, 10);
		path = xstrndup(sp + 1, len - (size_t) (sp + 1 - line));
		if (tablespace_map(path, oid, d->r->source_dbid, d->r->dbid, d->source_local,
				   &mapped, err) != 0) {
			free(path);
			return -1;
		}
		strbuf_addf(out, "%u %s\n", oid, mapped);
		free(path);
		free(mapped);
		line += len + (nl ? 1 : 0);
	}
	return 0;
}

/* pg_backup_stop in the session that started it; the label makes the target replay from the start. */
static int end_backup(struct diff *d, struct errbuf *err)
{
	PGresult *res = pg_query(d->conn, "SELECT lsn::text, labelfile, spcmapfile FROM "
					  "pg_backup_stop(false)",
				 0, NULL, err);
	struct strbuf map = STRBUF_INIT;
	int rc = -1;

	if (res == NULL)
		return errbuf_prefix(err, "pg_backup_stop on source dbid %d", d->r->source_dbid);
	d->in_backup = false;
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 1)) {
		errbuf_set(err, "pg_backup_stop on source dbid %d returned no backup label",
			   d->r->source_dbid);
		goto out;
	}
	strbuf_init(&map, 256);
	if (targetio_sync(d->tio, err) != 0 ||
	    remap_tablespace_map(d, PQgetisnull(res, 0, 2) ? "" : PQgetvalue(res, 0, 2), &map, err) != 0)
		goto out;
	/* Everything copied is durable before the label that makes the directory startable. */
	if (map.len > 0 && targetio_write_file(d->tio, "tablespace_map", map.buf, map.len, err) != 0)
		goto out;
	if (targetio_write_file(d->tio, "backup_label", PQgetvalue(res, 0, 1),
				strlen(PQgetvalue(res, 0, 1)), err) != 0 ||
	    targetio_sync(d->tio, err) != 0)
		goto out;
	strategy_log(d->r, LOG_INFO, "dbid %d: backup of source dbid %d ended at %s; the target "
				     "replays from its start",
		     d->r->dbid, d->r->source_dbid, PQgetvalue(res, 0, 0));
	rc = 0;
out:
	strbuf_release(&map);
	PQclear(res);
	return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* The target's tree: links, removals, directories */

/* Each tablespace link of the source, on the target, points at the target's own directory. */
static int fix_link(struct diff *d, const struct diff_entry *e, struct errbuf *err)
{
	struct tablespace ts = { 0 };
	char *path, dest[4096];
	struct stat st;
	ssize_t n;
	int rc = -1;

	if (strncmp(e->path, "pg_tblspc/", 10) != 0 || strchr(e->path + 10, '/') ||
	    (ts.oid = (unsigned) strtoul(e->path + 10, NULL, 10)) == 0)
		return errbuf_set(err, "the source has a symbolic link \"%s\" outside pg_tblspc; "
				       "only tablespace links are supported (use gprecoverseg -F)",
				  e->path);
	ts.source_location = e->link;
	if (tablespace_map(e->link, ts.oid, d->r->source_dbid, d->r->dbid, d->source_local,
			   &ts.target_location, err) != 0 ||
	    tablespace_check_place(&ts, d->r->target_datadir, d->r->source_datadir, d->source_local,
				   err) != 0)
		goto out;
	path = path_join(d->r->target_datadir, e->path);
	n = readlink(path, dest, sizeof(dest) - 1);
	if (n > 0) {
		dest[n] = '\0';
		if (tablespace_same_location(dest, ts.target_location)) {
			free(path);
			rc = 0;
			goto out;
		}
	}
	rc = lstat(path, &st);
	free(path);
	if (rc == 0 && !S_ISLNK(st.st_mode)) {
		rc = errbuf_set(err, "the target holds \"%s\" as a directory, not a tablespace link; "
				     "use gprecoverseg -F",
				e->path);
		goto out;
	}
	/* A new link: its directory must not hold anything yet (it could be someone else's). */
	if ((rc == 0 && targetio_remove(d->tio, e->path, FILE_TYPE_SYMLINK, err) != 0) ||
	    tablespace_check_empty(&ts, err) != 0 || mkdir_p(ts.target_location, 0700, err) != 0 ||
	    targetio_symlink(d->tio, e->path, ts.target_location, err) != 0) {
		rc = -1;
		goto out;
	}
	strategy_log(d->r, LOG_INFO, "dbid %d: tablespace %u: %s on the source, %s on the target",
		     d->r->dbid, ts.oid, e->link, ts.target_location);
	d->links_made++;
	rc = 0;
out:
	free(ts.target_location);
	return rc;
}

static void target_cb(void *arg, const char *path, enum file_type type, uint64_t size,
		      const char *link)
{
	diff_list_add(arg, path, type, size, link);
}

/* Under a tablespace link the source does not have: the link goes, not what it points to. */
static bool under_dropped_link(const struct diff *d, const char *path)
{
	const char *slash;
	char link[64];

	if (strncmp(path, "pg_tblspc/", 10) != 0 || (slash = strchr(path + 10, '/')) == NULL ||
	    (size_t) (slash - path) >= sizeof(link))
		return false;
	memcpy(link, path, (size_t) (slash - path));
	link[slash - path] = '\0';
	return diff_list_find(&d->source, link) == NULL;
}

/* What only the target has (or has as another type) goes; children before their parents. */
static int remove_extra(struct diff *d, struct errbuf *err)
{
	for (size_t i = d->target.n; i-- > 0;) {
		const struct diff_entry *te = &d->target.entries[i];
		const struct diff_entry *se = diff_list_find(&d->source, te->path);
		enum diff_rule rule = diff_rule_of(te->path, d->log_directory);

		if (rule == DIFF_OWN || under_dropped_link(d, te->path))
			continue;
		if (rule == DIFF_SYNC && se != NULL && se->type == te->type)
			continue;
		if (targetio_remove(d->tio, te->path, te->type, err) != 0)
			return -1;
		d->removed++;
	}
	return 0;
}

static int make_dirs(struct diff *d, struct errbuf *err)
{
	for (size_t i = 0; i < d->source.n; i++) {
		const struct diff_entry *se = &d->source.entries[i], *te;

		if (se->type != FILE_TYPE_DIRECTORY)
			continue;
		te = diff_list_find(&d->target, se->path);
		if (te != NULL && te->type == FILE_TYPE_DIRECTORY)
			continue;
		if (targetio_mkdir(d->tio, se->path, err) != 0)
			return -1;
		d->dirs_made++;
	}
	return 0;
}

static int prepare_tree(struct diff *d, struct errbuf *err)
{
	for (size_t i = 0; i < d->source.n; i++)
		if (d->source.entries[i].type == FILE_TYPE_SYMLINK &&
		    fix_link(d, &d->source.entries[i], err) != 0)
			return -1;
	/* Listed after the links are right, so that it sees the target's own tablespaces. */
	if (targetio_list_files(d->r->target_datadir, target_cb, &d->target, err) != 0)
		return -1;
	diff_list_seal(&d->target);
	return remove_extra(d, err) != 0 || make_dirs(d, err) != 0 ? -1 : 0;
}

/* ---------------------------------------------------------------------------------------- */
/* The copy */

static int start_helper(struct diff *d, struct errbuf *err)
{
	char *arg = xasprintf(LOG_DIRECTORY_ARG "%s", d->log_directory ? d->log_directory : "");
	const char *args[2] = { arg, NULL };
	int rc = d->r->host->start_helper(d->r, args, &d->helper, err);

	free(arg);
	d->helper_started = rc == 0;
	/* Room for the signing thread to run ahead of the helper (a pipe holds 64 kB by default). */
	if (rc == 0) {
		fcntl(d->helper.to_fd, F_SETPIPE_SZ, 1 << 20);
		fcntl(d->helper.from_fd, F_SETPIPE_SZ, 1 << 20);
	}
	return rc;
}

static int stop_helper(struct diff *d, bool failed, struct errbuf *err)
{
	struct errbuf ignored;
	int status;

	if (!d->helper_started)
		return 0;
	d->helper_started = false;
	/* After a failure here the helper may be blocked writing to us: end it. */
	if (failed && d->helper.pid > 0)
		kill(d->helper.pid, SIGTERM);
	status = d->r->host->finish_helper(&d->helper, failed ? &ignored : err);
	if (!failed && status != 0)
		return errbuf_set(err, "the differential helper next to source dbid %d exited with "
				       "status %d",
				  d->r->source_dbid, status);
	return 0;
}

static int copy(struct diff *d, struct diffapply_totals *t, struct errbuf *err)
{
	struct recovery *r = d->r;
	struct wire_in in;
	struct sigsend ss = { 0 };
	struct errbuf thread_err;
	bool helper_gone = false;
	int rc;

	r->host->phase(r, "file-lists");
	if (start_helper(d, err) != 0)
		return -1;
	wire_in_init(&in, d->helper.from_fd, "the differential helper next to the source");
	rc = diff_list_receive(&d->source, &in, err);
	if (rc == 0) {
		r->bytes_total = d->source.bytes;
		rc = prepare_tree(d, err);
	}
	if (rc == 0) {
		r->host->phase(r, "compare");
		inject_point("differential-copy");
		rc = sigsend_start(&ss, r->target_datadir, &d->source, d->helper.to_fd, err);
		if (rc == 0)
			d->helper.to_fd = -1; /* the thread owns it now */
	}
	if (rc == 0)
		rc = diffapply_run(r, d->tio, &d->source, &d->target, &in, t, err);
	if (rc != 0 && d->helper.pid > 0)
		kill(d->helper.pid, SIGTERM); /* unblocks the signing thread */
	errbuf_clear(&thread_err);
	/*
	 * The signing thread failed: its own error explains a helper that went quiet better than
	 * the end of the helper's stream does. A thread that could not write, and a stream that
	 * ended, both mean the helper stopped without saying why here: say where it did.
	 */
	if (sigsend_join(&ss, &thread_err) != 0) {
		if (rc == 0 || in.broken)
			memcpy(err, &thread_err, sizeof(*err));
		rc = -1;
		helper_gone = helper_gone || ss.write_failed;
	}
	helper_gone = helper_gone || in.broken;
	wire_in_release(&in);
	if (rc != 0 && helper_gone)
		errbuf_append(err, "The helper next to source dbid %d stopped; its own messages are in "
				   "gpsegrecovery's log on %s (~/gpAdminLogs).",
			      r->source_dbid, r->source_host);
	if (stop_helper(d, rc != 0, err) != 0)
		rc = -1;
	return rc;
}

static void release(struct diff *d)
{
	struct errbuf ignored;

	stop_helper(d, true, &ignored);
	/* A session that ends aborts its backup: nothing is left in backup mode on the source. */
	if (d->conn)
		PQfinish(d->conn);
	diff_list_free(&d->source);
	diff_list_free(&d->target);
	targetio_free(d->tio);
	free(d->log_directory);
}

static int differential_run(struct recovery *r, struct errbuf *err)
{
	struct diff d = { .r = r };
	struct diffapply_totals t = { 0 };
	int rc = -1;

	if (check_args(r, err) != 0)
		return -1;
	d.source_local = host_is_local(r->source_host);
	d.conn = connect_source(r, err);
	if (d.conn == NULL || begin_backup(&d, err) != 0)
		goto out;
	/* From here on the target changes: it can only start as a standby, and says it is mixed. */
	if (r->host->begin_changes(r, err) != 0)
		goto out;
	d.tio = targetio_create(r->target_datadir, NULL, NULL);
	if (copy(&d, &t, err) != 0)
		goto out;
	r->host->phase(r, "sync");
	if (end_backup(&d, err) != 0)
		goto out;
	r->bytes_copied = t.received;
	strategy_log(r, LOG_INFO, "dbid %d: compared %llu MB, received %llu MB: %zu changed pages, "
				  "%zu files patched, %zu copied whole, %zu vanished on the source; "
				  "%zu removed, %zu truncated, %zu directories and %zu tablespace "
				  "links made",
		     r->dbid, units_whole_mb(t.compared), units_whole_mb(t.received), t.pages, t.patched, t.whole, t.gone,
		     d.removed, t.truncated, d.dirs_made, d.links_made);
	strategy_log(r, LOG_INFO, "peak memory of the differential helper next to source dbid %d: "
				  "%.1f MB",
		     r->source_dbid, (double) t.helper_peak_kb / 1024.0);
	rc = 0;
out:
	release(&d);
	return rc;
}

static int differential_helper(const char *source_datadir, const char *const *args, int in_fd,
			       int out_fd, struct errbuf *err)
{
	const char *log_directory = NULL;

	for (size_t i = 0; args && args[i]; i++)
		if (strncmp(args[i], LOG_DIRECTORY_ARG, strlen(LOG_DIRECTORY_ARG)) == 0)
			log_directory = args[i] + strlen(LOG_DIRECTORY_ARG);
	return diffsource_run(source_datadir, log_directory && log_directory[0] ? log_directory : NULL,
			      in_fd, out_fd, err);
}

const struct strategy strategy_differential = {
	.abi_version = STRATEGY_ABI_VERSION,
	.name = "differential",
	.label = "Differential",
	.caps = STRATEGY_IN_PLACE_ONLY,
	.check = differential_check,
	.run = differential_run,
	.helper = differential_helper,
};
