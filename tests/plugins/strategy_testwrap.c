/*
 * strategy_testwrap: a test plugin proving that an external strategy is loaded by name from a
 * shared object and driven end to end. It leaves a marker file ($SEGRECOVER_TESTWRAP_MARKER)
 * saying which steps ran, asks a helper next to the source data (the host's start_helper) what
 * the source's PG_VERSION says, and delegates the copy to the built-in full strategy.
 * With $SEGRECOVER_TESTWRAP_BREAK_START set, it leaves a setting in the copy that keeps the
 * server from starting, to test how a failed start is reported.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "strategy.h"

static const struct strategy *full;

static void mark(const char *what, int dbid)
{
	const char *path = getenv("SEGRECOVER_TESTWRAP_MARKER");
	FILE *f;

	if (path == NULL || (f = fopen(path, "a")) == NULL)
		return;
	fprintf(f, "%s dbid=%d\n", what, dbid);
	fclose(f);
}

static int testwrap_check(struct recovery *r, struct errbuf *err)
{
	mark("check", r->dbid);
	return full->check(r, err);
}

/* The helper, on the source's host: the first line of the file ARGS[0] of the source directory. */
static int testwrap_helper(const char *source_datadir, const char *const *args, int in_fd,
			   int out_fd, struct errbuf *err)
{
	char path[4096], line[256] = "", answer[300];
	FILE *f;
	int n;

	(void) in_fd;
	if (args == NULL || args[0] == NULL) {
		snprintf(err->msg, sizeof(err->msg), "testwrap helper: no file named");
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", source_datadir, args[0]);
	f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err->msg, sizeof(err->msg), "testwrap helper: cannot open %.1900s", path);
		return -1;
	}
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	fclose(f);
	line[strcspn(line, "\n")] = '\0';
	n = snprintf(answer, sizeof(answer), "%s=%s\n", args[0], line);
	return write(out_fd, answer, (size_t) n) == n ? 0 : -1;
}

/* Ask the helper next to the source, and note what it said. */
static int ask_helper(struct recovery *r, struct errbuf *err)
{
	static const char *const args[] = { "PG_VERSION", NULL };
	struct strategy_helper h;
	char reply[300] = "", what[320];
	ssize_t n;
	int status;

	if (r->host->start_helper(r, args, &h, err) != 0)
		return -1;
	n = read(h.from_fd, reply, sizeof(reply) - 1);
	reply[n > 0 ? n : 0] = '\0';
	reply[strcspn(reply, "\n")] = '\0';
	status = r->host->finish_helper(&h, err);
	if (status != 0) {
		snprintf(err->msg, sizeof(err->msg), "testwrap: the helper exited with %d", status);
		return -1;
	}
	snprintf(what, sizeof(what), "helper %s", reply);
	mark(what, r->dbid);
	return 0;
}

static int testwrap_run(struct recovery *r, struct errbuf *err)
{
	int rc;

	mark("run", r->dbid);
	if (ask_helper(r, err) != 0)
		return -1;
	r->host->phase(r, "testwrap");
	rc = full->run(r, err);
	if (rc == 0)
		mark("copied", r->dbid);
	if (rc == 0 && getenv("SEGRECOVER_TESTWRAP_BREAK_START") != NULL) {
		char path[4096];
		FILE *f;

		snprintf(path, sizeof(path), "%s/postgresql.conf", r->target_datadir);
		if ((f = fopen(path, "a")) != NULL) {
			fputs("shared_buffers = 'not a size'\n", f);
			fclose(f);
		}
	}
	return rc;
}

static struct strategy testwrap = {
	.abi_version = STRATEGY_ABI_VERSION,
	.name = "testwrap",
	.label = "Testwrap",
	.check = testwrap_check,
	.run = testwrap_run,
	.helper = testwrap_helper,
};

const struct strategy *segrecover_strategy(const struct strategy_host *host, struct errbuf *err);

const struct strategy *segrecover_strategy(const struct strategy_host *host, struct errbuf *err)
{
	full = host->find("full", err);
	if (full == NULL)
		return NULL;
	testwrap.caps = full->caps;
	return &testwrap;
}
