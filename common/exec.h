/*
 * exec: run a command given as an argv, on this host directly or on another host through ssh.
 * shell_quote_argv() is the one place where an argv becomes a shell string (for ssh).
 */
#ifndef SEGRECOVER_EXEC_H
#define SEGRECOVER_EXEC_H

#include <stdbool.h>
#include <sys/types.h>

#include "errbuf.h"
#include "strbuf.h"

/* Quote every argument for a POSIX shell ('...' with embedded ' as '\'') and join with spaces. */
void shell_quote_argv(struct strbuf *out, const char *const *argv);

/* True when HOST names this machine (its host name, localhost, a loopback or local address). */
bool host_is_local(const char *host);

/* A running child with its stdout and stderr readable through pipes (-1 when not captured). */
struct child {
	pid_t pid;
	int in_fd;  /* the write end of its stdin pipe (pipe_stdin), else -1 */
	int out_fd;
	int err_fd;
};

struct exec_options {
	const char *host;       /* NULL or local: run directly; else ssh HOST '<quoted argv>' */
	bool capture_stdout;
	bool capture_stderr;
	bool new_session;       /* setsid(): the child survives our terminal's signals */
	bool pipe_stdin;        /* stdin is a pipe from us (else /dev/null): closing it tells the child */
	const char *cwd;        /* NULL: "/" (PostgreSQL tools fail in a directory they cannot read) */
};

/* Build the argv that would be executed (ssh wrapping included); the caller frees each string and the array. */
char **exec_build_argv(const struct exec_options *opts, const char *const *argv);
void exec_free_argv(char **argv);

int exec_spawn(const struct exec_options *opts, const char *const *argv, struct child *child,
	       struct errbuf *err);

/* Wait for the child; *status is the exit code, or 128+signal. Closes its pipes (stdin's too). */
int exec_wait(struct child *child, int *status, struct errbuf *err);

/* Run to completion, collecting stdout and stderr (either may be NULL to discard). */
int exec_run(const struct exec_options *opts, const char *const *argv, struct strbuf *out,
	     struct strbuf *errout, int *status, struct errbuf *err);

/* Describe an argv for logs: the quoted form. Returns a malloc'd string. */
char *exec_describe(const char *const *argv);

#endif
