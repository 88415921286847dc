#include "driver/primaryhba.h"

#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec.h"
#include "hba.h"
#include "log.h"
#include "pgconn.h"
#include "proto/agentproto.h"
#include "strbuf.h"
#include "xalloc.h"

static int allow_one(const struct plan_row *row, bool hba_hostnames,
		     const char *user, struct errbuf *err)
{
	const struct segment *src = row->source;
	struct strbuf entries = STRBUF_INIT, out = STRBUF_INIT, errout = STRBUF_INIT;
	char *hba_file = NULL, *agent = agentproto_agent_path();
	PGconn *conn = NULL;
	int rc = -1, status = -1;

	strbuf_init(&entries, 256);
	strbuf_init(&out, 0);
	strbuf_init(&errout, 0);
	if (hba_entries_for_mirror(row->target.hostname, row->target.address, user,
				   hba_hostnames, &entries, err) != 0)
		goto out;
	conn = pg_connect_segment(src, 10, false, err);
	if (conn == NULL)
		goto out;
	if (pg_query_value(conn, "SHOW hba_file", 0, NULL, &hba_file, err) != 0 || hba_file == NULL) {
		errbuf_prefix(err, "primary " SEG_FMT, SEG_ARGS(src));
		goto out;
	}
	{
		const char *argv[] = { agent, "--update-hba", "--hba-file", hba_file, "--hba-entries",
				       entries.buf, NULL };
		struct exec_options eo = { .host = src->hostname };

		if (exec_run(&eo, argv, &out, &errout, &status, err) != 0)
			goto out;
		if (status != 0) {
			strbuf_rtrim(&errout);
			errbuf_set(err, "updating %s on %s failed (exit %d): %s", hba_file, src->hostname,
				   status, errout.buf);
			goto out;
		}
	}
	if (strstr(out.buf, "changed") == out.buf) {
		if (pg_exec(conn, "SELECT pg_reload_conf()", 0, NULL, err) != 0) {
			errbuf_prefix(err, "primary " SEG_FMT, SEG_ARGS(src));
			goto out;
		}
		log_info("pg_hba.conf of primary " SEG_FMT " now admits replication from %s", SEG_ARGS(src),
			 hba_hostnames ? row->target.hostname : row->target.address);
	} else {
		log_debug("pg_hba.conf of primary " SEG_FMT " already admits %s", SEG_ARGS(src),
			  row->target.address);
	}
	rc = 0;
out:
	PQfinish(conn);
	free(hba_file);
	free(agent);
	strbuf_release(&entries);
	strbuf_release(&out);
	strbuf_release(&errout);
	return rc;
}

int primaryhba_allow_mirrors(const struct plan *plan, bool hba_hostnames,
			     struct errbuf *err)
{
	struct passwd *pw = getpwuid(geteuid());
	const char *user = pw ? pw->pw_name : "gpadmin";

	log_info("Starting to create new pg_hba.conf on primary segments");
	for (size_t i = 0; i < plan->nrows; i++)
		if (allow_one(&plan->rows[i], hba_hostnames, user, err) != 0)
			return -1;
	log_info("Successfully modified pg_hba.conf on primary segments to allow replication "
		 "connections");
	return 0;
}
