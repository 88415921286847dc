/*
 * gpactivatestandby: makes the standby coordinator the coordinator, once the old one is gone.
 * Refuses while the old coordinator still answers or holds its lock; promotes; waits until a
 * checkpoint has made the new timeline durable; then, in one catalog transaction, removes the
 * old coordinator's row and makes the standby's row the primary, keeping its dbid.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/target.h"
#include "catalog.h"
#include "cli.h"
#include "clock.h"
#include "coordinator.h"
#include "exec.h"
#include "fsutil.h"
#include "gpactivatestandby/oldcoord.h"
#include "log.h"
#include "pgconn.h"
#include "postmaster.h"
#include "standbyconf.h"

static const char program[] = "gpactivatestandby";
#define ACTIVATE_TIMEOUT 600 /* seconds, as Greenplum's */

struct activate_options {
	const char *datadir;
	bool force, yes, help, version;
	const char *logdir;
	enum log_verbosity verbosity;
};

static void usage(void)
{
	printf("gpactivatestandby: makes the standby coordinator the coordinator of a segrecover "
	       "cluster.\n\n"
	       "Usage:\n"
	       "  gpactivatestandby [-d STANDBY_DATADIR] [-f] [-a] [-q] [-l LOGDIR]\n"
	       "  gpactivatestandby -? | -h | --help | -v | --version\n\n"
	       "Options:\n"
	       "  -d DIR      the standby's data directory (default $COORDINATOR_DATA_DIRECTORY,\n"
	       "              then $MASTER_DATA_DIRECTORY)\n"
	       "  -f, --force        the standby is not running: start it, then activate it\n"
	       "  -a                 do not ask for confirmation\n"
	       "  -q, --quiet        warnings and errors only on screen\n"
	       "  -l, --logfile DIR  log directory (default ~/gpAdminLogs)\n"
	       "  -?, -h, --help   this help\n"
	       "  -v, --version    the version\n\n"
	       "Run it on the standby's host once the coordinator has failed. It refuses while the\n"
	       "old coordinator still answers or a live process holds its socket lock.\n"
	       "Exit status: 0 activated; 1 activated with warnings; 2 an error, or the user said no.\n");
}

static int parse_options(int argc, char **argv, struct activate_options *o)
{
	static const struct option longopts[] = {
		{ "master-data-directory", required_argument, NULL, 'd' },
		{ "coordinator-data-directory", required_argument, NULL, 'd' },
		{ "force", no_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "logfile", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->verbosity = LOG_NORMAL;
	opterr = 0;
	for (;;) {
		optopt = 0;
		c = getopt_long(argc, argv, ":d:faql:hvD", longopts, NULL);
		if (c == -1)
			break;
		switch (c) {
		case 'd':
			o->datadir = optarg;
			break;
		case 'f':
			o->force = true;
			break;
		case 'a':
			o->yes = true;
			break;
		case 'q':
			o->verbosity = LOG_QUIET;
			break;
		case 'D':
			o->verbosity = LOG_VERBOSE;
			break;
		case 'l':
			o->logdir = optarg;
			break;
		case 'h':
			o->help = true;
			return 0;
		case 'v':
			o->version = true;
			return 0;
		case '?':
		case ':': {
			char msg[256];

			if (cli_getopt_help_or_error(c, argv, msg, sizeof(msg))) {
				o->help = true;
				return 0;
			}
			return cli_usage_error(program, "%s", msg);
		}
		}
	}
	if (optind < argc)
		return cli_usage_error(program, "unexpected argument \"%s\"", argv[optind]);
	if (o->datadir == NULL || o->datadir[0] == '\0')
		o->datadir = getenv("COORDINATOR_DATA_DIRECTORY");
	if (o->datadir == NULL || o->datadir[0] == '\0')
		o->datadir = getenv("MASTER_DATA_DIRECTORY");
	if (o->datadir == NULL || o->datadir[0] == '\0')
		return cli_usage_error(program, "no standby data directory: give -d or set "
						"COORDINATOR_DATA_DIRECTORY");
	return 0;
}

/* What the standby's own catalog copy says about itself and the coordinator it follows. */
struct standby_view {
	int dbid;            /* its row (content -1, role 'm'), 0 unknown */
	char role;
	char old_datadir[1024];
	char old_hostname[256];
};

static void read_catalog(PGconn *conn, int port, struct standby_view *sv)
{
	struct catalog cat;
	struct errbuf err;

	memset(sv, 0, sizeof(*sv));
	if (catalog_load(conn, &cat, &err) != 0) {
		log_debug("cannot read the standby's catalog yet: %s", err.msg);
		return;
	}
	for (size_t i = 0; i < cat.nsegs; i++) {
		const struct segment *s = &cat.segs[i];

		if (s->content != COORDINATOR_CONTENT)
			continue;
		if (s->role == ROLE_MIRROR && s->port == port) {
			sv->dbid = s->dbid;
			sv->role = s->role;
		} else if (s->role == ROLE_PRIMARY) {
			if (s->port == port && sv->dbid == 0 && host_is_local(s->address))
				sv->role = ROLE_PRIMARY; /* this is the coordinator itself */
			snprintf(sv->old_datadir, sizeof(sv->old_datadir), "%s", s->datadir);
			snprintf(sv->old_hostname, sizeof(sv->old_hostname), "%s", s->hostname);
		}
	}
	catalog_free(&cat);
}

/*
 * The standby on this host, through its own socket directory (or localhost): never PGHOST,
 * which names the coordinator that is gone.
 */
static PGconn *connect_standby(const char *datadir, struct errbuf *err)
{
	char sockdir[1024] = "";
	int port = 0;
	struct pgconn_params params = { .dbname = CATALOG_DBNAME };

	if (coordinator_read_location(datadir, &port, sockdir, sizeof(sockdir), err) != 0)
		return NULL;
	params.host = sockdir[0] ? sockdir : "localhost";
	params.port = port;
	return pg_connect(&params, err);
}

static int wait_checkpoint(PGconn **conn, const char *datadir, struct errbuf *err)
{
	double deadline = now_seconds() + ACTIVATE_TIMEOUT;

	for (;;) {
		if (*conn == NULL)
			*conn = connect_standby(datadir, err);
		if (*conn != NULL && pg_exec(*conn, "CHECKPOINT", 0, NULL, err) == 0)
			return 0;
		if (now_seconds() > deadline)
			return errbuf_prefix(err, "Timed out waiting for promoted coordinator to accept "
						  "database connections.");
		if (*conn && PQstatus(*conn) != CONNECTION_OK) {
			PQfinish(*conn);
			*conn = NULL;
		}
		usleep(500 * 1000);
	}
}

static int promote(PGconn *conn, struct errbuf *err)
{
	char *in_recovery = NULL, *promoted = NULL;
	int rc = 0;

	if (pg_query_value(conn, "SELECT pg_is_in_recovery()", 0, NULL, &in_recovery, err) != 0)
		return -1;
	if (in_recovery && strcmp(in_recovery, "t") == 0) {
		log_info("Promoting the standby coordinator...");
		if (pg_query_value(conn, "SELECT pg_promote(true, 600)", 0, NULL, &promoted, err) != 0)
			rc = -1;
		else if (promoted == NULL || strcmp(promoted, "t") != 0)
			rc = errbuf_set(err, "the standby did not finish its promotion within 600 s");
	} else {
		log_info("The standby is out of recovery already (an earlier activation promoted it)");
	}
	free(in_recovery);
	free(promoted);
	return rc;
}

static void final_advice(const char *host, const char *datadir, int port)
{
	log_info("-----------------------------------------------------");
	log_info("The activation of the standby coordinator has completed successfully.");
	log_info("%s is now the new primary coordinator.", host);
	log_info("You will need to update your user access mechanism to reflect");
	log_info("the change of coordinator hostname.");
	log_info("Do not re-start the failed coordinator while the fail-over coordinator is");
	log_info("operational, this could result in database corruption!");
	log_info("COORDINATOR_DATA_DIRECTORY is now %s if", datadir);
	log_info("this has changed as a result of the standby coordinator activation, remember");
	log_info("to change this in any startup scripts etc, that may be configured");
	log_info("to set this value.");
	log_info("COORDINATOR_PORT is now %d, if this has changed, you", port);
	log_info("may need to make additional configuration changes to allow access");
	log_info("to the Greenplum instance.");
	log_info("To keep a standby, create a new one with gpinitstandby -s HOST (on the old");
	log_info("coordinator's host, its old directory must be moved away first).");
	log_info("-----------------------------------------------------");
	log_info("Query planner statistics must be updated on all databases");
	log_info("following standby coordinator activation.");
	log_info("When convenient, run ANALYZE against all user databases.");
	log_info("-----------------------------------------------------");
}

static int activate(const struct activate_options *o)
{
	struct old_coordinator oc = { 0 };
	struct standby_view sv = { 0 };
	char sockdir[1024] = "", *signal_path, myhost[256];
	struct errbuf err;
	PGconn *conn = NULL;
	bool running, has_signal, warned = false, changed = false;
	int port = 0, rc = EXIT_USAGE;

	errbuf_clear(&err);
	if (!is_pg_datadir(o->datadir)) {
		log_error("Error activating standby coordinator: \"%s\" is not a PostgreSQL data "
			  "directory",
			  o->datadir);
		return EXIT_USAGE;
	}
	signal_path = path_join(o->datadir, "standby.signal");
	has_signal = path_exists(signal_path);
	running = postmaster_running(o->datadir, NULL);
	if (coordinator_read_location(o->datadir, &port, sockdir, sizeof(sockdir), &err) != 0)
		goto out;
	if (running && (conn = connect_standby(o->datadir, &err)) != NULL)
		read_catalog(conn, port, &sv);
	/* Without standby.signal only one case goes on: promoted, but the catalog not yet done. */
	if (!has_signal && !(running && sv.dbid > 0 && sv.role == ROLE_MIRROR)) {
		log_error("Critical required file on standby \"%s\" is not present", signal_path);
		log_error("Error activating standby coordinator: %s is not a standby coordinator%s",
			  o->datadir,
			  sv.role == ROLE_PRIMARY ? " (the catalog names it the coordinator already)" : "");
		goto out;
	}
	if (standby_read_primary(o->datadir, oc.host, sizeof(oc.host), &oc.port, &err) != 0 &&
	    has_signal) {
		log_error("Error activating standby coordinator: %s", err.msg);
		goto out;
	}
	oc.socketdir = sockdir[0] ? sockdir : NULL;
	oc.datadir = sv.old_datadir[0] ? sv.old_datadir : NULL;
	gethostname(myhost, sizeof(myhost));
	log_info("------------------------------------------------------");
	log_info("Standby data directory    = %s", o->datadir);
	log_info("Standby port              = %d", port);
	log_info("Standby running           = %s", running ? "yes" : "no");
	log_info("Force standby activation  = %s", o->force ? "yes" : "no");
	if (oc.host[0])
		log_info("Old coordinator           = %s:%d", oc.host, oc.port);
	log_info("------------------------------------------------------");
	if (oc.host[0]) {
		int alive = oldcoord_alive(&oc, &warned, &err);

		if (alive) {
			log_error("Active postgres process on coordinator: %s", err.msg);
			log_error("Error activating standby coordinator: two coordinators must never "
				  "accept writes at once. Stop the old coordinator (pg_ctl stop -D "
				  "<its data directory> -m fast on %s) or make sure it is gone, then run "
				  "gpactivatestandby again",
				  oc.host);
			goto out;
		}
	}
	if (!running && !o->force) {
		log_error("Force activation required: the standby coordinator in %s is not running. "
			  "Run gpactivatestandby -f to start it and activate it",
			  o->datadir);
		goto out;
	}
	if (!o->yes && !cli_confirm("Do you want to continue with standby coordinator activation?")) {
		log_info("User canceled");
		goto out;
	}
	/* From here on nothing is undone: an interrupt would leave half an activation. */
	signal(SIGINT, SIG_IGN);
	if (!running) {
		struct target t = { .datadir = o->datadir, .lock_fd = -1 };

		log_warning("The standby coordinator is not running: starting it to activate it; "
			    "it can only hold what it had received when the coordinator failed");
		if (target_start(&t, true, ACTIVATE_TIMEOUT, &err) != 0) {
			log_error("Error activating standby coordinator: %s", err.msg);
			goto out;
		}
		if ((conn = connect_standby(o->datadir, &err)) == NULL) {
			log_error("Error activating standby coordinator: %s", err.msg);
			goto out;
		}
		read_catalog(conn, port, &sv);
	}
	if (sv.dbid == 0) {
		log_error("Error activating standby coordinator: the catalog has no standby row (content "
			  "-1, role 'm') on port %d: this is not the catalog's standby",
			  port);
		goto out;
	}
	if (promote(conn, &err) != 0 || wait_checkpoint(&conn, o->datadir, &err) != 0) {
		log_error("Error activating standby coordinator: %s", err.msg);
		log_error("Run gpactivatestandby -d %s again once the cause is fixed", o->datadir);
		goto out;
	}
	log_info("The new timeline is durable (checkpoint done)");
	/* A coordinator follows nobody: its settings from the standby days go. */
	if (pg_exec(conn, "ALTER SYSTEM RESET primary_conninfo", 0, NULL, &err) != 0 ||
	    pg_exec(conn, "ALTER SYSTEM RESET primary_slot_name", 0, NULL, &err) != 0 ||
	    pg_exec(conn, "SELECT pg_reload_conf()", 0, NULL, &err) != 0)
		log_warning("cannot clear primary_conninfo on the new coordinator: %s", err.msg),
			warned = true;
	if (catalog_activate_standby(conn, sv.dbid, &changed, &err) != 0) {
		log_error("Error activating standby coordinator: %s", err.msg);
		log_error("Run gpactivatestandby -d %s again to finish the catalog change", o->datadir);
		goto out;
	}
	log_info(changed ? "Catalog updated: dbid %d is the coordinator (role p, preferred role p), "
			   "the old coordinator's row is removed"
			 : "The catalog already names dbid %d the coordinator",
		 sv.dbid);
	final_advice(myhost, o->datadir, port);
	rc = warned ? EXIT_FAILED : EXIT_OK;
out:
	if (conn)
		PQfinish(conn);
	free(signal_path);
	return rc;
}

int main(int argc, char **argv)
{
	struct activate_options o;
	int rc;

	if (parse_options(argc, argv, &o) != 0)
		return EXIT_USAGE;
	if (o.help) {
		usage();
		return EXIT_OK;
	}
	if (o.version) {
		printf("gpactivatestandby (segrecover) %s\n", SEGRECOVER_VERSION);
		return EXIT_OK;
	}
	rc = cli_start(program, argc, argv, o.logdir, o.verbosity);
	if (rc != EXIT_OK)
		return rc;
	signal(SIGPIPE, SIG_IGN);
	rc = activate(&o);
	log_close();
	return rc;
}
