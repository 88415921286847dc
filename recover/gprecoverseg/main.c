/*
 * gprecoverseg: brings failed segment instances back as mirrors. Reads the catalog, plans,
 * confirms, runs one gpsegrecovery per failed instance (at most -B at once), shows progress,
 * waits until each pair is in sync and has the probe logic record it.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "cli.h"
#include "coordinator.h"
#include "driver/checksums.h"
#include "driver/dispatch.h"
#include "driver/hostcheck.h"
#include "driver/plan.h"
#include "driver/primaryhba.h"
#include "driver/rebalance.h"
#include "driver/recoverconf.h"
#include "fsutil.h"
#include "gprecoverseg/options.h"
#include "log.h"
#include "pidlock.h"
#include "proto/progressfile.h"
#include "registry.h"
#include "strbuf.h"
#include "units.h"
#include "xalloc.h"

static const char program[] = "gprecoverseg";

/*
 * Ctrl-C during the copies asks first (Greenplum 7 does): a stop half way means running the
 * command again. A second Ctrl-C, or SIGTERM, stops at once. Elsewhere (the rebalance, the
 * steps before the copies) Ctrl-C stops at once.
 */
static volatile sig_atomic_t ask_on_sigint, stop_asked, asking;

static void on_interrupt(int sig)
{
	if (sig == SIGINT && ask_on_sigint && !stop_asked && !asking) {
		stop_asked = 1;
		return;
	}
	dispatch_interrupt();
}

/* dispatch's question, in the main loop: true when the run must stop. */
static bool confirm_stop(void)
{
	char answer[64];
	bool stop;

	if (!stop_asked)
		return false;
	asking = 1;
	log_warning("It is not recommended to terminate a recovery procedure midway. However, if you "
		    "choose to proceed, you will need to run the same gprecoverseg command again to "
		    "finish the recovery of the segments it stopped.");
	printf("Continue terminating gprecoverseg Yy|Nn (default=N):\n> ");
	fflush(stdout);
	/* No answer to read (end of input, or a second Ctrl-C) is a stop. */
	stop = fgets(answer, sizeof(answer), stdin) == NULL || answer[0] == 'y' || answer[0] == 'Y';
	asking = 0;
	stop_asked = 0;
	if (!stop)
		log_info("Continuing the recovery");
	return stop;
}

static int write_sample_config(const struct plan *plan, const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	struct errbuf err;
	int rc;

	strbuf_init(&sb, 256);
	for (size_t i = 0; i < plan->nrows; i++) {
		recoverconf_format_line(&sb, plan->rows[i].failed,
					plan->rows[i].relocated ? &plan->rows[i].target : NULL);
		strbuf_addch(&sb, '\n');
	}
	rc = write_file_durable(path, sb.buf, sb.len, 0644, &err);
	strbuf_release(&sb);
	if (rc != 0) {
		log_error("cannot write the configuration file: %s", err.msg);
		return EXIT_USAGE;
	}
	log_info("Configuration file output to %s successfully.", path);
	return EXIT_OK;
}

/* The command that finishes what this run left: the same one, as the DBA typed it. */
static void rerun_command(const struct recoverseg_options *opts, const struct plan_row *row,
			  char *buf, size_t len)
{
	if (opts->input_file)
		snprintf(buf, len, "gprecoverseg%s -i %s",
			 opts->full ? " -F" : opts->differential ? " --differential" : "", opts->input_file);
	else if (opts->new_hosts)
		snprintf(buf, len, "gprecoverseg -p %s", opts->new_hosts);
	else if (row->s->caps & STRATEGY_EMPTY_TARGET)
		snprintf(buf, len, "gprecoverseg -F");
	else if (opts->differential || row->s == strategy_for_type('D'))
		snprintf(buf, len, "gprecoverseg --differential");
	else if (opts->strategy)
		snprintf(buf, len, "gprecoverseg --strategy %s", opts->strategy);
	else
		snprintf(buf, len, "gprecoverseg");
}

/* The driver modules' own options, from the command line. */
static struct plan_options plan_options_of(const struct recoverseg_options *opts)
{
	return (struct plan_options){
		.full = opts->full,
		.differential = opts->differential,
		.strategy = opts->strategy,
		.new_hosts = opts->new_hosts,
		.input_file = opts->input_file,
		.max_rate_kbps = opts->max_rate_kbps,
		.compression = opts->compression,
	};
}

static struct dispatch_options dispatch_options_of(const struct recoverseg_options *opts)
{
	return (struct dispatch_options){
		.parallel = opts->parallel,
		.per_host = opts->per_host,
		.fallback = opts->fallback,
		.progress = !opts->no_progress,
		.sequential_progress = opts->sequential_progress,
		.max_rate_kbps = opts->max_rate_kbps,
		.logdir = opts->logdir,
		.no_prompt = opts->yes,
		.verbosity = opts->verbosity,
	};
}

static struct rebalance_options rebalance_options_of(const struct recoverseg_options *opts)
{
	struct rebalance_options ro = {
		.yes = opts->yes,
		.parallel = opts->parallel,
		.replay_lag_gb = opts->replay_lag_gb,
		.disable_replay_lag = opts->disable_replay_lag,
		.hba_hostnames = opts->hba_hostnames,
		.recovery = dispatch_options_of(opts),
	};

	/* The stopped primaries have nothing to copy: incremental, never a full copy instead. */
	ro.recovery.fallback = false;
	return ro;
}

/* How many pairs have an acting primary that is not their preferred one (now, in the catalog). */
static size_t unbalanced_pairs(PGconn *coordinator)
{
	struct catalog cat;
	struct errbuf err;
	size_t n = 0;

	if (catalog_load(coordinator, &cat, &err) != 0)
		return 0;
	for (size_t i = 0; i < cat.nsegs; i++)
		if (cat.segs[i].content >= 0 && cat.segs[i].role == ROLE_PRIMARY &&
		    cat.segs[i].preferred_role != ROLE_PRIMARY)
			n++;
	catalog_free(&cat);
	return n;
}

static int summarize(const struct dispatch *d, const struct recoverseg_options *opts, size_t skipped)
{
	size_t failed = 0;

	log_info("Recovery summary");
	log_info("   %-8s %-24s %-6s %-13s %9s %10s  %s", "dbid", "host", "port", "type", "time",
		 "copied", "result");
	for (size_t i = 0; i < d->nrows; i++) {
		const struct run_row *r = &d->rows[i];
		char bytes[32], type[96];
		double secs = (r->t_end > 0 ? r->t_end : r->t_start) - r->t_start;

		/* A row that did not finish copied what its last progress report counted. */
		units_format_bytes(r->saw_done ? r->bytes : r->done, bytes, sizeof(bytes));
		snprintf(type, sizeof(type), "%s%s", r->plan->s->label,
			 r->fell_back ? " (fallback)" : "");
		log_info("   %-8d %-24s %-6d %-13s %8.1fs %10s  %s", r->plan->target.dbid,
			 r->plan->target.hostname, r->plan->target.port, type, secs, bytes,
			 r->state == RUN_DONE ? "up and in sync" : "FAILED");
		if (r->fell_back)
			log_info("   %-8s %s recovery failed first; a full copy replaced it", "",
				 r->first_strategy);
		if (r->state != RUN_DONE)
			failed++;
	}
	if (skipped > 0) {
		log_error("%zu segment(s) were not recovered: their host could not be resolved or did not "
			  "answer (see the warnings above)",
			  skipped);
		if (failed == 0) {
			log_error("gprecoverseg failed. Please check the output for more details.");
			return EXIT_FAILED;
		}
	}
	if (failed == 0) {
		log_info("********************************");
		log_info("Segments successfully recovered.");
		log_info("********************************");
		size_t unbalanced = unbalanced_pairs(d->coordinator);

		log_info("Recovered mirror segments are up and in sync with their primaries.");
		log_info("Use 'gpstate -e' to check the cluster.");
		if (unbalanced > 0)
			log_info("%zu segment pair(s) are not in their preferred roles: run "
				 "'gprecoverseg -r' when convenient to rebalance them.",
				 unbalanced);
		if (log_file_path())
			log_info("The log of this run is %s", log_file_path());
		return EXIT_OK;
	}
	bool rebuild_needed = false;

	log_error("Failed to recover the following segments.");
	for (size_t i = 0; i < d->nrows; i++) {
		const struct run_row *r = &d->rows[i];
		char again[1024];
		/* An interrupt has no cause to fix: the same command finishes the work. */
		const char *fix = strcmp(r->step, "interrupted") == 0 ? "" : "fix the cause above, then ";

		if (r->state == RUN_DONE)
			continue;
		rebuild_needed = rebuild_needed || r->needs_full;
		rerun_command(opts, r->plan, again, sizeof(again));
		/* Greenplum's line, with its logfile: the progress file kept on the target's host. */
		log_error(" hostname: %s; port: %d; logfile: %s; datadir: %s; recoverytype: %s; step: "
			  "%s; error: %s",
			  r->plan->target.hostname, r->plan->target.port,
			  r->progress_path[0] ? r->progress_path : "(none)", r->plan->target.datadir,
			  r->plan->s->label, r->step, r->error);
		if (strcmp(r->step, "sync") == 0 && r->mirror_stopped)
			log_error(" next: the mirror was copied and started, then stopped: look at the end "
				  "of its server log (%s/log/startup.log on %s) for the cause, then run '%s' "
				  "again",
				  r->plan->target.datadir, r->plan->target.hostname, again);
		else if (strcmp(r->step, "sync") == 0)
			log_error(" next: the instance runs; check 'gpstate -e' and run 'gpfts --once' "
				  "once it streams");
		else if (strcmp(r->step, "preflight") == 0 && r->needs_full)
			log_error(" next: nothing was changed in %s, which cannot be repaired "
				  "incrementally: run either 'gprecoverseg --differential%s%s' (moves only "
				  "what differs) or 'gprecoverseg -F%s%s' (a full copy)",
				  r->plan->target.datadir, opts->input_file ? " -i " : "",
				  opts->input_file ? opts->input_file : "", opts->input_file ? " -i " : "",
				  opts->input_file ? opts->input_file : "");
		else if (strcmp(r->step, "preflight") == 0)
			log_error(" next: nothing was changed in %s; fix the cause above, then run '%s' "
				  "again",
				  r->plan->target.datadir, again);
		else if (strcmp(r->step, "replay") == 0)
			log_error(" next: the copy is complete and its server was started, but it was not "
				  "consistent yet. If it stopped, look at the end of its server log "
				  "(%s/log/startup.log on %s) for the cause; otherwise fix what the error "
				  "names. Then run '%s' again: it waits for a server that still runs, and "
				  "recovers the directory again otherwise",
				  r->plan->target.datadir, r->plan->target.hostname, again);
		else if (strcmp(r->phase, "start") == 0 || strcmp(r->phase, "streaming") == 0)
			log_error(" next: the copy is complete and its server was started; run '%s' "
				  "again: it waits for that server to stream, or redoes the copy if the "
				  "server is not running",
				  again);
		else if (r->plan->s->caps & STRATEGY_EMPTY_TARGET)
			log_error(" next: %srun '%s' again: the target holds standby.signal and "
				  "segrecover's in-progress marker, so that run resumes the copy (it "
				  "sends only what is missing or differs)",
				  fix, again);
		else if (r->needs_full)
			log_error(" next: this directory cannot be repaired incrementally: once the "
				  "cause above is fixed, run either 'gprecoverseg --differential%s%s' "
				  "(moves only what differs) or 'gprecoverseg -F%s%s' (a full copy)",
				  opts->input_file ? " -i " : "", opts->input_file ? opts->input_file : "",
				  opts->input_file ? " -i " : "", opts->input_file ? opts->input_file : "");
		else
			log_error(" next: %srun '%s' again", fix, again);
	}
	/* Greenplum 7's sentence, which a DBA's scripts may look for. */
	if (rebuild_needed)
		log_error("You must run either gprecoverseg --differential or gprecoverseg -F for all "
			  "incremental failures");
	if (log_file_path())
		log_error("The log of this run is %s", log_file_path());
	log_error("gprecoverseg failed. Please check the output for more details.");
	return EXIT_FAILED;
}

static int recover(struct coordinator *coord, const struct recoverseg_options *opts,
		   const char *progress_file)
{
	struct catalog cat;
	struct recoverconf conf = { 0 };
	struct plan plan = { 0 };
	struct dispatch d = { 0 };
	struct plan_options popts = plan_options_of(opts);
	struct dispatch_options dopts = dispatch_options_of(opts);
	struct errbuf err;
	char unreachable[1024];
	size_t skipped = 0, unreached = 0;
	int rc = EXIT_OK;

	errbuf_clear(&err);
	log_info("Obtaining Segment details from coordinator...");
	if (catalog_load(coord->conn, &cat, &err) != 0 || catalog_validate(&cat, &err) != 0) {
		log_error("%s", err.msg);
		return EXIT_USAGE;
	}
	if (!catalog_has_mirrors(&cat)) {
		log_error("GPDB Mirroring replication is not configured for this Greenplum Database "
			  "instance.");
		catalog_free(&cat);
		return EXIT_USAGE;
	}
	if (opts->input_file && recoverconf_read(opts->input_file, &conf, &err) != 0) {
		log_error("%s", err.msg);
		catalog_free(&cat);
		return EXIT_USAGE;
	}
	if (plan_build(&cat, &popts, opts->input_file ? &conf : NULL, &plan, &err) != 0) {
		log_error("%s", err.msg);
		rc = EXIT_USAGE;
		goto out;
	}
	if (opts->output_file) {
		rc = write_sample_config(&plan, opts->output_file);
		goto out;
	}
	skipped = plan_skip_unresolvable(&plan);
	if (hostcheck_plan(&plan, unreachable, sizeof(unreachable), &unreached) != 0) {
		log_error("Cannot recover. The following recovery target hosts are unreachable: %s",
			  unreachable);
		rc = EXIT_USAGE;
		goto out;
	}
	skipped += unreached;
	if (plan.nrows == 0 && skipped > 0) {
		log_error("gprecoverseg failed: no segment to recover has a host that resolves and "
			  "answers");
		rc = EXIT_FAILED;
		goto out;
	}
	if (plan.nrows == 0) {
		log_info("No segments to recover");
		goto out;
	}
	if (checksums_consistent(coord->conn, &plan, &err) != 0) {
		log_critical("%s", err.msg);
		rc = EXIT_USAGE;
		goto out;
	}
	d.coordinator = coord->conn;
	d.cat = &cat;
	d.coordinator_datadir = coord->datadir;
	d.opts = &dopts;
	d.progress_file = progress_file;
	dispatch_init(&d, &plan);
	dispatch_estimate(&d);
	plan_display(&plan, &popts);
	for (size_t i = 0; i < plan.nrows; i++)
		if (plan.rows[i].relocated &&
		    strcmp(plan.rows[i].target.hostname, plan.rows[i].source->hostname) == 0)
			log_warning("Segment is being recovered to the same host as its primary: primary "
				    "%s:%d failover target: %s:%d",
				    plan.rows[i].source->hostname, plan.rows[i].source->port,
				    plan.rows[i].target.hostname, plan.rows[i].target.port);
	if (!opts->yes && !cli_confirm("Continue with segment recovery procedure")) {
		log_info("User abort requested, Exiting...");
		rc = EXIT_ABORTED;
		goto out;
	}
	log_info("%zu segment(s) to recover", plan.nrows);
	if (primaryhba_allow_mirrors(&plan, opts->hba_hostnames, &err) != 0) {
		log_error("Unable to update pg_hba.conf on the primary segments: %s", err.msg);
		rc = EXIT_FAILED;
		goto out;
	}
	log_info("Initiating segment recovery. Upon completion, will start the successfully "
		 "recovered segments");
	d.user_wants_stop = confirm_stop;
	ask_on_sigint = 1;
	dispatch_run(&d);
	ask_on_sigint = 0;
	rc = summarize(&d, opts, skipped);
	if (rc == EXIT_FAILED && d.user_interrupted)
		rc = EXIT_USAGE; /* Greenplum's code for a run the user interrupted */
out:
	dispatch_free(&d);
	plan_free(&plan);
	recoverconf_free(&conf);
	catalog_free(&cat);
	return rc;
}

int main(int argc, char **argv)
{
	struct recoverseg_options opts;
	struct strbuf warnings = STRBUF_INIT;
	struct coordinator coord;
	struct pidlock lock = { 0 };
	struct errbuf err;
	char *progress_file;
	int rc;

	strbuf_init(&warnings, 0);
	errbuf_clear(&err);
	if (recoverseg_parse_options(argc, argv, &opts, &warnings, &err) != 0) {
		strbuf_release(&warnings);
		return cli_usage_error(program, "%s", err.msg);
	}
	if (opts.help) {
		recoverseg_usage();
		strbuf_release(&warnings);
		return EXIT_OK;
	}
	if (opts.version) {
		printf("gprecoverseg (segrecover) %s\n", SEGRECOVER_VERSION);
		strbuf_release(&warnings);
		return EXIT_OK;
	}
	rc = cli_start(program, argc, argv, opts.logdir, opts.verbosity);
	if (rc != EXIT_OK) {
		strbuf_release(&warnings);
		return rc;
	}
	for (char *line = strtok(warnings.buf, "\n"); line; line = strtok(NULL, "\n"))
		log_warning("%s", line);
	strbuf_release(&warnings);
	if (coordinator_connect_locked(program, opts.coordinator_datadir, RECOVERY_LOCK_DIR, &coord,
				       &lock, &err) != 0) {
		log_error("%s", err.msg);
		return EXIT_USAGE;
	}
	{
		/* No SA_RESTART: a second Ctrl-C must end the question's read. */
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_interrupt;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	/* Greenplum's place: the log directory, where gpstate -e looks for it. */
	progress_file = log_dir_file(RECOVERY_PROGRESS_FILE);
	if (progress_file == NULL)
		progress_file = path_join(lock.dir, RECOVERY_PROGRESS_FILE);
	if (opts.rebalance) {
		struct rebalance_options ro = rebalance_options_of(&opts);

		rc = rebalance_run(&coord, &ro, progress_file);
	} else {
		rc = recover(&coord, &opts, progress_file);
	}
	free(progress_file);
	pidlock_release(&lock);
	coordinator_disconnect(&coord);
	log_close();
	return rc;
}
