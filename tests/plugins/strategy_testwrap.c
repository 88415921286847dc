/*
 * strategy_testwrap: a test plugin proving that an external strategy is loaded by name from a
 * shared object and driven end to end. It leaves a marker file ($SEGRECOVER_TESTWRAP_MARKER)
 * saying which steps ran, and delegates the copy to the built-in full strategy through the host.
 * With $SEGRECOVER_TESTWRAP_BREAK_START set, it leaves a setting in the copy that keeps the
 * server from starting, to test how a failed start is reported.
 */
#include <stdio.h>
#include <stdlib.h>

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

static int testwrap_run(struct recovery *r, struct errbuf *err)
{
	int rc;

	mark("run", r->dbid);
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
