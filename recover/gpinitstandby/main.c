/*
 * gpinitstandby: the coordinator's standby. -s creates it (catalog row, pg_hba.conf, a full copy
 * by the agent on its host through a replication slot, start, streaming), -n starts it, -r
 * removes it. Every step is journaled before and after it runs (journal.h), so that the same
 * command finishes a run that was killed anywhere, and -r undoes it.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "cli.h"
#include "coordinator.h"
#include "exec.h"
#include "fsutil.h"
#include "gpinitstandby/journal.h"
#include "gpinitstandby/options.h"
#include "gpinitstandby/steps.h"
#include "log.h"
#include "pidlock.h"
#include "replication.h"
#include "runner.h"
#include "targetguard.h"
#include "targetmark.h"

static const char program[] = "gpinitstandby";
static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	(void) sig;
	interrupted = 1;
	runner_stop();
}

/* The command that finishes the journaled work, as the DBA would type it. */
static void rerun_command(const struct standby_journal *j, char *buf, size_t len)
{
	if (j->action == JOURNAL_REMOVE)
		snprintf(buf, len, "gpinitstandby -r");
	else
		snprintf(buf, len, "gpinitstandby -s %s -P %d -S %s%s", j->hostname, j->port, j->datadir,
			 j->hba_hostnames ? " --hba-hostnames" : "");
}

static int fail_step(const char *coord_datadir, const struct standby_journal *j, const char *what,
		     const char *msg)
{
	char again[1400];

	rerun_command(j, again, sizeof(again));
	log_error("%s", msg);
	if (j->action == JOURNAL_CREATE) {
		log_error("Failed to create standby");
		log_error("The %s step did not complete. %s/%s records how far it got: once the cause "
			  "above is fixed, run '%s' to finish the standby, or 'gpinitstandby -r' to "
			  "undo what was done",
			  what, coord_datadir, STANDBY_JOURNAL_FILE, again);
	} else {
		log_error("Failed to remove the standby coordinator");
		log_error("The %s step did not complete. %s/%s records how far it got: once the cause "
			  "above is fixed, run 'gpinitstandby -r' again to finish the removal",
			  what, coord_datadir, STANDBY_JOURNAL_FILE);
	}
	return EXIT_USAGE;
}

static int check_interrupted(const char *coord_datadir, const struct standby_journal *j)
{
	if (!interrupted)
		return 0;
	return fail_step(coord_datadir, j, journal_step_name(j->step),
			 "process was interrupted by the user");
}

static void print_summary(const struct segment *coord, const struct standby_journal *j, bool remove)
{
	log_info("-----------------------------------------------------");
	log_info(remove ? "Warm coordinator standby removal parameters"
			: "Greenplum standby coordinator initialization parameters");
	log_info("-----------------------------------------------------");
	log_info("Greenplum coordinator hostname               = %s", coord->hostname);
	log_info("Greenplum coordinator data directory         = %s", coord->datadir);
	log_info("Greenplum coordinator port                   = %d", coord->port);
	log_info("Greenplum standby coordinator hostname       = %s", j->hostname);
	log_info("Greenplum standby coordinator port           = %d", j->port);
	log_info("Greenplum standby coordinator data directory = %s", j->datadir);
	if (!remove)
		log_info("Greenplum update system catalog              = On");
}

/* A create must start from nothing: Greenplum's checks, before anything changes. */
static int validate_create(const struct initstandby_options *o, const struct catalog *cat,
			   const struct segment *coord, const struct standby_journal *j)
{
	const struct segment *standby = catalog_standby(cat);
	struct errbuf err;
	char parent[1024];
	char *slash;
	bool yes;

	log_info("Validating environment and parameters for standby initialization...");
	if (standby != NULL) {
		log_error("Standby coordinator already configured: " SEG_FMT, SEG_ARGS(standby));
		log_info("If you want to start the stopped standby coordinator, use the -n option");
		return -1;
	}
	if (guard_path_text("the standby data directory (-S)", j->datadir, &err) != 0) {
		log_error("%s", err.msg);
		return -1;
	}
	if ((strcmp(j->hostname, coord->hostname) == 0 || strcmp(j->hostname, coord->address) == 0 ||
	     (host_is_local(j->hostname) && host_is_local(coord->address))) &&
	    j->port == coord->port) {
		log_error("cannot create standby on the same host and port as the coordinator "
			  "(%s:%d): choose another port with -P",
			  j->hostname, j->port);
		return -1;
	}
	if (!steps_host_answers(o->standby_host)) {
		log_error("Unable to ping new standby host %s", o->standby_host);
		return -1;
	}
	snprintf(parent, sizeof(parent), "%s", j->datadir);
	slash = strrchr(parent, '/');
	if (slash == parent)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (steps_path_test(j->hostname, 'd', parent, &yes, &err) != 0) {
		log_error("%s", err.msg);
		return -1;
	}
	if (!yes) {
		log_error("Parent directory %s does not exist on host %s", parent, j->hostname);
		log_error("This directory must be created before running gpinitstandby");
		return -1;
	}
	log_info("Checking for data directory %s on %s", j->datadir, j->hostname);
	if (steps_path_test(j->hostname, 'e', j->datadir, &yes, &err) != 0) {
		log_error("%s", err.msg);
		return -1;
	}
	if (yes) {
		log_error("Data directory already exists on host %s: %s", j->hostname, j->datadir);
		return -1;
	}
	return 0;
}

static bool same_request(const struct standby_journal *j, const struct standby_journal *want)
{
	return strcmp(j->hostname, want->hostname) == 0 && j->port == want->port &&
	       strcmp(j->datadir, want->datadir) == 0;
}

static int run_create_steps(struct coordinator *coord, const struct step_env *env,
			    struct standby_journal *j)
{
	struct catalog cat;
	struct errbuf err;
	int rc = 0;

	errbuf_clear(&err);
	if (!journal_has_done(j, STEP_CATALOG)) {
		if (journal_mark(coord->datadir, j, STEP_CATALOG, false, &err) != 0)
			return fail_step(coord->datadir, j, "catalog", err.msg);
		log_info("Adding standby coordinator to catalog...");
		if (catalog_add_standby(coord->conn, j->hostname, j->address, j->port, j->datadir,
					&j->dbid, &err) != 0)
			return fail_step(coord->datadir, j, "catalog", err.msg);
		log_info("Database catalog updated successfully (standby dbid %d).", j->dbid);
		if (journal_mark(coord->datadir, j, STEP_CATALOG, true, &err) != 0)
			return fail_step(coord->datadir, j, "catalog", err.msg);
	}
	if (check_interrupted(coord->datadir, j) != 0)
		return EXIT_USAGE;
	if (catalog_load(coord->conn, &cat, &err) != 0)
		return fail_step(coord->datadir, j, "hba", err.msg);
	if (!journal_has_done(j, STEP_HBA)) {
		if (journal_mark(coord->datadir, j, STEP_HBA, false, &err) != 0) {
			rc = fail_step(coord->datadir, j, "hba", err.msg);
			goto out;
		}
		log_info("Updating pg_hba.conf file...");
		if (steps_admit_standby(&cat, j, &err) != 0) {
			rc = fail_step(coord->datadir, j, "hba", err.msg);
			goto out;
		}
		log_info("pg_hba.conf files updated successfully.");
		if (journal_mark(coord->datadir, j, STEP_HBA, true, &err) != 0) {
			rc = fail_step(coord->datadir, j, "hba", err.msg);
			goto out;
		}
	}
	if ((rc = check_interrupted(coord->datadir, j)) != 0)
		goto out;
	if (!journal_has_done(j, STEP_COPY)) {
		/* Only a copy an earlier run began can be the one that streams now. */
		bool copy_begun = j->step == STEP_COPY;

		if (journal_mark(coord->datadir, j, STEP_COPY, false, &err) != 0) {
			rc = fail_step(coord->datadir, j, "copy", err.msg);
			goto out;
		}
		if (copy_begun && steps_standby_streams(coord->conn)) {
			/* an earlier run copied and started it, and was stopped before it recorded so */
			log_info("The standby coordinator already streams from the coordinator");
		} else if (steps_copy_standby(env, &cat, j, &err) != 0) {
			rc = fail_step(coord->datadir, j, "copy",
				       interrupted ? "process was interrupted by the user" : err.msg);
			goto out;
		}
		if (journal_mark(coord->datadir, j, STEP_COPY, true, &err) != 0) {
			rc = fail_step(coord->datadir, j, "copy", err.msg);
			goto out;
		}
	}
	if (journal_clear(coord->datadir, &err) != 0) {
		rc = fail_step(coord->datadir, j, "copy", err.msg);
		goto out;
	}
	log_info("Successfully created standby coordinator on %s", j->hostname);
out:
	catalog_free(&cat);
	return rc;
}

/* What every action starts from: the journal (what an earlier run left) and the catalog. */
static int read_state(struct coordinator *coord, struct standby_journal *j, struct catalog *cat,
		      bool validate)
{
	struct errbuf err;

	errbuf_clear(&err);
	memset(cat, 0, sizeof(*cat));
	if (journal_read(coord->datadir, j, &err) != 0 || catalog_load(coord->conn, cat, &err) != 0 ||
	    (validate && catalog_validate(cat, &err) != 0)) {
		log_error("%s", err.msg);
		catalog_free(cat);
		return -1;
	}
	return 0;
}

static int create(struct coordinator *coord, const struct initstandby_options *o,
		  const struct step_env *env)
{
	struct standby_journal j, want = { .action = JOURNAL_CREATE };
	struct catalog cat;
	const struct segment *c;
	struct errbuf err;
	int rc = EXIT_OK;

	errbuf_clear(&err);
	if (read_state(coord, &j, &cat, true) != 0)
		return EXIT_USAGE;
	c = catalog_coordinator(&cat);
	snprintf(want.hostname, sizeof(want.hostname), "%s", o->standby_host);
	snprintf(want.address, sizeof(want.address), "%s", o->standby_host);
	want.port = o->standby_port ? (int) o->standby_port : c->port;
	snprintf(want.datadir, sizeof(want.datadir), "%s",
		 o->standby_datadir ? o->standby_datadir : c->datadir);
	want.hba_hostnames = o->hba_hostnames;
	if (j.action == JOURNAL_REMOVE) {
		log_error("An interrupted 'gpinitstandby -r' of the standby on %s:%d %s is not finished: "
			  "run 'gpinitstandby -r' first",
			  j.hostname, j.port, j.datadir);
		rc = EXIT_USAGE;
	} else if (j.action == JOURNAL_CREATE && !same_request(&j, &want)) {
		char again[1400];

		rerun_command(&j, again, sizeof(again));
		log_error("An interrupted standby initialization on %s:%d %s is not finished (its %s "
			  "step): run '%s' to finish it, or 'gpinitstandby -r' to undo it",
			  j.hostname, j.port, j.datadir, journal_step_name(j.step), again);
		rc = EXIT_USAGE;
	} else if (j.action == JOURNAL_CREATE) {
		print_summary(c, &j, false);
		log_info("Resuming the standby initialization interrupted at its %s step (%s)",
			 journal_step_name(j.step), j.step_done ? "complete" : "begun");
	} else {
		j = want;
		if (validate_create(o, &cat, c, &j) != 0)
			rc = EXIT_USAGE;
		else
			print_summary(c, &j, false);
	}
	catalog_free(&cat);
	if (rc != EXIT_OK)
		return rc;
	if (!o->yes && !cli_confirm("Do you want to continue with standby coordinator initialization?")) {
		log_info("User canceled");
		return EXIT_USAGE;
	}
	if (j.step == STEP_NONE && journal_mark(coord->datadir, &j, STEP_NONE, false, &err) != 0) {
		log_error("cannot record the standby initialization: %s", err.msg);
		return EXIT_USAGE;
	}
	return run_create_steps(coord, env, &j);
}

static int run_remove_steps(struct coordinator *coord, const struct step_env *env,
			    struct standby_journal *j)
{
	struct catalog cat;
	struct errbuf err;
	bool done = false;
	int rc = 0;

	errbuf_clear(&err);
	if (!journal_has_done(j, STEP_CATALOG)) {
		if (journal_mark(coord->datadir, j, STEP_CATALOG, false, &err) != 0)
			return fail_step(coord->datadir, j, "catalog", err.msg);
		if (j->dbid > 0) {
			log_info("Removing standby coordinator from catalog...");
			if (catalog_remove_standby(coord->conn, j->dbid, &done, &err) != 0)
				return fail_step(coord->datadir, j, "catalog", err.msg);
			log_info(done ? "Database catalog updated successfully."
				      : "The catalog had no standby row left.");
		}
		if (journal_mark(coord->datadir, j, STEP_CATALOG, true, &err) != 0)
			return fail_step(coord->datadir, j, "catalog", err.msg);
	}
	if (check_interrupted(coord->datadir, j) != 0)
		return EXIT_USAGE;
	if (catalog_load(coord->conn, &cat, &err) != 0)
		return fail_step(coord->datadir, j, "directory", err.msg);
	if (!journal_has_done(j, STEP_DIRECTORY)) {
		if (journal_mark(coord->datadir, j, STEP_DIRECTORY, false, &err) != 0 ||
		    steps_remove_standby_dir(env, &cat, j, &err) != 0 ||
		    journal_mark(coord->datadir, j, STEP_DIRECTORY, true, &err) != 0) {
			rc = fail_step(coord->datadir, j, "directory",
				       interrupted ? "process was interrupted by the user" : err.msg);
			goto out;
		}
	}
	if ((rc = check_interrupted(coord->datadir, j)) != 0)
		goto out;
	if (!journal_has_done(j, STEP_SLOT)) {
		/* Without its standby the slot would keep the coordinator's WAL for ever. */
		if (journal_mark(coord->datadir, j, STEP_SLOT, false, &err) != 0 ||
		    slot_drop(coord->conn, &done, &err) != 0 ||
		    journal_mark(coord->datadir, j, STEP_SLOT, true, &err) != 0) {
			rc = fail_step(coord->datadir, j, "slot", err.msg);
			goto out;
		}
		if (done)
			log_info("Replication slot %s dropped on the coordinator", REPLICATION_SLOT);
	}
	if (journal_clear(coord->datadir, &err) != 0) {
		rc = fail_step(coord->datadir, j, "slot", err.msg);
		goto out;
	}
	log_info("Successfully removed standby coordinator");
out:
	catalog_free(&cat);
	return rc;
}

static int remove_standby(struct coordinator *coord, const struct initstandby_options *o,
			  const struct step_env *env)
{
	struct standby_journal j;
	struct catalog cat;
	const struct segment *standby;
	struct errbuf err;
	int rc = EXIT_OK;

	errbuf_clear(&err);
	if (read_state(coord, &j, &cat, false) != 0)
		return EXIT_USAGE;
	standby = catalog_standby(&cat);
	if (j.action == JOURNAL_CREATE) {
		/* Undo an interrupted create: the journal knows where it put things. */
		log_info("Undoing the standby initialization interrupted at its %s step",
			 journal_step_name(j.step));
		if (j.dbid == 0 && standby && strcmp(standby->datadir, j.datadir) == 0 &&
		    standby->port == j.port)
			j.dbid = standby->dbid;
		j.action = JOURNAL_REMOVE;
		j.step = STEP_NONE;
		j.step_done = false;
	} else if (j.action == JOURNAL_REMOVE) {
		log_info("Finishing the standby removal interrupted at its %s step",
			 journal_step_name(j.step));
	} else if (standby == NULL) {
		log_error("Request made to remove warm coordinator standby, but no standby located.");
		catalog_free(&cat);
		return EXIT_USAGE;
	} else {
		memset(&j, 0, sizeof(j));
		j.action = JOURNAL_REMOVE;
		j.dbid = standby->dbid;
		j.port = standby->port;
		snprintf(j.hostname, sizeof(j.hostname), "%s", standby->hostname);
		snprintf(j.address, sizeof(j.address), "%s", standby->address);
		snprintf(j.datadir, sizeof(j.datadir), "%s", standby->datadir);
	}
	print_summary(catalog_coordinator(&cat), &j, true);
	catalog_free(&cat);
	if (!o->yes && !cli_confirm("Do you want to continue with deleting the standby coordinator?")) {
		log_info("User canceled");
		return EXIT_USAGE;
	}
	/* The intent first: from here on a killed run is finished by -r, whatever it reached. */
	if (journal_mark(coord->datadir, &j, j.step, j.step_done, &err) != 0) {
		log_error("cannot record the standby removal: %s", err.msg);
		return EXIT_USAGE;
	}
	rc = run_remove_steps(coord, env, &j);
	return rc;
}

static int start_standby(struct coordinator *coord, const struct step_env *env)
{
	struct standby_journal j;
	struct catalog cat;
	const struct segment *standby;
	struct errbuf err;
	int rc = EXIT_OK;

	errbuf_clear(&err);
	if (read_state(coord, &j, &cat, false) != 0)
		return EXIT_USAGE;
	standby = catalog_standby(&cat);
	if (j.action != JOURNAL_NONE) {
		char again[1400];

		rerun_command(&j, again, sizeof(again));
		log_error("An interrupted gpinitstandby is not finished: run '%s' first", again);
		rc = EXIT_USAGE;
	} else if (standby == NULL) {
		log_error("Cannot use -n option when standby coordinator has not yet been configured");
		rc = EXIT_USAGE;
	} else if (steps_standby_streams(coord->conn)) {
		log_info("Standy coordinator is already up and running.");
	} else if (steps_start_standby(env, standby, &err) != 0) {
		log_error("%s", err.msg);
		rc = EXIT_USAGE;
	} else {
		log_info("Successfully started standby coordinator");
	}
	catalog_free(&cat);
	return rc;
}

int main(int argc, char **argv)
{
	struct initstandby_options o;
	struct coordinator coord;
	struct pidlock lock = { 0 };
	struct step_env env;
	struct errbuf err;
	int rc;

	errbuf_clear(&err);
	if (initstandby_parse_options(argc, argv, &o, &err) != 0) {
		if (strcmp(err.msg, "No action provided in the options.") == 0)
			initstandby_usage();
		return cli_usage_error(program, "%s", err.msg);
	}
	if (o.help) {
		initstandby_usage();
		return EXIT_OK;
	}
	if (o.version) {
		printf("gpinitstandby (segrecover) %s\n", SEGRECOVER_VERSION);
		return EXIT_OK;
	}
	rc = cli_start(program, argc, argv, o.logdir, o.verbosity);
	if (rc != EXIT_OK)
		return rc;
	if (coordinator_connect_locked(program, NULL, "gpinitstandby.lock", &coord, &lock, &err) != 0) {
		log_error("%s", err.msg);
		return EXIT_USAGE;
	}
	signal(SIGINT, on_interrupt);
	signal(SIGTERM, on_interrupt);
	signal(SIGPIPE, SIG_IGN);
	env.logdir = o.logdir;
	env.verbosity = o.verbosity;
	if (o.standby_host)
		rc = create(&coord, &o, &env);
	else if (o.remove)
		rc = remove_standby(&coord, &o, &env);
	else
		rc = start_standby(&coord, &env);
	pidlock_release(&lock);
	coordinator_disconnect(&coord);
	log_close();
	return rc;
}
