#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "xalloc.h"

void shell_quote_argv(struct strbuf *out, const char *const *argv)
{
	for (size_t i = 0; argv[i]; i++) {
		const char *p = argv[i];
		bool plain = *p != '\0';

		if (i > 0)
			strbuf_addch(out, ' ');
		/* Words made only of these characters need no quoting; everything else is quoted. */
		for (const char *q = p; *q; q++)
			if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
				    "_-./=:,+@%",
				    *q)) {
				plain = false;
				break;
			}
		if (plain) {
			strbuf_addstr(out, p);
			continue;
		}
		strbuf_addch(out, '\'');
		for (; *p; p++) {
			if (*p == '\'')
				strbuf_addstr(out, "'\\''");
			else
				strbuf_addch(out, *p);
		}
		strbuf_addch(out, '\'');
	}
}

char *exec_describe(const char *const *argv)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_init(&sb, 128);
	shell_quote_argv(&sb, argv);
	return strbuf_detach(&sb, NULL);
}

static bool address_is_local(const struct sockaddr *sa)
{
	struct ifaddrs *ifs, *ifa;
	bool found = false;

	if (sa->sa_family == AF_INET &&
	    (ntohl(((const struct sockaddr_in *) sa)->sin_addr.s_addr) >> 24) == 127)
		return true;
	if (sa->sa_family == AF_INET6 &&
	    IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *) sa)->sin6_addr))
		return true;
	if (getifaddrs(&ifs) != 0)
		return false;
	for (ifa = ifs; ifa && !found; ifa = ifa->ifa_next) {
		if (ifa->ifa_addr == NULL || ifa->ifa_addr->sa_family != sa->sa_family)
			continue;
		if (sa->sa_family == AF_INET)
			found = memcmp(&((const struct sockaddr_in *) sa)->sin_addr,
				       &((const struct sockaddr_in *) ifa->ifa_addr)->sin_addr,
				       sizeof(struct in_addr)) == 0;
		else if (sa->sa_family == AF_INET6)
			found = memcmp(&((const struct sockaddr_in6 *) sa)->sin6_addr,
				       &((const struct sockaddr_in6 *) ifa->ifa_addr)->sin6_addr,
				       sizeof(struct in6_addr)) == 0;
	}
	freeifaddrs(ifs);
	return found;
}

bool host_is_local(const char *host)
{
	char self[256];
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	bool local = false;

	if (host == NULL || host[0] == '\0' || host[0] == '/' || strcmp(host, "localhost") == 0)
		return true;
	if (gethostname(self, sizeof(self)) == 0) {
		self[sizeof(self) - 1] = '\0';
		if (strcmp(host, self) == 0)
			return true;
	}
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return false;
	for (ai = res; ai && !local; ai = ai->ai_next)
		local = address_is_local(ai->ai_addr);
	freeaddrinfo(res);
	return local;
}

char **exec_build_argv(const struct exec_options *opts, const char *const *argv)
{
	size_t n = 0, i = 0;
	char **out;

	while (argv[n])
		n++;
	if (opts->host == NULL || host_is_local(opts->host)) {
		out = xcalloc(n + 1, sizeof(char *));
		for (i = 0; i < n; i++)
			out[i] = xstrdup(argv[i]);
		return out;
	} else {
		struct strbuf remote = STRBUF_INIT;

		/* ssh hands its arguments to the remote login shell: give it one quoted string. */
		strbuf_init(&remote, 256);
		shell_quote_argv(&remote, argv);
		out = xcalloc(10, sizeof(char *));
		out[i++] = xstrdup("ssh");
		out[i++] = xstrdup("-o");
		out[i++] = xstrdup("BatchMode=yes");
		out[i++] = xstrdup("-o");
		out[i++] = xstrdup("ConnectTimeout=10");
		out[i++] = xstrdup("-o");
		out[i++] = xstrdup("StrictHostKeyChecking=accept-new");
		out[i++] = xstrdup(opts->host);
		out[i++] = strbuf_detach(&remote, NULL);
		return out;
	}
}

void exec_free_argv(char **argv)
{
	if (argv == NULL)
		return;
	for (size_t i = 0; argv[i]; i++)
		free(argv[i]);
	free(argv);
}

int exec_spawn(const struct exec_options *opts, const char *const *argv, struct child *child,
	       struct errbuf *err)
{
	int inp[2] = { -1, -1 }, outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, execp[2] = { -1, -1 };
	char **full = exec_build_argv(opts, argv);
	pid_t pid;
	int child_errno = 0;
	ssize_t n;

	child->pid = -1;
	child->in_fd = child->out_fd = child->err_fd = -1;
	if ((opts->pipe_stdin && pipe2(inp, O_CLOEXEC) != 0) ||
	    (opts->capture_stdout && pipe2(outp, O_CLOEXEC) != 0) ||
	    (opts->capture_stderr && pipe2(errp, O_CLOEXEC) != 0) || pipe2(execp, O_CLOEXEC) != 0) {
		errbuf_set_errno(err, errno, "cannot create pipes to run %s", full[0]);
		goto fail;
	}
	pid = fork();
	if (pid < 0) {
		errbuf_set_errno(err, errno, "cannot fork to run %s", full[0]);
		goto fail;
	}
	if (pid == 0) {
		int devnull = opts->pipe_stdin ? -1 : open("/dev/null", O_RDONLY);

		if (opts->pipe_stdin)
			dup2(inp[0], STDIN_FILENO);
		else if (devnull >= 0)
			dup2(devnull, STDIN_FILENO);
		if (opts->capture_stdout)
			dup2(outp[1], STDOUT_FILENO);
		if (opts->capture_stderr)
			dup2(errp[1], STDERR_FILENO);
		if (opts->new_session)
			setsid();
		signal(SIGPIPE, SIG_DFL);
		if (chdir(opts->cwd ? opts->cwd : "/") != 0)
			_exit(126);
		execvp(full[0], full);
		child_errno = errno;
		if (write(execp[1], &child_errno, sizeof(child_errno)) < 0)
			_exit(127);
		_exit(127);
	}
	close(execp[1]);
	execp[1] = -1;
	/* The exec pipe closes on a successful exec; otherwise it carries the child's errno. */
	do
		n = read(execp[0], &child_errno, sizeof(child_errno));
	while (n < 0 && errno == EINTR);
	close(execp[0]);
	execp[0] = -1;
	if (n == sizeof(child_errno)) {
		waitpid(pid, NULL, 0);
		errbuf_set_errno(err, child_errno, "cannot run %s", full[0]);
		goto fail;
	}
	if (opts->pipe_stdin) {
		close(inp[0]);
		child->in_fd = inp[1];
	}
	if (opts->capture_stdout) {
		close(outp[1]);
		child->out_fd = outp[0];
	}
	if (opts->capture_stderr) {
		close(errp[1]);
		child->err_fd = errp[0];
	}
	child->pid = pid;
	exec_free_argv(full);
	return 0;

fail:
	for (int i = 0; i < 2; i++) {
		if (inp[i] >= 0)
			close(inp[i]);
		if (outp[i] >= 0)
			close(outp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
		if (execp[i] >= 0)
			close(execp[i]);
	}
	exec_free_argv(full);
	return -1;
}

int exec_wait(struct child *child, int *status, struct errbuf *err)
{
	int st;
	pid_t r;

	if (child->in_fd >= 0)
		close(child->in_fd);
	if (child->out_fd >= 0)
		close(child->out_fd);
	if (child->err_fd >= 0)
		close(child->err_fd);
	child->in_fd = child->out_fd = child->err_fd = -1;
	do
		r = waitpid(child->pid, &st, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return errbuf_set_errno(err, errno, "cannot wait for process %d", (int) child->pid);
	child->pid = -1;
	if (WIFEXITED(st))
		*status = WEXITSTATUS(st);
	else if (WIFSIGNALED(st))
		*status = 128 + WTERMSIG(st);
	else
		*status = 255;
	return 0;
}

int exec_run(const struct exec_options *opts, const char *const *argv, struct strbuf *out,
	     struct strbuf *errout, int *status, struct errbuf *err)
{
	struct exec_options o = *opts;
	struct child c;
	struct pollfd fds[2];
	char buf[65536];

	o.capture_stdout = true;
	o.capture_stderr = true;
	if (exec_spawn(&o, argv, &c, err) != 0)
		return -1;
	fds[0].fd = c.out_fd;
	fds[1].fd = c.err_fd;
	fds[0].events = fds[1].events = POLLIN;
	while (fds[0].fd >= 0 || fds[1].fd >= 0) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			ssize_t n;

			if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(fds[i].fd, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				fds[i].fd = -1;
				continue;
			}
			if (i == 0 && out)
				strbuf_add(out, buf, (size_t) n);
			if (i == 1 && errout)
				strbuf_add(errout, buf, (size_t) n);
		}
	}
	return exec_wait(&c, status, err);
}
