/*
 * fakehelper.h: the host's start_helper and finish_helper for unit tests of a strategy's
 * helper: the helper's body runs in a child process over real pipes, as `gpsegrecovery helper`
 * would run it. A test sets fake_helper_body first.
 */
#ifndef SEGRECOVER_TEST_FAKEHELPER_H
#define SEGRECOVER_TEST_FAKEHELPER_H

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "strategy.h"
#include "unit.h"

/* What the child runs: the helper's exit status comes from its return (0 fine). */
static int (*fake_helper_body)(const char *const *args, int in_fd, int out_fd);

static int fake_start_helper(struct recovery *r, const char *const *args, struct strategy_helper *h,
			     struct errbuf *err)
{
	int to[2], from[2];
	sigset_t term, old;
	pid_t pid;

	(void) r;
	(void) err;
	ck_assert_int_eq(pipe(to), 0);
	ck_assert_int_eq(pipe(from), 0);
	/* check's own SIGTERM handler would take the whole process group down with the helper:
	 * the child drops it before a SIGTERM can reach it. */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, &old);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		signal(SIGTERM, SIG_DFL);
		sigprocmask(SIG_SETMASK, &old, NULL);
		close(to[1]);
		close(from[0]);
		_exit(fake_helper_body(args, to[0], from[1]) == 0 ? 0 : 1);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(to[0]);
	close(from[1]);
	h->pid = pid;
	h->to_fd = to[1];
	h->from_fd = from[0];
	return 0;
}

static int fake_finish_helper(struct strategy_helper *h, struct errbuf *err)
{
	int status;

	(void) err;
	if (h->to_fd >= 0)
		close(h->to_fd);
	if (h->from_fd >= 0)
		close(h->from_fd);
	ck_assert_int_eq(waitpid(h->pid, &status, 0), h->pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

static const struct strategy_host fake_helper_host = {
	.start_helper = fake_start_helper,
	.finish_helper = fake_finish_helper,
};

#endif
