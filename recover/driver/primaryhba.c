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
#include "runner.h"
#include "strbuf.h"
#include "strvec.h"
#include "xalloc.h"

/* One instance to update: what it must admit, where its file is, what the agent said. */
struct hba_task {
	const struct hba_admission *row;
	PGconn *conn;
	char *hba_file;
	struct strbuf entries;
	struct strvec argv;
	bool replied, changed;
	char error[1536];
};

struct hba_run {
	struct hba_task *tasks;
	size_t n;
};

static const char *hba_host(void *ctx, size_t i)
{
	return ((struct hba_run *) ctx)->tasks[i].row->instance->hostname;
}

static int hba_start(void *ctx, size_t i, struct runner_spawn *sp)
{
	struct hba_task *t = &((struct hba_run *) ctx)->tasks[i];
	char *agent = agentproto_agent_path();

	strvec_push(&t->argv, agent);
	free(agent);
	strvec_push(&t->argv, AGENT_VERB_UPDATE_HBA);
	strvec_push(&t->argv, "--dbid");
	strvec_pushf(&t->argv, "%d", t->row->instance->dbid);
	strvec_push(&t->argv, "--target-address");
	strvec_push(&t->argv, t->row->instance->address);
	strvec_push(&t->argv, "--target-port");
	strvec_pushf(&t->argv, "%d", t->row->instance->port);
	strvec_push(&t->argv, "--hba-file");
	strvec_push(&t->argv, t->hba_file);
	strvec_push(&t->argv, "--hba-entries");
	strvec_push(&t->argv, t->entries.buf);
	sp->argv = strvec_argv(&t->argv);
	return 1;
}

static void hba_line(void *ctx, size_t i, bool is_stderr, const char *line)
{
	struct hba_task *t = &((struct hba_run *) ctx)->tasks[i];
	struct agent_line al;

	if (is_stderr || agentproto_parse(line, &al) != 0) {
		log_debug("dbid %d (%s): %s", t->row->instance->dbid, t->row->instance->hostname, line);
		return;
	}
	if (al.kind == AGENT_ERROR)
		snprintf(t->error, sizeof(t->error), "%s", al.msg);
	else if (al.kind == AGENT_HBA) {
		t->replied = true;
		t->changed = al.flag;
	}
}

static bool hba_finished(void *ctx, size_t i, int status, const char *why)
{
	struct hba_task *t = &((struct hba_run *) ctx)->tasks[i];

	if (t->error[0] == '\0' && (status != 0 || !t->replied))
		snprintf(t->error, sizeof(t->error), "the agent %s",
			 why ? why : "ended without a reply");
	return false;
}

/* What the instance must admit, and where its pg_hba.conf is (asked over SQL). */
static int prepare_task(struct hba_task *t, bool hba_hostnames, const char *user, struct errbuf *err)
{
	const struct segment *src = t->row->instance;

	strbuf_init(&t->entries, 256);
	if (hba_entries_for_mirror(t->row->admit_hostname, t->row->admit_address, user,
				   hba_hostnames, &t->entries, err) != 0)
		return -1;
	t->conn = pg_connect_segment(src, 10, false, err);
	if (t->conn == NULL)
		return -1;
	if (pg_query_value(t->conn, "SHOW hba_file", 0, NULL, &t->hba_file, err) != 0 ||
	    t->hba_file == NULL)
		return errbuf_prefix(err, "%s " SEG_FMT, t->row->what, SEG_ARGS(src));
	return 0;
}

/* The agent has edited the file: the instance reloads it if anything changed. */
static int finish_task(struct hba_task *t, bool hba_hostnames, struct errbuf *err)
{
	const struct segment *src = t->row->instance;

	if (t->error[0] != '\0')
		return errbuf_set(err, "updating %s on %s failed: %s", t->hba_file, src->hostname,
				  t->error);
	if (!t->changed) {
		log_debug("pg_hba.conf of %s " SEG_FMT " already admits %s", t->row->what,
			  SEG_ARGS(src), t->row->admit_address);
		return 0;
	}
	if (pg_exec(t->conn, "SELECT pg_reload_conf()", 0, NULL, err) != 0)
		return errbuf_prefix(err, "%s " SEG_FMT, t->row->what, SEG_ARGS(src));
	log_info("pg_hba.conf of %s " SEG_FMT " now admits %s", t->row->what, SEG_ARGS(src),
		 hba_hostnames ? t->row->admit_hostname : t->row->admit_address);
	return 0;
}

int hba_admit(const struct hba_admission *list, size_t n, bool hba_hostnames, struct errbuf *err)
{
	static const struct runner_ops ops = {
		.host = hba_host,
		.start = hba_start,
		.line = hba_line,
		.finished = hba_finished,
	};
	struct passwd *pw = getpwuid(geteuid());
	const char *user = pw ? pw->pw_name : "gpadmin";
	struct hba_run run = { .tasks = xcalloc(n ? n : 1, sizeof(struct hba_task)), .n = n };
	/* Every instance's file at once: on a large cluster these are many ssh round trips. */
	struct runner runner = { .ntasks = n, .max_parallel = 16, .max_per_host = 16 };
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		run.tasks[i].row = &list[i];
		rc = prepare_task(&run.tasks[i], hba_hostnames, user, err);
	}
	if (rc == 0)
		runner_run(&runner, &ops, &run);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = finish_task(&run.tasks[i], hba_hostnames, err);
	for (size_t i = 0; i < n; i++) {
		PQfinish(run.tasks[i].conn);
		free(run.tasks[i].hba_file);
		strbuf_release(&run.tasks[i].entries);
		strvec_clear(&run.tasks[i].argv);
	}
	free(run.tasks);
	return rc;
}

int primaryhba_allow_mirrors(const struct plan *plan, bool hba_hostnames,
			     struct errbuf *err)
{
	struct hba_admission *list = xcalloc(plan->nrows ? plan->nrows : 1, sizeof(*list));
	int rc;

	log_info("Starting to create new pg_hba.conf on primary segments");
	for (size_t i = 0; i < plan->nrows; i++) {
		list[i].instance = plan->rows[i].source;
		list[i].what = "primary";
		list[i].admit_hostname = plan->rows[i].target.hostname;
		list[i].admit_address = plan->rows[i].target.address;
	}
	rc = hba_admit(list, plan->nrows, hba_hostnames, err);
	free(list);
	if (rc == 0)
		log_info("Successfully modified pg_hba.conf on primary segments to allow replication "
			 "connections");
	return rc;
}
