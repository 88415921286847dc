/*
 * runner: run child processes in parallel, shaped like git's run_processes_parallel: at most N
 * at once and M per host, every line of their output handed to the caller as it comes, each end
 * reported to a callback that may run the task again. The policy (what to start, what a failure
 * means) stays with the caller; the runner only runs.
 */
#ifndef SEGRECOVER_RUNNER_H
#define SEGRECOVER_RUNNER_H

#include <stdbool.h>
#include <stddef.h>

#include "exec.h"

/* What runner_ops.start fills in for one task. */
struct runner_spawn {
	const char *const *argv; /* the caller's; valid until the task's finished() */
};

struct runner_ops {
	/* The host task I runs on: NULL for this one, else over ssh (exec.h). For -b style limits. */
	const char *(*host)(void *ctx, size_t i);
	/*
	 * Task I may start: fill *sp and return 1; 0 when it has nothing to run now (it is asked
	 * again later); -1 when it cannot start at all (the task is over; the caller has said why).
	 */
	int (*start)(void *ctx, size_t i, struct runner_spawn *sp);
	/* One line (no newline) of task I's standard output or, with is_stderr, error output. */
	void (*line)(void *ctx, size_t i, bool is_stderr, const char *line);
	/*
	 * Task I exited with STATUS (its exit code, or 128 + signal; -1 when it could not be run,
	 * with why). Return true to run it again: start() is asked for it once more.
	 */
	bool (*finished)(void *ctx, size_t i, int status, const char *why);
	/*
	 * Called about every 200 ms and after every event, for the caller's own work (probes, a
	 * progress view). Returns true while the caller still has work of its own: the runner
	 * returns when no task runs or waits and idle() returns false. May be NULL.
	 */
	bool (*idle)(void *ctx);
};

struct runner {
	size_t ntasks;
	int max_parallel;         /* at most this many at once (>= 1) */
	int max_per_host;         /* and this many on one host (>= 1) */
	bool watch_pipe;          /* give each child a pipe on stdin, closed to ask it to stop */
	/* private */
	struct runner_task *tasks;
	bool stopping;
};

/* Run every task to its end. */
void runner_run(struct runner *r, const struct runner_ops *ops, void *ctx);

/*
 * From a signal handler or a callback: start nothing more, close every running child's stdin
 * pipe (a remote agent sees its pipe close through ssh) and send SIGTERM to its process group.
 */
void runner_stop(void);

/* Has runner_stop() been called? */
bool runner_stopped(void);

#endif
