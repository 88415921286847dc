#include "catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgconn.h"
#include "xalloc.h"

static int compare_segments(const void *a, const void *b)
{
	const struct segment *x = a, *y = b;

	if (x->content != y->content)
		return x->content < y->content ? -1 : 1;
	return x->dbid < y->dbid ? -1 : x->dbid > y->dbid;
}

int catalog_load(PGconn *coordinator, struct catalog *cat, struct errbuf *err)
{
	static const char sql[] =
		"SELECT dbid, content, role, preferred_role, mode, status, port, hostname, address, "
		"datadir FROM gp_segment_configuration ORDER BY content, dbid";
	PGresult *res;
	int n;

	memset(cat, 0, sizeof(*cat));
	res = pg_query(coordinator, sql, 0, NULL, err);
	if (res == NULL)
		return errbuf_prefix(err, "cannot read gp_segment_configuration on the coordinator");
	n = PQntuples(res);
	cat->segs = xcalloc((size_t) (n > 0 ? n : 1), sizeof(struct segment));
	for (int i = 0; i < n; i++) {
		struct segment *s = &cat->segs[i];

		for (int col = 0; col < 10; col++)
			if (PQgetisnull(res, i, col)) {
				errbuf_set(err, "gp_segment_configuration row %d has a NULL %s", i + 1,
					   PQfname(res, col));
				PQclear(res);
				catalog_free(cat);
				return -1;
			}
		s->dbid = atoi(PQgetvalue(res, i, 0));
		s->content = atoi(PQgetvalue(res, i, 1));
		s->role = PQgetvalue(res, i, 2)[0];
		s->preferred_role = PQgetvalue(res, i, 3)[0];
		s->mode = PQgetvalue(res, i, 4)[0];
		s->status = PQgetvalue(res, i, 5)[0];
		s->port = atoi(PQgetvalue(res, i, 6));
		s->hostname = xstrdup(PQgetvalue(res, i, 7));
		s->address = xstrdup(PQgetvalue(res, i, 8));
		s->datadir = xstrdup(PQgetvalue(res, i, 9));
		cat->nsegs++;
	}
	PQclear(res);
	qsort(cat->segs, cat->nsegs, sizeof(struct segment), compare_segments);
	return 0;
}

void catalog_free(struct catalog *cat)
{
	for (size_t i = 0; i < cat->nsegs; i++)
		segment_free(&cat->segs[i]);
	free(cat->segs);
	cat->segs = NULL;
	cat->nsegs = 0;
}

const struct segment *catalog_by_dbid(const struct catalog *cat, int dbid)
{
	for (size_t i = 0; i < cat->nsegs; i++)
		if (cat->segs[i].dbid == dbid)
			return &cat->segs[i];
	return NULL;
}

const struct segment *catalog_acting(const struct catalog *cat, int content, char role)
{
	for (size_t i = 0; i < cat->nsegs; i++)
		if (cat->segs[i].content == content && cat->segs[i].role == role)
			return &cat->segs[i];
	return NULL;
}

const struct segment *catalog_peer(const struct catalog *cat, const struct segment *seg)
{
	for (size_t i = 0; i < cat->nsegs; i++)
		if (cat->segs[i].content == seg->content && cat->segs[i].dbid != seg->dbid)
			return &cat->segs[i];
	return NULL;
}

int catalog_ncontents(const struct catalog *cat)
{
	int max = -1;

	for (size_t i = 0; i < cat->nsegs; i++)
		if (cat->segs[i].content > max)
			max = cat->segs[i].content;
	return max + 1;
}

int catalog_has_mirrors(const struct catalog *cat)
{
	for (size_t i = 0; i < cat->nsegs; i++)
		if (cat->segs[i].content >= 0 && cat->segs[i].role == ROLE_MIRROR)
			return 1;
	for (size_t i = 0; i < cat->nsegs; i++)
		if (cat->segs[i].content >= 0 && cat->segs[i].preferred_role == ROLE_MIRROR)
			return 1;
	return 0;
}

static int check_letters(const struct segment *s, struct errbuf *err)
{
	if (s->role != ROLE_PRIMARY && s->role != ROLE_MIRROR)
		return errbuf_set(err, SEG_FMT " has role '%c'; expected 'p' or 'm'", SEG_ARGS(s),
				  s->role);
	if (s->preferred_role != ROLE_PRIMARY && s->preferred_role != ROLE_MIRROR)
		return errbuf_set(err, SEG_FMT " has preferred_role '%c'; expected 'p' or 'm'",
				  SEG_ARGS(s), s->preferred_role);
	if (s->mode != MODE_SYNCED && s->mode != MODE_NOT_SYNCED)
		return errbuf_set(err, SEG_FMT " has mode '%c'; expected 's' or 'n'", SEG_ARGS(s),
				  s->mode);
	if (s->status != STATUS_UP && s->status != STATUS_DOWN)
		return errbuf_set(err, SEG_FMT " has status '%c'; expected 'u' or 'd'", SEG_ARGS(s),
				  s->status);
	if (s->port <= 0 || s->port > 65535)
		return errbuf_set(err, SEG_FMT " has port %d, outside 1-65535", SEG_ARGS(s), s->port);
	if (s->datadir[0] != '/')
		return errbuf_set(err, SEG_FMT " has a data directory that is not an absolute path",
				  SEG_ARGS(s));
	return 0;
}

static int check_pair_state(const struct segment *p, const struct segment *m, struct errbuf *err)
{
	/* Greenplum's valid pair states, primary then mirror: (u,s,u,s), (u,n,u,n), (u,n,d,n). */
	if (p->status == STATUS_UP && m->status == STATUS_UP && p->mode == m->mode)
		return 0;
	if (p->status == STATUS_UP && p->mode == MODE_NOT_SYNCED && m->status == STATUS_DOWN &&
	    m->mode == MODE_NOT_SYNCED)
		return 0;
	if (p->status == STATUS_DOWN)
		return errbuf_set(err,
				  "content %d: the acting primary " SEG_FMT " is marked down while its "
				  "mirror " SEG_FMT " is %s: a double fault; the content has no "
				  "usable primary. Bring the primary's data directory back and "
				  "restart it, then run gpfts --once",
				  p->content, SEG_ARGS(p), SEG_ARGS(m),
				  m->status == STATUS_UP ? "up" : "down");
	return errbuf_set(err,
			  "content %d: primary " SEG_FMT " (status %c, mode %c) and mirror " SEG_FMT
			  " (status %c, mode %c) are not a valid pair state; fix "
			  "gp_segment_configuration or run gpfts --once",
			  p->content, SEG_ARGS(p), p->status, p->mode, SEG_ARGS(m), m->status, m->mode);
}

int catalog_validate(const struct catalog *cat, struct errbuf *err)
{
	int coordinators = 0;
	int ncontents = catalog_ncontents(cat);

	if (cat->nsegs == 0)
		return errbuf_set(err, "gp_segment_configuration is empty");
	for (size_t i = 0; i < cat->nsegs; i++) {
		const struct segment *s = &cat->segs[i];

		if (check_letters(s, err) != 0)
			return -1;
		if (s->content < COORDINATOR_CONTENT)
			return errbuf_set(err, SEG_FMT " has content %d", SEG_ARGS(s), s->content);
		if (s->content == COORDINATOR_CONTENT && s->role == ROLE_PRIMARY)
			coordinators++;
		for (size_t j = i + 1; j < cat->nsegs; j++) {
			const struct segment *t = &cat->segs[j];

			if (s->dbid == t->dbid)
				return errbuf_set(err, "dbid %d appears twice in gp_segment_configuration",
						  s->dbid);
			if (strcmp(s->hostname, t->hostname) != 0)
				continue;
			if (s->port == t->port)
				return errbuf_set(err,
						  "Segment dbid's %d and %d on host %s cannot have the "
						  "same port %d",
						  s->dbid, t->dbid, s->hostname, s->port);
			if (strcmp(s->datadir, t->datadir) == 0)
				return errbuf_set(err,
						  "Segment dbid's %d and %d on host %s cannot have the "
						  "same data directory '%s'",
						  s->dbid, t->dbid, s->hostname, s->datadir);
		}
	}
	if (coordinators != 1)
		return errbuf_set(err, "gp_segment_configuration has %d coordinator primaries "
				       "(content -1, role 'p'); expected exactly one",
				  coordinators);
	for (int c = 0; c < ncontents; c++) {
		int primaries = 0, mirrors = 0;
		const struct segment *p = NULL, *m = NULL;

		for (size_t i = 0; i < cat->nsegs; i++) {
			if (cat->segs[i].content != c)
				continue;
			if (cat->segs[i].role == ROLE_PRIMARY) {
				primaries++;
				p = &cat->segs[i];
			} else {
				mirrors++;
				m = &cat->segs[i];
			}
		}
		if (primaries != 1)
			return errbuf_set(err, "content %d has %d instances with role 'p' in "
					       "gp_segment_configuration; expected exactly one",
					  c, primaries);
		if (mirrors > 1)
			return errbuf_set(err, "content %d has %d mirrors; expected at most one", c,
					  mirrors);
		if (p && m && p->preferred_role == m->preferred_role)
			return errbuf_set(err, "content %d: " SEG_FMT " and " SEG_FMT
					       " have the same preferred_role '%c'",
					  c, SEG_ARGS(p), SEG_ARGS(m), p->preferred_role);
		if (p && m && check_pair_state(p, m, err) != 0)
			return -1;
	}
	return 0;
}

static int rollback(PGconn *conn, struct errbuf *err)
{
	struct errbuf ignored;

	pg_exec(conn, "ROLLBACK", 0, NULL, &ignored);
	return errbuf_prefix(err, "catalog update rolled back, nothing was changed");
}

static int apply_one(PGconn *conn, const struct catalog_change *c, struct errbuf *err)
{
	static const char sql[] =
		"UPDATE gp_segment_configuration SET "
		" role = coalesce($2::\"char\", role), mode = coalesce($3::\"char\", mode),"
		" status = coalesce($4::\"char\", status), port = coalesce($5::int, port),"
		" hostname = coalesce($6, hostname), address = coalesce($7, address),"
		" datadir = coalesce($8, datadir)"
		" WHERE dbid = $1 AND role = $9 AND mode = $10 AND status = $11";
	char dbid[16], role[2] = { c->role, 0 }, mode[2] = { c->mode, 0 },
				  status[2] = { c->status, 0 }, port[16], exp_role[2], exp_mode[2],
				  exp_status[2];
	const char *params[11];
	PGresult *res;
	char msg[1024];

	snprintf(dbid, sizeof(dbid), "%d", c->expect->dbid);
	snprintf(port, sizeof(port), "%d", c->port);
	exp_role[0] = c->expect->role;
	exp_mode[0] = c->expect->mode;
	exp_status[0] = c->expect->status;
	exp_role[1] = exp_mode[1] = exp_status[1] = '\0';
	params[0] = dbid;
	params[1] = c->role ? role : NULL;
	params[2] = c->mode ? mode : NULL;
	params[3] = c->status ? status : NULL;
	params[4] = c->port ? port : NULL;
	params[5] = c->hostname;
	params[6] = c->address;
	params[7] = c->datadir;
	params[8] = exp_role;
	params[9] = exp_mode;
	params[10] = exp_status;
	res = PQexecParams(conn, sql, 11, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		errbuf_set(err, "cannot update " SEG_FMT " in gp_segment_configuration: %s",
			   SEG_ARGS(c->expect), pg_errmsg(conn, msg, sizeof(msg)));
		PQclear(res);
		return -1;
	}
	if (strcmp(PQcmdTuples(res), "1") != 0) {
		errbuf_set(err, SEG_FMT " changed in gp_segment_configuration since it was read "
				"(another gpfts or gprecoverseg?); run the command again",
			   SEG_ARGS(c->expect));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	if (c->history) {
		static const char hist[] =
			"INSERT INTO gp_configuration_history (\"time\", dbid, \"desc\") "
			"VALUES (now(), $1::smallint, $2)";
		const char *hp[2] = { dbid, c->history };

		if (pg_exec(conn, hist, 2, hp, err) != 0)
			return errbuf_prefix(err, "cannot record the history of " SEG_FMT,
					     SEG_ARGS(c->expect));
	}
	return 0;
}

int catalog_apply(PGconn *coordinator, const struct catalog_change *changes, size_t nchanges,
		  struct errbuf *err)
{
	if (pg_exec(coordinator, "BEGIN", 0, NULL, err) != 0)
		return errbuf_prefix(err, "cannot start a catalog transaction");
	for (size_t i = 0; i < nchanges; i++)
		if (apply_one(coordinator, &changes[i], err) != 0)
			return rollback(coordinator, err);
	if (pg_exec(coordinator, "COMMIT", 0, NULL, err) != 0)
		return errbuf_prefix(err, "cannot commit the catalog transaction");
	return 0;
}

const struct segment *catalog_coordinator(const struct catalog *cat)
{
	return catalog_acting(cat, COORDINATOR_CONTENT, ROLE_PRIMARY);
}

const struct segment *catalog_standby(const struct catalog *cat)
{
	return catalog_acting(cat, COORDINATOR_CONTENT, ROLE_MIRROR);
}

static int history_line(PGconn *conn, int dbid, const char *desc, struct errbuf *err)
{
	static const char hist[] = "INSERT INTO gp_configuration_history (\"time\", dbid, \"desc\") "
				   "VALUES (now(), $1::smallint, $2)";
	char d[16];
	const char *hp[2] = { d, desc };

	snprintf(d, sizeof(d), "%d", dbid);
	return pg_exec(conn, hist, 2, hp, err);
}

/* One statement of a catalog transaction that returns rows; NULL (rolled back) on error. */
static PGresult *txn_query(PGconn *conn, const char *sql, int n, const char *const *params,
			   struct errbuf *err)
{
	PGresult *res = pg_query(conn, sql, n, params, err);

	if (res == NULL)
		rollback(conn, err);
	return res;
}

int catalog_add_standby(PGconn *coordinator, const char *hostname, const char *address, int port,
			const char *datadir, int *dbid, struct errbuf *err)
{
	/* The table lock makes "no standby yet, next dbid" and the insert one step. */
	static const char lock[] = "LOCK TABLE gp_segment_configuration IN EXCLUSIVE MODE";
	static const char existing[] =
		"SELECT dbid, hostname = $1 AND address = $2 AND port = $3::int AND datadir = $4"
		" FROM gp_segment_configuration WHERE content = -1 AND role = 'm'";
	static const char insert[] =
		"INSERT INTO gp_segment_configuration (dbid, content, role, preferred_role, mode,"
		" status, port, hostname, address, datadir)"
		" SELECT max(dbid) + 1, -1, 'm', 'm', 's', 'u', $3::int, $1, $2, $4"
		" FROM gp_segment_configuration RETURNING dbid";
	char portbuf[16];
	const char *params[4] = { hostname, address, portbuf, datadir };
	PGresult *res;
	char desc[512];

	snprintf(portbuf, sizeof(portbuf), "%d", port);
	if (pg_exec(coordinator, "BEGIN", 0, NULL, err) != 0)
		return errbuf_prefix(err, "cannot start a catalog transaction");
	if (pg_exec(coordinator, lock, 0, NULL, err) != 0)
		return rollback(coordinator, err);
	if ((res = txn_query(coordinator, existing, 4, params, err)) == NULL)
		return -1;
	if (PQntuples(res) > 0) {
		bool same = strcmp(PQgetvalue(res, 0, 1), "t") == 0;

		*dbid = atoi(PQgetvalue(res, 0, 0));
		PQclear(res);
		pg_exec(coordinator, "ROLLBACK", 0, NULL, err);
		if (same)
			return 0;
		return errbuf_set(err, "Standby coordinator already configured (dbid %d)", *dbid);
	}
	PQclear(res);
	if ((res = txn_query(coordinator, insert, 4, params, err)) == NULL)
		return errbuf_prefix(err, "cannot add the standby coordinator to gp_segment_configuration");
	*dbid = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	snprintf(desc, sizeof(desc), "gpinitstandby: standby coordinator added on %s:%d %s", address,
		 port, datadir);
	if (history_line(coordinator, *dbid, desc, err) != 0)
		return rollback(coordinator, err);
	if (pg_exec(coordinator, "COMMIT", 0, NULL, err) != 0)
		return errbuf_prefix(err, "cannot commit the catalog transaction");
	return 0;
}

int catalog_remove_standby(PGconn *coordinator, int dbid, bool *removed, struct errbuf *err)
{
	static const char del[] = "DELETE FROM gp_segment_configuration"
				  " WHERE dbid = $1::smallint AND content = -1 AND role = 'm'";
	char d[16];
	const char *params[1] = { d };
	PGresult *res;
	char msg[512];

	*removed = false;
	snprintf(d, sizeof(d), "%d", dbid);
	if (pg_exec(coordinator, "BEGIN", 0, NULL, err) != 0)
		return errbuf_prefix(err, "cannot start a catalog transaction");
	res = PQexecParams(coordinator, del, 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		errbuf_set(err, "cannot remove the standby coordinator (dbid %d) from "
				"gp_segment_configuration: %s",
			   dbid, pg_errmsg(coordinator, msg, sizeof(msg)));
		PQclear(res);
		return rollback(coordinator, err);
	}
	*removed = strcmp(PQcmdTuples(res), "0") != 0;
	PQclear(res);
	if (*removed) {
		snprintf(msg, sizeof(msg), "gpinitstandby: standby coordinator dbid %d removed", dbid);
		if (history_line(coordinator, dbid, msg, err) != 0)
			return rollback(coordinator, err);
	}
	if (pg_exec(coordinator, "COMMIT", 0, NULL, err) != 0)
		return errbuf_prefix(err, "cannot commit the catalog transaction");
	return 0;
}

int catalog_activate_standby(PGconn *coordinator, int dbid, bool *changed, struct errbuf *err)
{
	static const char row[] = "SELECT role, preferred_role FROM gp_segment_configuration"
				  " WHERE dbid = $1::smallint AND content = -1";
	static const char del[] = "DELETE FROM gp_segment_configuration"
				  " WHERE content = -1 AND dbid <> $1::smallint";
	static const char upd[] = "UPDATE gp_segment_configuration SET role = 'p', preferred_role = 'p'"
				  " WHERE dbid = $1::smallint AND content = -1";
	char d[16];
	const char *params[1] = { d };
	PGresult *res;
	int others;

	*changed = false;
	snprintf(d, sizeof(d), "%d", dbid);
	if (pg_exec(coordinator, "BEGIN", 0, NULL, err) != 0)
		return errbuf_prefix(err, "cannot start a catalog transaction");
	if (pg_exec(coordinator, "LOCK TABLE gp_segment_configuration IN EXCLUSIVE MODE", 0, NULL,
		    err) != 0)
		return rollback(coordinator, err);
	if ((res = txn_query(coordinator, row, 1, params, err)) == NULL)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		errbuf_set(err, "gp_segment_configuration has no content -1 row with dbid %d: this "
				"directory is not the catalog's standby coordinator", dbid);
		return rollback(coordinator, err);
	}
	*changed = PQgetvalue(res, 0, 0)[0] != ROLE_PRIMARY || PQgetvalue(res, 0, 1)[0] != ROLE_PRIMARY;
	PQclear(res);
	if ((res = txn_query(coordinator, "SELECT count(*) FROM gp_segment_configuration WHERE "
					  "content = -1 AND dbid <> $1::smallint", 1, params, err)) == NULL)
		return -1;
	others = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (others > 0)
		*changed = true;
	if (!*changed)
		return pg_exec(coordinator, "ROLLBACK", 0, NULL, err);
	if (pg_exec(coordinator, del, 1, params, err) != 0 ||
	    pg_exec(coordinator, upd, 1, params, err) != 0 ||
	    history_line(coordinator, dbid, "gpactivatestandby: standby coordinator activated; the "
					    "old coordinator's row removed", err) != 0)
		return rollback(coordinator, err);
	if (pg_exec(coordinator, "COMMIT", 0, NULL, err) != 0)
		return errbuf_prefix(err, "cannot commit the catalog transaction");
	return 0;
}
