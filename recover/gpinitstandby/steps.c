#include "gpinitstandby/steps.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "driver/agentcall.h"
#include "driver/plan.h"
#include "driver/primaryhba.h"
#include "exec.h"
#include "replication.h"
#include "strbuf.h"
#include "units.h"
#include "xalloc.h"

bool steps_host_answers(const char *host)
{
	struct exec_options eo = { .host = host };
	const char *argv[] = { "true", NULL };
	struct errbuf err;
	int status = -1;

	if (host_is_local(host))
		return true;
	return exec_run(&eo, argv, NULL, NULL, &status, &err) == 0 && status == 0;
}

int steps_path_test(const char *host, char kind, const char *path, bool *yes, struct errbuf *err)
{
	struct exec_options eo = { .host = host };
	char flag[3] = { '-', kind, '\0' };
	const char *argv[] = { "test", flag, path, NULL };
	int status = -1;

	*yes = false;
	if (exec_run(&eo, argv, NULL, NULL, &status, err) != 0)
		return -1;
	if (status != 0 && status != 1)
		return errbuf_set(err, "cannot check %s on %s (exit %d)", path, host, status);
	*yes = status == 0;
	return 0;
}

/* The standby as a catalog row would describe it (for messages and the agents). */
static void standby_segment(const struct standby_journal *j, struct segment *s)
{
	memset(s, 0, sizeof(*s));
	s->dbid = j->dbid;
	s->content = COORDINATOR_CONTENT;
	s->role = s->preferred_role = ROLE_MIRROR;
	s->port = j->port;
	s->hostname = (char *) j->hostname;
	s->address = (char *) j->address;
	s->datadir = (char *) j->datadir;
}

int steps_admit_standby(const struct catalog *cat, const struct standby_journal *j,
			struct errbuf *err)
{
	struct hba_admission *list = xcalloc(cat->nsegs + 1, sizeof(*list));
	size_t n = 0;
	int rc;

	for (size_t i = 0; i < cat->nsegs; i++) {
		const struct segment *s = &cat->segs[i];

		if (s->content == COORDINATOR_CONTENT && s->role == ROLE_MIRROR)
			continue; /* the standby itself */
		if (s->status != STATUS_UP) {
			/* a recovery copies its primary's file, which admits the standby too */
			log_warning("pg_hba.conf of " SEG_FMT " not updated: it is down", SEG_ARGS(s));
			continue;
		}
		list[n].instance = s;
		list[n].what = s->content == COORDINATOR_CONTENT ? "the coordinator" : "segment";
		list[n].admit_hostname = j->hostname;
		list[n].admit_address = j->address;
		n++;
	}
	rc = hba_admit(list, n, j->hba_hostnames, err);
	free(list);
	return rc;
}

bool steps_standby_streams(PGconn *coordinator)
{
	struct walsender_state ws;
	struct errbuf err;

	return walsender_query(coordinator, &ws, &err) == 0 && ws.present &&
	       strcmp(ws.state, "streaming") == 0;
}

/* Every instance of the catalog but the standby: the agent refuses to touch their directories. */
static void push_protect(struct strvec *av, const struct catalog *cat, int except_dbid)
{
	for (size_t i = 0; i < cat->nsegs; i++) {
		const struct segment *s = &cat->segs[i];

		if (except_dbid > 0 && s->dbid == except_dbid)
			continue;
		strvec_push(av, "--protect");
		strvec_pushf(av, "%d|%s|%s|%d|%s", s->dbid, s->hostname, s->address, s->port,
			     s->datadir);
	}
}

/* The instance a verb acts on. */
static void push_target(struct strvec *av, int dbid, const char *datadir, int port,
			const char *address)
{
	strvec_push(av, "--dbid");
	strvec_pushf(av, "%d", dbid);
	strvec_push(av, "--target-datadir");
	strvec_push(av, datadir);
	strvec_push(av, "--target-port");
	strvec_pushf(av, "%d", port);
	strvec_push(av, "--target-address");
	strvec_push(av, address);
}

static void push_common(struct strvec *av, const struct step_env *env)
{
	if (env->logdir) {
		strvec_push(av, "-l");
		strvec_push(av, env->logdir);
	}
	if (env->verbosity == LOG_VERBOSE)
		strvec_push(av, "-v");
	strvec_push(av, "--watch-stdin");
}

struct copy_view {
	double last;
	char phase[64];
};

static void copy_line(void *ctx, const struct agent_line *al)
{
	struct copy_view *v = ctx;
	double t = now_seconds();
	char done[32], total[32];

	switch (al->kind) {
	case AGENT_PHASE:
		snprintf(v->phase, sizeof(v->phase), "%s", al->name);
		log_info("standby: %s", al->name);
		break;
	case AGENT_PROGRESS:
		if (t - v->last < 2.0)
			break;
		v->last = t;
		units_format_bytes(al->done, done, sizeof(done));
		if (al->total > 0) {
			units_format_bytes(al->total, total, sizeof(total));
			log_info("standby: copied %s of %s (%.0f%%)", done, total,
				 100.0 * (double) al->done / (double) al->total);
		} else {
			log_info("standby: copied %s", done);
		}
		break;
	case AGENT_NOTE:
		log_msg(strcmp(al->name, "warning") == 0 ? LOG_WARNING : LOG_INFO, "standby: %s",
			al->msg);
		break;
	case AGENT_DONE:
		units_format_bytes(al->done, done, sizeof(done));
		log_info("standby: %s copied in %.1f s", done, al->seconds);
		break;
	default:
		break;
	}
}

int steps_copy_standby(const struct step_env *env, const struct catalog *cat,
		       const struct standby_journal *j, struct errbuf *err)
{
	const struct segment *coord = catalog_coordinator(cat);
	struct segment standby;
	struct copy_view view = { 0 };
	struct agentcall c;
	int rc;

	if (coord == NULL)
		return errbuf_set(err, "the catalog has no coordinator row (content -1, role 'p')");
	standby_segment(j, &standby);
	agentcall_init(&c, j->hostname, AGENT_VERB_RECOVER);
	strvec_push(&c.argv, "--type");
	strvec_push(&c.argv, "full");
	strvec_push(&c.argv, "--content");
	strvec_pushf(&c.argv, "%d", COORDINATOR_CONTENT);
	push_target(&c.argv, j->dbid, j->datadir, j->port, j->address);
	strvec_push(&c.argv, "--source-dbid");
	strvec_pushf(&c.argv, "%d", coord->dbid);
	strvec_push(&c.argv, "--source-host");
	strvec_push(&c.argv, coord->address);
	strvec_push(&c.argv, "--source-port");
	strvec_pushf(&c.argv, "%d", coord->port);
	strvec_push(&c.argv, "--source-datadir");
	strvec_push(&c.argv, coord->datadir);
	/* The directory did not exist when the create began: what is there now is our copy. */
	strvec_push(&c.argv, "--force-overwrite");
	/* Between hosts the link is the limit: lz4 (gprecoverseg's auto rule). */
	if (!plan_same_host(coord, &standby)) {
		strvec_push(&c.argv, "--compress");
		strvec_push(&c.argv, "lz4");
	}
	push_protect(&c.argv, cat, j->dbid);
	push_common(&c.argv, env);
	c.on_line = copy_line;
	c.ctx = &view;
	log_info("Copying the coordinator's data directory to %s:%s (full copy, replication slot %s "
		 "on the coordinator)", j->hostname, j->datadir, REPLICATION_SLOT);
	rc = agentcall_run(&c);
	if (rc != 0)
		errbuf_set(err, "the copy to the standby %s:%d %s failed at its %s step: %s",
			   j->address, j->port, j->datadir, c.step[0] ? c.step : view.phase, c.error);
	agentcall_free(&c);
	return rc;
}

static void remove_line(void *ctx, const struct agent_line *al)
{
	bool *existed = ctx;

	if (al->kind == AGENT_REMOVED)
		*existed = al->flag;
}

int steps_remove_standby_dir(const struct step_env *env, const struct catalog *cat,
			     const struct standby_journal *j, struct errbuf *err)
{
	struct agentcall c;
	bool existed = false;
	int rc;

	agentcall_init(&c, j->hostname, AGENT_VERB_REMOVE);
	push_target(&c.argv, j->dbid, j->datadir, j->port, j->address);
	push_protect(&c.argv, cat, j->dbid);
	push_common(&c.argv, env);
	c.on_line = remove_line;
	c.ctx = &existed;
	log_info("Removing data directory %s on standby coordinator host %s...", j->datadir,
		 j->hostname);
	rc = agentcall_run(&c);
	if (rc != 0)
		errbuf_set(err, "removing the standby's directory %s on %s failed: %s", j->datadir,
			   j->hostname, c.error);
	else if (!existed)
		log_info("%s on %s was already gone", j->datadir, j->hostname);
	agentcall_free(&c);
	return rc;
}

int steps_start_standby(const struct step_env *env, const struct segment *standby,
			struct errbuf *err)
{
	struct agentcall c;
	int rc;

	agentcall_init(&c, standby->hostname, AGENT_VERB_START);
	push_target(&c.argv, standby->dbid, standby->datadir, standby->port, standby->address);
	push_common(&c.argv, env);
	rc = agentcall_run(&c);
	if (rc != 0)
		errbuf_set(err, "starting the standby coordinator " SEG_FMT " failed: %s",
			   SEG_ARGS(standby), c.error);
	agentcall_free(&c);
	return rc;
}
