/* Unit tests of the parallel runner: limits, lines, ends and restarts, and stopping through the stdin pipe. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "runner.h"
#include "strbuf.h"
#include "unit.h"

#define MAX_TASKS 8

struct fixture {
	const char *scripts[MAX_TASKS]; /* sh -c SCRIPT per task */
	const char *argv[MAX_TASKS][4];
	const char *hosts[MAX_TASKS];
	struct strbuf out[MAX_TASKS], err[MAX_TASKS];
	int status[MAX_TASKS];
	char why[MAX_TASKS][256];
	int starts[MAX_TASKS];
	int restarts_left[MAX_TASKS];
	int running, max_running;
	int idle_calls;
	double stop_at;      /* > 0: runner_stop() once this time has come */
};

static const char *fx_host(void *ctx, size_t i)
{
	return ((struct fixture *) ctx)->hosts[i];
}

static int fx_start(void *ctx, size_t i, struct runner_spawn *sp)
{
	struct fixture *f = ctx;

	f->argv[i][0] = "/bin/sh";
	f->argv[i][1] = "-c";
	f->argv[i][2] = f->scripts[i];
	f->argv[i][3] = NULL;
	sp->argv = f->argv[i];
	f->starts[i]++;
	f->running++;
	if (f->running > f->max_running)
		f->max_running = f->running;
	return 1;
}

static void fx_line(void *ctx, size_t i, bool is_stderr, const char *line)
{
	struct fixture *f = ctx;
	struct strbuf *sb = is_stderr ? &f->err[i] : &f->out[i];

	strbuf_addstr(sb, line);
	strbuf_addch(sb, '|');
}

static bool fx_finished(void *ctx, size_t i, int status, const char *why)
{
	struct fixture *f = ctx;

	f->running--;
	f->status[i] = status;
	snprintf(f->why[i], sizeof(f->why[i]), "%s", why ? why : "");
	if (f->restarts_left[i] > 0) {
		f->restarts_left[i]--;
		return true;
	}
	return false;
}

static bool fx_idle(void *ctx)
{
	struct fixture *f = ctx;

	f->idle_calls++;
	if (f->stop_at > 0 && now_seconds() >= f->stop_at) {
		runner_stop();
		f->stop_at = 0;
	}
	return false;
}

static const struct runner_ops fx_ops = {
	.host = fx_host,
	.start = fx_start,
	.line = fx_line,
	.finished = fx_finished,
	.idle = fx_idle,
};

static void fx_init(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	for (int i = 0; i < MAX_TASKS; i++) {
		strbuf_init(&f->out[i], 0);
		strbuf_init(&f->err[i], 0);
		f->status[i] = -2;
	}
}

static void fx_free(struct fixture *f)
{
	for (int i = 0; i < MAX_TASKS; i++) {
		strbuf_release(&f->out[i]);
		strbuf_release(&f->err[i]);
	}
}

START_TEST(lines_statuses_and_restarts)
{
	struct fixture f;
	struct runner r = { .ntasks = 4, .max_parallel = 4, .max_per_host = 4 };

	fx_init(&f);
	f.scripts[0] = "echo one; echo two >&2; printf 'no newline'";
	f.scripts[1] = "exit 3";
	f.scripts[2] = "kill -TERM $$";
	f.scripts[3] = "echo again";
	f.restarts_left[3] = 2;
	runner_run(&r, &fx_ops, &f);
	ck_assert_str_eq(f.out[0].buf, "one|no newline|");
	ck_assert_str_eq(f.err[0].buf, "two|");
	ck_assert_int_eq(f.status[0], 0);
	ck_assert_int_eq(f.status[1], 3);
	ck_assert_int_eq(f.status[2], 128 + SIGTERM);
	ck_assert_int_eq(f.starts[3], 3);
	ck_assert_str_eq(f.out[3].buf, "again|again|again|");
	ck_assert_int_gt(f.idle_calls, 0);
	fx_free(&f);
}
END_TEST

static int missing_start(void *ctx, size_t i, struct runner_spawn *sp)
{
	static const char *const argv[] = { "/nonexistent/segrecover-test-program", NULL };

	(void) ctx;
	(void) i;
	sp->argv = argv;
	return 1;
}

START_TEST(a_program_that_cannot_run_is_reported)
{
	static const struct runner_ops ops = {
		.host = fx_host, .start = missing_start, .line = fx_line, .finished = fx_finished,
	};
	struct fixture f;
	struct runner r = { .ntasks = 1, .max_parallel = 1, .max_per_host = 1 };

	fx_init(&f);
	f.running = 1; /* missing_start does not count it */
	runner_run(&r, &ops, &f);
	ck_assert_int_eq(f.status[0], -1);
	ck_assert_msg(strstr(f.why[0], "cannot run /nonexistent/segrecover-test-program") != NULL,
		      "%s", f.why[0]);
	fx_free(&f);
}
END_TEST

/* Four tasks of 0.3 s with at most two at once, and one per host where two share a host. */
START_TEST(limits_are_kept)
{
	struct fixture f;
	struct runner r = { .ntasks = 4, .max_parallel = 2, .max_per_host = 8 };
	double t0;

	fx_init(&f);
	for (int i = 0; i < 4; i++)
		f.scripts[i] = "sleep 0.3";
	t0 = now_seconds();
	runner_run(&r, &fx_ops, &f);
	ck_assert_int_eq(f.max_running, 2);
	ck_assert(now_seconds() - t0 >= 0.55);
	fx_free(&f);

	fx_init(&f);
	r = (struct runner){ .ntasks = 3, .max_parallel = 8, .max_per_host = 1 };
	for (int i = 0; i < 3; i++)
		f.scripts[i] = "sleep 0.2";
	f.hosts[0] = f.hosts[1] = "127.0.0.1";
	f.hosts[2] = NULL;
	runner_run(&r, &fx_ops, &f);
	/* 127.0.0.1 twice one after the other; this host's task beside them */
	ck_assert_int_eq(f.max_running, 2);
	fx_free(&f);
}
END_TEST

/* A child that only waits for its stdin to close ends when the runner is stopped. */
START_TEST(stopping_closes_the_pipe_and_signals)
{
	struct fixture f;
	struct runner r = { .ntasks = 2, .max_parallel = 2, .max_per_host = 2, .watch_pipe = true };
	double t0 = now_seconds();

	fx_init(&f);
	/* The first ignores SIGTERM: only its pipe closing can end it. */
	f.scripts[0] = "trap '' TERM; cat >/dev/null; echo pipe-closed";
	f.scripts[1] = "sleep 30";
	f.stop_at = t0 + 0.3;
	runner_run(&r, &fx_ops, &f);
	ck_assert(now_seconds() - t0 < 10);
	ck_assert_str_eq(f.out[0].buf, "pipe-closed|");
	ck_assert_int_eq(f.status[0], 0);
	ck_assert_int_eq(f.status[1], 128 + SIGTERM);
	ck_assert(runner_stopped());
	fx_free(&f);
}
END_TEST

static Suite *runner_suite(void)
{
	Suite *s = suite_create("runner");
	TCase *tc = tcase_create("runner");

	tcase_add_test(tc, lines_statuses_and_restarts);
	tcase_add_test(tc, a_program_that_cannot_run_is_reported);
	tcase_add_test(tc, limits_are_kept);
	tcase_add_test(tc, stopping_closes_the_pipe_and_signals);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(runner_suite)
