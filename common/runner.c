#include "runner.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "strbuf.h"
#include "xalloc.h"

enum task_state { TASK_WAITING, TASK_RUNNING, TASK_OVER };

struct runner_task {
	enum task_state state;
	const char *host;
	struct child child;
	struct strbuf out, err; /* a line not ended yet */
	bool signalled;
};

static volatile sig_atomic_t stop_requested;

void runner_stop(void)
{
	stop_requested = 1;
}

bool runner_stopped(void)
{
	return stop_requested != 0;
}

static bool same_host(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool may_start(const struct runner *r, const char *host)
{
	int running = 0, on_host = 0;

	for (size_t j = 0; j < r->ntasks; j++) {
		if (r->tasks[j].state != TASK_RUNNING)
			continue;
		running++;
		if (same_host(r->tasks[j].host, host))
			on_host++;
	}
	return running < r->max_parallel && on_host < r->max_per_host;
}

static void start_waiting(struct runner *r, const struct runner_ops *ops, void *ctx)
{
	for (size_t i = 0; i < r->ntasks && !stop_requested; i++) {
		struct runner_task *t = &r->tasks[i];
		struct runner_spawn sp = { 0 };
		struct exec_options eo = { .capture_stdout = true, .capture_stderr = true,
					   .new_session = true, .pipe_stdin = r->watch_pipe };
		struct errbuf err;
		int rc;

		if (t->state != TASK_WAITING)
			continue;
		t->host = ops->host(ctx, i);
		if (!may_start(r, t->host))
			continue;
		rc = ops->start(ctx, i, &sp);
		if (rc == 0)
			continue;
		if (rc < 0) {
			t->state = TASK_OVER;
			continue;
		}
		eo.host = t->host;
		strbuf_reset(&t->out);
		strbuf_reset(&t->err);
		t->signalled = false;
		if (exec_spawn(&eo, sp.argv, &t->child, &err) != 0) {
			t->state = ops->finished(ctx, i, -1, err.msg) ? TASK_WAITING : TASK_OVER;
			continue;
		}
		t->state = TASK_RUNNING;
	}
}

/* Hand every complete line of BUF to the caller; keep the rest. */
static void deliver_lines(const struct runner_ops *ops, void *ctx, size_t i, bool is_stderr,
			  struct strbuf *buf, bool flush)
{
	size_t start = 0;

	if (flush && buf->len > 0 && buf->buf[buf->len - 1] != '\n')
		strbuf_addch(buf, '\n');
	for (size_t k = 0; k < buf->len; k++) {
		if (buf->buf[k] != '\n')
			continue;
		buf->buf[k] = '\0';
		ops->line(ctx, i, is_stderr, buf->buf + start);
		start = k + 1;
	}
	if (start > 0) {
		memmove(buf->buf, buf->buf + start, buf->len - start);
		buf->len -= start;
		buf->buf[buf->len] = '\0';
	}
}

static void read_pipe(const struct runner_ops *ops, void *ctx, size_t i, struct runner_task *t,
		      bool is_stderr)
{
	int *fd = is_stderr ? &t->child.err_fd : &t->child.out_fd;
	struct strbuf *buf = is_stderr ? &t->err : &t->out;
	char chunk[16384];
	ssize_t n = read(*fd, chunk, sizeof(chunk));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		deliver_lines(ops, ctx, i, is_stderr, buf, true);
		close(*fd);
		*fd = -1;
		return;
	}
	strbuf_add(buf, chunk, (size_t) n);
	deliver_lines(ops, ctx, i, is_stderr, buf, false);
}

/* Stop every running child: its stdin pipe closed (through ssh too), then SIGTERM to its group. */
static void stop_children(struct runner *r)
{
	for (size_t i = 0; i < r->ntasks; i++) {
		struct runner_task *t = &r->tasks[i];

		if (t->state != TASK_RUNNING || t->signalled)
			continue;
		if (t->child.in_fd >= 0) {
			close(t->child.in_fd);
			t->child.in_fd = -1;
		}
		if (t->child.pid > 0)
			kill(-t->child.pid, SIGTERM);
		t->signalled = true;
	}
}

static void reap(struct runner *r, const struct runner_ops *ops, void *ctx)
{
	for (size_t i = 0; i < r->ntasks; i++) {
		struct runner_task *t = &r->tasks[i];
		struct errbuf err;
		int status = -1;

		if (t->state != TASK_RUNNING || t->child.out_fd >= 0 || t->child.err_fd >= 0)
			continue;
		if (exec_wait(&t->child, &status, &err) != 0)
			status = -1;
		t->state = TASK_OVER;
		if (ops->finished(ctx, i, status, status < 0 ? err.msg : NULL) && !stop_requested)
			t->state = TASK_WAITING;
	}
}

void runner_run(struct runner *r, const struct runner_ops *ops, void *ctx)
{
	struct pollfd *fds = xcalloc(2 * r->ntasks + 1, sizeof(*fds));
	size_t *owner = xcalloc(2 * r->ntasks + 1, sizeof(*owner));
	bool stopped = false;

	r->tasks = xcalloc(r->ntasks ? r->ntasks : 1, sizeof(*r->tasks));
	for (size_t i = 0; i < r->ntasks; i++) {
		r->tasks[i].child.pid = -1;
		r->tasks[i].child.in_fd = r->tasks[i].child.out_fd = r->tasks[i].child.err_fd = -1;
		strbuf_init(&r->tasks[i].out, 0);
		strbuf_init(&r->tasks[i].err, 0);
	}
	if (r->max_parallel < 1)
		r->max_parallel = 1;
	if (r->max_per_host < 1)
		r->max_per_host = 1;
	for (;;) {
		size_t nfds = 0, live = 0;
		bool caller_busy;

		if (stop_requested && !stopped) {
			stop_children(r);
			stopped = true;
		}
		start_waiting(r, ops, ctx);
		for (size_t i = 0; i < r->ntasks; i++) {
			struct runner_task *t = &r->tasks[i];

			if (t->state == TASK_WAITING && !stop_requested)
				live++;
			if (t->state != TASK_RUNNING)
				continue;
			live++;
			if (t->child.out_fd >= 0) {
				fds[nfds] = (struct pollfd){ .fd = t->child.out_fd, .events = POLLIN };
				owner[nfds++] = 2 * i;
			}
			if (t->child.err_fd >= 0) {
				fds[nfds] = (struct pollfd){ .fd = t->child.err_fd, .events = POLLIN };
				owner[nfds++] = 2 * i + 1;
			}
		}
		caller_busy = ops->idle ? ops->idle(ctx) : false;
		if (live == 0 && !caller_busy)
			break;
		if (nfds > 0) {
			if (poll(fds, nfds, 200) < 0 && errno != EINTR)
				break;
		} else {
			usleep(200 * 1000);
		}
		for (size_t k = 0; k < nfds; k++)
			if (fds[k].revents & (POLLIN | POLLHUP | POLLERR))
				read_pipe(ops, ctx, owner[k] / 2, &r->tasks[owner[k] / 2], owner[k] % 2);
		reap(r, ops, ctx);
	}
	for (size_t i = 0; i < r->ntasks; i++) {
		strbuf_release(&r->tasks[i].out);
		strbuf_release(&r->tasks[i].err);
	}
	free(r->tasks);
	r->tasks = NULL;
	free(fds);
	free(owner);
}
