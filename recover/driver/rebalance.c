#include "driver/rebalance.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "cli.h"
#include "clock.h"
#include "driver/dispatch.h"
#include "driver/plan.h"
#include "driver/primaryhba.h"
#include "fts.h"
#include "log.h"
#include "pgconn.h"
#include "pgcontrol.h"
#include "proto/agentproto.h"
#include "replication.h"
#include "runner.h"
#include "strbuf.h"
#include "strvec.h"
#include "xalloc.h"

enum pair_state {
	PAIR_SKIPPED,   /* not touched: not both up and in sync */
	PAIR_PENDING,   /* a candidate */
	PAIR_STOPPED,   /* acting primary stopped, its WAL end known */
	PAIR_SWITCHED,  /* preferred primary promoted and recorded; old primary to recover */
	PAIR_DONE,      /* preferred roles, in sync */
	PAIR_RESTORED,  /* undone: the acting primary runs again, the pair is as before */
	PAIR_FAILED,    /* stopped part way; why says what to do */
};

struct pair {
	int content;
	struct segment primary; /* the acting primary (its preferred role is mirror) */
	struct segment mirror;  /* the acting mirror: the preferred primary */
	bool has_mirror;
	enum pair_state state;
	struct errbuf why; /* for a skipped, restored or failed pair */
	lsn_t wal_end;
	/* the last agent run on the acting primary (stop or start) */
	struct strvec argv;
	struct agent_line reply;  /* its @stopped / @started line */
	bool replied;
	char error[1536];         /* its @error message, or why it did not run */
	int status;
};

struct rebalance {
	PGconn *coordinator;
	const struct rebalance_options *opts;
	const char *coordinator_datadir;
	const char *progress_file;
	struct pair *pairs;
	size_t npairs;
};

static const struct fts_options switch_fts = { .connect_timeout = 5, .retries = 1,
					       .retry_delay_ms = 200, .sync_timeout = 60 };

static void pairs_free(struct rebalance *rb)
{
	for (size_t i = 0; i < rb->npairs; i++) {
		segment_free(&rb->pairs[i].primary);
		if (rb->pairs[i].has_mirror)
			segment_free(&rb->pairs[i].mirror);
		strvec_clear(&rb->pairs[i].argv);
	}
	free(rb->pairs);
	rb->pairs = NULL;
	rb->npairs = 0;
}

/* Every content whose acting primary is not its preferred primary. */
static void collect_unbalanced(struct rebalance *rb, const struct catalog *cat)
{
	int ncontents = catalog_ncontents(cat);

	rb->pairs = xcalloc((size_t) (ncontents > 0 ? ncontents : 1), sizeof(*rb->pairs));
	for (int c = 0; c < ncontents; c++) {
		const struct segment *p = catalog_acting(cat, c, ROLE_PRIMARY);
		const struct segment *m = catalog_acting(cat, c, ROLE_MIRROR);
		struct pair *pr;

		if (p == NULL || p->preferred_role == ROLE_PRIMARY)
			continue;
		pr = &rb->pairs[rb->npairs++];
		pr->content = c;
		segment_copy(&pr->primary, p);
		if (m) {
			segment_copy(&pr->mirror, m);
			pr->has_mirror = true;
		}
		pr->state = PAIR_PENDING;
	}
}

static void display(const struct rebalance *rb)
{
	static const char rule[] = "----------------------------------------------------------";

	log_info("Greenplum instance recovery parameters");
	log_info("%s", rule);
	log_info("Recovery type              = Rebalance");
	log_info("%s", rule);
	log_info("Unbalanced segment instances (%zu contents)", rb->npairs);
	log_info("   %-6s %-56s %-13s %-13s", "dbid", "instance", "Current role", "Balanced role");
	for (size_t i = 0; i < rb->npairs; i++) {
		const struct pair *pr = &rb->pairs[i];
		char where[512];

		snprintf(where, sizeof(where), "%s:%d %s", pr->primary.hostname, pr->primary.port,
			 pr->primary.datadir);
		log_info("   %-6d %-56s %-13s %-13s", pr->primary.dbid, where, "Primary", "Mirror");
		if (pr->has_mirror) {
			snprintf(where, sizeof(where), "%s:%d %s", pr->mirror.hostname, pr->mirror.port,
				 pr->mirror.datadir);
			log_info("   %-6d %-56s %-13s %-13s", pr->mirror.dbid, where, "Mirror", "Primary");
		}
	}
	log_info("%s", rule);
}

/*
 * The pairs that can be rebalanced now: both up and in sync in the catalog, and the mirror seen
 * streaming synchronously by the primary. A mirror whose replay lags more than allowed stops the
 * whole rebalance before anything is touched (-1, err says which and what to do).
 */
static int choose_candidates(struct rebalance *rb, struct errbuf *err)
{
	const struct rebalance_options *opts = rb->opts;
	double limit = opts->replay_lag_gb * 1024.0 * 1024.0 * 1024.0;

	if (!opts->disable_replay_lag)
		log_info("Allowed replay lag during rebalance is %g GB", opts->replay_lag_gb);
	log_info("Determining primary and mirror segment pairs to rebalance");
	for (size_t i = 0; i < rb->npairs; i++) {
		struct pair *pr = &rb->pairs[i];
		struct walsender_state ws;
		struct errbuf perr;
		PGconn *conn;

		errbuf_clear(&perr);
		if (!pr->has_mirror || pr->primary.status != STATUS_UP || pr->mirror.status != STATUS_UP ||
		    pr->primary.mode != MODE_SYNCED || pr->mirror.mode != MODE_SYNCED) {
			errbuf_set(&pr->why, pr->has_mirror ? "the catalog records the mirror %s and %s"
				   : "the content has no mirror%s%s",
				   pr->has_mirror ? segment_status_name(pr->mirror.status) : "",
				   pr->has_mirror ? segment_mode_name(pr->mirror.mode) : "");
			pr->state = PAIR_SKIPPED;
			continue;
		}
		conn = pg_connect_segment(&pr->primary, 10, false, &perr);
		if (conn == NULL || walsender_query(conn, &ws, &perr) != 0) {
			errbuf_set(&pr->why, "the primary is unreachable: %s", perr.msg);
			pr->state = PAIR_SKIPPED;
			PQfinish(conn);
			continue;
		}
		PQfinish(conn);
		if (!ws.present || strcmp(ws.state, "streaming") != 0 || strcmp(ws.sync_state, "sync") != 0) {
			errbuf_set(&pr->why, "the mirror does not stream synchronously from it (%s%s%s)",
				   ws.present ? ws.state : "no walsender", ws.present ? ", " : "",
				   ws.present ? ws.sync_state : "");
			pr->state = PAIR_SKIPPED;
			continue;
		}
		if (!opts->disable_replay_lag && (double) ws.replay_lag_bytes >= limit)
			return errbuf_set(err, "%lld bytes of wal is still to be replayed on mirror with dbid "
					       "%d (%s:%d %s), let mirror catchup on replay then trigger "
					       "rebalance. Use --replay-lag to configure the allowed replay "
					       "lag limit or --disable-replay-lag to disable the check "
					       "completely if you wish to continue with rebalance anyway",
					  ws.replay_lag_bytes, pr->mirror.dbid, pr->mirror.address,
					  pr->mirror.port, pr->mirror.datadir);
		log_debug("content %d: mirror dbid %d replay lag %lld bytes", pr->content, pr->mirror.dbid,
			  ws.replay_lag_bytes);
	}
	for (size_t i = 0; i < rb->npairs; i++) {
		const struct pair *pr = &rb->pairs[i];

		if (pr->state == PAIR_SKIPPED)
			log_warning("Not rebalancing primary segment dbid %d (%s:%d %s) with its mirror dbid "
				    "%d because one is either down, unreachable, or not synchronized: %s. "
				    "Recover it with gprecoverseg, then run gprecoverseg -r again",
				    pr->primary.dbid, pr->primary.address, pr->primary.port,
				    pr->primary.datadir, pr->has_mirror ? pr->mirror.dbid : -1, pr->why.msg);
	}
	return 0;
}

/* Run the agent with ARGS on HOST for every pair of the batch at once; collect the outputs. */
/* One agent verb on the acting primary of every pair of a batch, all at once. */
struct verb_run {
	struct pair **batch;
	const char *verb;
};

static const char *verb_host(void *ctx, size_t i)
{
	return ((struct verb_run *) ctx)->batch[i]->primary.hostname;
}

static int verb_start(void *ctx, size_t i, struct runner_spawn *sp)
{
	struct verb_run *vr = ctx;
	struct pair *pr = vr->batch[i];
	char *agent = agentproto_agent_path();

	strvec_clear(&pr->argv);
	strvec_push(&pr->argv, agent);
	free(agent);
	strvec_push(&pr->argv, vr->verb);
	strvec_push(&pr->argv, "--dbid");
	strvec_pushf(&pr->argv, "%d", pr->primary.dbid);
	strvec_push(&pr->argv, "--target-datadir");
	strvec_push(&pr->argv, pr->primary.datadir);
	strvec_push(&pr->argv, "--target-address");
	strvec_push(&pr->argv, pr->primary.address);
	strvec_push(&pr->argv, "--target-port");
	strvec_pushf(&pr->argv, "%d", pr->primary.port);
	strvec_push(&pr->argv, "--watch-stdin");
	pr->replied = false;
	pr->error[0] = '\0';
	pr->status = -1;
	sp->argv = strvec_argv(&pr->argv);
	return 1;
}

static void verb_line(void *ctx, size_t i, bool is_stderr, const char *line)
{
	struct pair *pr = ((struct verb_run *) ctx)->batch[i];
	struct agent_line al;

	if (is_stderr || agentproto_parse(line, &al) != 0) {
		log_debug("content %d (%s): %s", pr->content, pr->primary.hostname, line);
		return;
	}
	if (al.kind == AGENT_ERROR)
		snprintf(pr->error, sizeof(pr->error), "%s", al.msg);
	else if (al.kind == AGENT_STOPPED || al.kind == AGENT_STARTED) {
		pr->reply = al;
		pr->replied = true;
	}
}

static bool verb_finished(void *ctx, size_t i, int status, const char *why)
{
	struct pair *pr = ((struct verb_run *) ctx)->batch[i];

	pr->status = status;
	if (pr->error[0] == '\0')
		snprintf(pr->error, sizeof(pr->error), "%s",
			 why ? why : pr->replied ? "" : "the agent ended without a reply");
	return false;
}

static void run_agents(struct pair **batch, size_t n, const char *verb)
{
	static const struct runner_ops ops = {
		.host = verb_host,
		.start = verb_start,
		.line = verb_line,
		.finished = verb_finished,
	};
	struct verb_run vr = { .batch = batch, .verb = verb };
	struct runner runner = { .ntasks = n, .max_parallel = (int) n, .max_per_host = (int) n,
				 .watch_pipe = true };

	runner_run(&runner, &ops, &vr);
}

static void stop_primaries(struct pair **batch, size_t n)
{
	log_info("Stopping unbalanced primary segments...");
	run_agents(batch, n, AGENT_VERB_STOP);
	for (size_t i = 0; i < n; i++) {
		struct pair *pr = batch[i];

		if (pr->status == 0 && pr->replied && pr->reply.kind == AGENT_STOPPED) {
			pr->wal_end = (lsn_t) pr->reply.lsn;
			pr->state = PAIR_STOPPED;
			log_info("content %d: primary " SEG_FMT " stopped; its WAL ends at " LSN_FMT,
				 pr->content, SEG_ARGS(&pr->primary), LSN_ARGS(pr->wal_end));
			continue;
		}
		pr->state = PAIR_FAILED;
		errbuf_set(&pr->why,
			   "stopping primary " SEG_FMT " failed (exit %d): %s. Check it with gpstate "
			   "-e; if it is down, gpfts --once fails the content over",
			   SEG_ARGS(&pr->primary), pr->status, pr->error);
		log_error("content %d: %s", pr->content, pr->why.msg);
	}
}

/* What the mirror has received, polled briefly: its walreceiver may still be flushing. */
static int mirror_has_received(const struct pair *pr, lsn_t *received, struct errbuf *err)
{
	double deadline = now_seconds() + 30;
	PGconn *conn = pg_connect_segment(&pr->mirror, 10, false, err);
	int rc = -1;

	if (conn == NULL)
		return -1;
	for (;;) {
		char *text = NULL;
		unsigned long long lsn = 0;

		if (pg_query_value(conn, "SELECT pg_last_wal_receive_lsn()", 0, NULL, &text, err) != 0)
			break;
		*received = text && pg_parse_lsn(text, &lsn) ? (lsn_t) lsn : LSN_INVALID;
		free(text);
		if (*received >= pr->wal_end || now_seconds() > deadline) {
			rc = 0;
			break;
		}
		usleep(100 * 1000);
	}
	PQfinish(conn);
	return rc;
}

/* Put a stopped primary back as it was: the pair is left unbalanced but whole. */
static void restore_primary(struct pair *pr, const char *reason)
{
	struct pair *one[1] = { pr };

	log_warning("content %d: %s; starting primary " SEG_FMT " again", pr->content, reason,
		    SEG_ARGS(&pr->primary));
	run_agents(one, 1, AGENT_VERB_START);
	if (pr->status == 0 && pr->replied) {
		pr->state = PAIR_RESTORED;
		errbuf_set(&pr->why, "%s; the primary was started again, the pair is left "
			   "as it was", reason);
	} else {
		pr->state = PAIR_FAILED;
		errbuf_set(&pr->why, "%s, and starting primary " SEG_FMT " again failed: %s. "
			   "Start it (pg_ctl start -D %s) or let gpfts fail the content over",
			   reason, SEG_ARGS(&pr->primary), pr->error, pr->primary.datadir);
		log_error("content %d: %s", pr->content, pr->why.msg);
	}
}

static bool still_in_recovery(const struct segment *seg)
{
	struct errbuf err;
	PGconn *conn = pg_connect_segment(seg, 10, false, &err);
	char *value = NULL;
	bool yes = false;

	if (conn && pg_query_value(conn, "SELECT pg_is_in_recovery()", 0, NULL, &value, &err) == 0)
		yes = value && value[0] == 't';
	free(value);
	PQfinish(conn);
	return yes;
}

/* Nothing lost: the mirror must hold every byte of WAL the stopped primary wrote. Then promote. */
static void switch_roles(struct rebalance *rb, struct pair *pr)
{
	struct catalog cat;
	struct errbuf err;
	lsn_t received = LSN_INVALID;
	const struct segment *acting;
	enum fts_verdict v;
	struct errbuf reason;

	if (mirror_has_received(pr, &received, &err) != 0) {
		errbuf_set(&reason, "cannot ask mirror " SEG_FMT " what it received: %s",
			   SEG_ARGS(&pr->mirror), err.msg);
		restore_primary(pr, reason.msg);
		return;
	}
	if (received < pr->wal_end) {
		errbuf_set(&reason, "mirror " SEG_FMT " received WAL up to " LSN_FMT " only, "
			   "the primary's ends at " LSN_FMT ": promoting it would lose transactions",
			   SEG_ARGS(&pr->mirror), LSN_ARGS(received), LSN_ARGS(pr->wal_end));
		restore_primary(pr, reason.msg);
		return;
	}
	log_info("content %d: mirror " SEG_FMT " has received all WAL (" LSN_FMT ")", pr->content,
		 SEG_ARGS(&pr->mirror), LSN_ARGS(received));
	if (catalog_load(rb->coordinator, &cat, &err) != 0) {
		errbuf_set(&reason, "cannot read the catalog: %s", err.msg);
		restore_primary(pr, reason.msg);
		return;
	}
	acting = catalog_acting(&cat, pr->content, ROLE_PRIMARY);
	if (acting && acting->dbid == pr->mirror.dbid) {
		/* A running gpfts saw the stopped primary first and failed the content over: the same. */
		log_info("content %d: the fault probe already promoted " SEG_FMT, pr->content,
			 SEG_ARGS(&pr->mirror));
		pr->state = PAIR_SWITCHED;
		catalog_free(&cat);
		return;
	}
	v = fts_switchover(rb->coordinator, &cat, pr->content, &switch_fts, &err);
	catalog_free(&cat);
	if (v == FTS_PAIR_FAILED_OVER) {
		pr->state = PAIR_SWITCHED;
		return;
	}
	if (still_in_recovery(&pr->mirror)) {
		errbuf_set(&reason, "promoting mirror " SEG_FMT " failed: %s",
			   SEG_ARGS(&pr->mirror), err.msg);
		restore_primary(pr, reason.msg);
		return;
	}
	pr->state = PAIR_FAILED;
	errbuf_set(&pr->why, "mirror " SEG_FMT " was promoted but the switch was not "
		   "recorded: %s. Run gpfts --once to record it, then gprecoverseg",
		   SEG_ARGS(&pr->mirror), err.msg);
	log_error("content %d: %s", pr->content, pr->why.msg);
}

/* The stopped primaries come back as mirrors: incremental recovery, usually nothing to copy. */
static void resync(struct rebalance *rb, struct pair **batch, size_t n)
{
	struct plan_options popts = { 0 };
	struct catalog cat;
	struct plan plan = { 0 };
	struct dispatch d = { 0 };
	struct errbuf err;
	int *dbids = xcalloc(n ? n : 1, sizeof(*dbids));
	size_t ndbids = 0;
	bool planned;

	for (size_t i = 0; i < n; i++)
		if (batch[i]->state == PAIR_SWITCHED)
			dbids[ndbids++] = batch[i]->primary.dbid;
	if (ndbids == 0) {
		free(dbids);
		return;
	}
	log_info("Starting segment synchronization");
	planned = catalog_load(rb->coordinator, &cat, &err) == 0 &&
		  plan_build(&cat, &popts, NULL, &plan, &err) == 0;
	if (planned)
		plan_keep_only(&plan, dbids, ndbids); /* only the instances this batch switched */
	if (!planned || primaryhba_allow_mirrors(&plan, rb->opts->hba_hostnames, &err) != 0) {
		for (size_t i = 0; i < n; i++)
			if (batch[i]->state == PAIR_SWITCHED) {
				batch[i]->state = PAIR_FAILED;
				errbuf_set(&batch[i]->why,
					   "switched, but its recovery as a mirror could not start: "
					   "%s. Run gprecoverseg, then gprecoverseg -r",
					   err.msg);
			}
		goto out;
	}
	d.coordinator = rb->coordinator;
	d.cat = &cat;
	d.coordinator_datadir = rb->coordinator_datadir;
	d.opts = &rb->opts->recovery;
	d.progress_file = rb->progress_file;
	dispatch_init(&d, &plan);
	dispatch_run(&d);
	for (size_t i = 0; i < n; i++) {
		struct pair *pr = batch[i];

		if (pr->state != PAIR_SWITCHED)
			continue;
		pr->state = PAIR_FAILED;
		errbuf_set(&pr->why, "switched, but no recovery of " SEG_FMT " ran",
			   SEG_ARGS(&pr->primary));
		for (size_t j = 0; j < d.nrows; j++) {
			const struct run_row *r = &d.rows[j];

			if (r->plan->target.dbid != pr->primary.dbid)
				continue;
			if (r->state == RUN_DONE)
				pr->state = PAIR_DONE;
			else
				errbuf_set(&pr->why, "switched; recovering " SEG_FMT " as its "
					   "mirror failed at %s: %s. Run gprecoverseg (or gprecoverseg -F)",
					   SEG_ARGS(&pr->primary), r->step, r->error);
		}
	}
	dispatch_free(&d);
out:
	plan_free(&plan);
	catalog_free(&cat);
	free(dbids);
}

/* After the work: every content still not in its preferred roles is named. */
static size_t report_unbalanced(PGconn *coordinator)
{
	struct catalog cat;
	struct errbuf err;
	size_t left = 0;

	if (catalog_load(coordinator, &cat, &err) != 0) {
		log_error("cannot read the catalog to check the result: %s", err.msg);
		return 1;
	}
	for (int c = 0; c < catalog_ncontents(&cat); c++) {
		const struct segment *p = catalog_acting(&cat, c, ROLE_PRIMARY);
		const struct segment *m = catalog_acting(&cat, c, ROLE_MIRROR);

		if (p == NULL || m == NULL || p->preferred_role == ROLE_PRIMARY)
			continue;
		left++;
		log_warning("content %d is left unbalanced: primary " SEG_FMT " (preferred role %s), "
			    "mirror " SEG_FMT " (%s, %s)",
			    c, SEG_ARGS(p), segment_role_name(p->preferred_role), SEG_ARGS(m),
			    segment_status_name(m->status), segment_mode_name(m->mode));
	}
	catalog_free(&cat);
	return left;
}

int rebalance_run(struct coordinator *coord, const struct rebalance_options *opts,
		  const char *progress_file)
{
	struct rebalance rb = { .coordinator = coord->conn, .opts = opts,
				.coordinator_datadir = coord->datadir, .progress_file = progress_file };
	struct catalog cat;
	struct errbuf err;
	struct pair **batch = NULL;
	size_t ncand = 0, left, failed = 0;
	int rc = EXIT_OK;

	log_info("Obtaining Segment details from coordinator...");
	if (catalog_load(coord->conn, &cat, &err) != 0 || catalog_validate(&cat, &err) != 0) {
		log_error("%s", err.msg);
		return EXIT_USAGE;
	}
	collect_unbalanced(&rb, &cat);
	catalog_free(&cat);
	if (rb.npairs == 0) {
		log_info("No segments are running in their non-preferred role and need to be rebalanced.");
		pairs_free(&rb);
		return EXIT_OK;
	}
	display(&rb);
	if (choose_candidates(&rb, &err) != 0) {
		log_error("%s", err.msg);
		log_error("Nothing was changed.");
		pairs_free(&rb);
		return EXIT_FAILED;
	}
	for (size_t i = 0; i < rb.npairs; i++)
		ncand += rb.pairs[i].state == PAIR_PENDING;
	if (ncand == 0) {
		log_warning("No segments to rebalance: every unbalanced pair was skipped");
		pairs_free(&rb);
		return EXIT_FAILED;
	}
	log_warning("This operation will cancel queries that are currently executing.");
	/* Greenplum says connections survive; here a stopped primary's own sessions do not. */
	log_warning("Sessions connected directly to the primaries that are stopped are cut off; "
		    "connections to the coordinator are not interrupted.");
	if (!opts->yes && !cli_confirm("Continue with segment rebalance procedure")) {
		log_info("User abort requested, Exiting...");
		pairs_free(&rb);
		return EXIT_ABORTED;
	}
	/* As Greenplum does: an interrupted rebalance would leave pairs half switched. */
	signal(SIGINT, SIG_IGN);
	log_info("%zu pair(s) to rebalance, at most %d at once (Ctrl-C is ignored until it ends)", ncand,
		 opts->parallel);
	batch = xcalloc(ncand, sizeof(*batch));
	for (size_t i = 0; i < rb.npairs;) {
		size_t n = 0;

		for (; i < rb.npairs && n < (size_t) opts->parallel; i++)
			if (rb.pairs[i].state == PAIR_PENDING)
				batch[n++] = &rb.pairs[i];
		if (n == 0)
			break;
		stop_primaries(batch, n);
		log_info("Triggering segment reconfiguration");
		for (size_t j = 0; j < n; j++)
			if (batch[j]->state == PAIR_STOPPED)
				switch_roles(&rb, batch[j]);
		resync(&rb, batch, n);
	}
	free(batch);

	log_info("Rebalance summary");
	log_info("   %-8s %-10s %-10s  %s", "content", "primary", "mirror", "result");
	for (size_t i = 0; i < rb.npairs; i++) {
		const struct pair *pr = &rb.pairs[i];
		const char *result = pr->state == PAIR_DONE	? "preferred roles, in sync"
				     : pr->state == PAIR_SKIPPED	? "skipped"
				     : pr->state == PAIR_RESTORED ? "left as it was"
								    : "FAILED";

		log_info("   %-8d %-10d %-10d  %s", pr->content,
			 pr->state == PAIR_DONE ? pr->mirror.dbid : pr->primary.dbid,
			 pr->state == PAIR_DONE ? pr->primary.dbid : pr->mirror.dbid, result);
		if (pr->state == PAIR_FAILED || pr->state == PAIR_RESTORED)
			log_error("content %d: %s", pr->content, pr->why.msg);
		failed += pr->state == PAIR_FAILED;
	}
	left = report_unbalanced(coord->conn);
	if (left == 0 && failed == 0) {
		log_info("The rebalance operation has completed successfully.");
	} else {
		log_error("The rebalance operation has completed with %zu content(s) left unbalanced and "
			  "%zu failed (named above). Correct the problem, run gprecoverseg if an "
			  "instance is down, then gprecoverseg -r again.",
			  left, failed);
		rc = EXIT_FAILED;
	}
	pairs_free(&rb);
	return rc;
}
