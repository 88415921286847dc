/*
 * dispatch: run one gpsegrecovery per plan row (at most -B at once, -b per host), follow their
 * progress, and once a copy is done wait until the mirror is in sync and have the probe logic
 * record it. Interrupted or failed rows are reported, never retried silently.
 */
#ifndef SEGRECOVER_DISPATCH_H
#define SEGRECOVER_DISPATCH_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "catalog.h"
#include "driver/plan.h"
#include "driver/progressview.h"
#include "exec.h"
#include "log.h"
#include "strvec.h"

enum run_state {
	RUN_PENDING,
	RUN_COPYING,   /* gpsegrecovery runs */
	RUN_SYNCING,   /* copied and started; waiting for the probe to see it in sync */
	RUN_DONE,
	RUN_FAILED,
};

struct run_row {
	struct plan_row *plan;
	enum run_state state;
	char phase[64];
	uint64_t done, total;     /* bytes of the copy */
	uint64_t sent;            /* bytes moved, when less than done (differential) */
	double t_start, t_copy_start, t_end;
	uint64_t bytes;
	char step[64];            /* the failed step */
	char error[2048];
	bool needs_full;          /* the agent's remedy: only a full copy repairs the directory */
	bool fell_back;           /* an incremental attempt failed and a full one replaced it */
	bool mirror_stopped;      /* failed at sync: the started mirror stopped answering */
	char first_strategy[256];
	char progress_path[1600]; /* the per-segment progress file on the target's host, or "" */
	/* private to dispatch */
	struct strvec argv;       /* the running agent's command line */
	bool saw_done;
	double sync_deadline;
	double next_sync_probe;
	double silent_since;      /* when the mirror first gave no answer in a row, or 0 */
};

/* How the recoveries run. */
struct dispatch_options {
	int parallel;             /* instances recovered at once */
	int per_host;             /* of those, on one host */
	bool fallback;            /* an incremental failure is retried as a full copy */
	bool progress;            /* show progress (and write the progress file) */
	bool sequential_progress; /* as log lines, not redrawn in place */
	long max_rate_kbps;       /* throttle full copies; 0 unlimited */
	const char *logdir;       /* the agents' -l, or NULL */
	bool no_prompt;           /* -a: nobody reads the plan before it runs */
	enum log_verbosity verbosity;
};

struct dispatch {
	PGconn *coordinator;
	const struct catalog *cat;  /* as the plan was made: every other instance is protected */
	const char *coordinator_datadir;
	const struct dispatch_options *opts;
	const char *progress_file; /* recovery_progress.file, or NULL */
	/*
	 * Asked about every 200 ms (may be NULL): true when the user has confirmed that the run
	 * must stop (the first Ctrl-C asks; the command owns the question). The rows still at work
	 * are then stopped and reported as interrupted by the user.
	 */
	bool (*user_wants_stop)(void);
	bool user_interrupted;     /* set once that happened */
	struct run_row *rows;
	size_t nrows;
	int sync_timeout_s;
	/* private */
	struct progress_view *view;
	bool stop_seen;
};

/* Run every row to the end (done or failed). Returns the number of rows not done. */
size_t dispatch_run(struct dispatch *d);

/*
 * Before the plan is shown: every row's strategy that can tell what it would move is asked on
 * the target's host (gpsegrecovery estimate, all at once); the answers fill the plan rows.
 */
void dispatch_estimate(struct dispatch *d);

/* Ask running gpsegrecovery processes to stop (SIGINT/SIGTERM to gprecoverseg). */
void dispatch_interrupt(void);

void dispatch_init(struct dispatch *d, struct plan *plan);
void dispatch_free(struct dispatch *d);

#endif
