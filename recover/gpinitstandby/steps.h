/*
 * steps: what gpinitstandby does to the cluster, one idempotent step each, so that the journal
 * can run any of them again after a kill: admit the standby in pg_hba.conf, copy and start it,
 * remove its directory, and the checks on its host before anything is done.
 */
#ifndef SEGRECOVER_GPINITSTANDBY_STEPS_H
#define SEGRECOVER_GPINITSTANDBY_STEPS_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "catalog.h"
#include "errbuf.h"
#include "gpinitstandby/journal.h"
#include "log.h"

/* How the steps run: what the agents are told. */
struct step_env {
	const char *logdir;
	enum log_verbosity verbosity;
};

/* ssh HOST true (this host always answers). */
bool steps_host_answers(const char *host);

/* Does PATH exist (kind 'e') or is it a directory ('d') on HOST? -1 when HOST cannot be asked. */
int steps_path_test(const char *host, char kind, const char *path, bool *yes, struct errbuf *err);

/* The coordinator's and every up segment's pg_hba.conf admit the standby J describes. */
int steps_admit_standby(const struct catalog *cat, const struct standby_journal *j,
			struct errbuf *err);

/* Is the standby streaming from the coordinator now (its walsender, state streaming)? */
bool steps_standby_streams(PGconn *coordinator);

/*
 * The copy: the agent on the standby's host runs the full strategy for content -1 from the
 * coordinator (a slot made first), configures, starts, and waits until the standby streams.
 */
int steps_copy_standby(const struct step_env *env, const struct catalog *cat,
		       const struct standby_journal *j, struct errbuf *err);

/* Stop the standby and remove its directory, through the agent's guard (every other instance protected). */
int steps_remove_standby_dir(const struct step_env *env, const struct catalog *cat,
			     const struct standby_journal *j, struct errbuf *err);

/* Start the configured standby (gpinitstandby -n). */
int steps_start_standby(const struct step_env *env, const struct segment *standby,
			struct errbuf *err);

#endif
