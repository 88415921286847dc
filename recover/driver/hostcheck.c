#include "driver/hostcheck.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "log.h"
#include "runner.h"
#include "xalloc.h"

struct host_probe {
	char **hosts; /* copies: the rows dropped below free their own names */
	bool *answered;
	size_t n;
};

static const char *probe_host(void *ctx, size_t i)
{
	return ((struct host_probe *) ctx)->hosts[i];
}

static int probe_start(void *ctx, size_t i, struct runner_spawn *sp)
{
	static const char *const argv[] = { "true", NULL };

	(void) ctx;
	(void) i;
	sp->argv = argv;
	return 1;
}

static void probe_line(void *ctx, size_t i, bool is_stderr, const char *line)
{
	log_debug("host %s: %s%s", ((struct host_probe *) ctx)->hosts[i], is_stderr ? "" : "(out) ",
		  line);
}

static bool probe_finished(void *ctx, size_t i, int status, const char *why)
{
	struct host_probe *hp = ctx;

	(void) why;
	hp->answered[i] = status == 0;
	return false;
}

static bool answered(const struct host_probe *hp, const char *host)
{
	for (size_t i = 0; i < hp->n; i++)
		if (strcmp(hp->hosts[i], host) == 0)
			return hp->answered[i];
	return true;
}

/* Does one of the first N rows (those kept so far) move an instance to HOST? */
static bool relocated_to(const struct plan *plan, size_t n, const char *host)
{
	for (size_t j = 0; j < n; j++)
		if (plan->rows[j].relocated && strcmp(plan->rows[j].target.hostname, host) == 0)
			return true;
	return false;
}

int hostcheck_plan(struct plan *plan, char *unreachable, size_t len, size_t *skipped)
{
	static const struct runner_ops ops = {
		.host = probe_host,
		.start = probe_start,
		.line = probe_line,
		.finished = probe_finished,
	};
	struct host_probe hp = { .hosts = xcalloc(plan->nrows + 1, sizeof(char *)),
				 .answered = xcalloc(plan->nrows + 1, sizeof(bool)) };
	struct runner runner = { .max_parallel = 16, .max_per_host = 1 };
	size_t kept = 0;
	int rc = 0;

	unreachable[0] = '\0';
	*skipped = 0;
	for (size_t i = 0; i < plan->nrows; i++) {
		const char *h = plan->rows[i].target.hostname;
		bool seen = host_is_local(h);

		for (size_t j = 0; j < hp.n && !seen; j++)
			seen = strcmp(hp.hosts[j], h) == 0;
		if (!seen)
			hp.hosts[hp.n++] = xstrdup(h);
	}
	runner.ntasks = hp.n;
	if (hp.n > 0)
		runner_run(&runner, &ops, &hp);
	for (size_t i = 0; i < plan->nrows; i++) {
		struct plan_row *row = &plan->rows[i];

		if (answered(&hp, row->target.hostname)) {
			plan->rows[kept++] = *row;
			continue;
		}
		if (row->relocated) {
			/* Listed once per host. */
			if (!relocated_to(plan, kept, row->target.hostname)) {
				size_t used = strlen(unreachable);

				snprintf(unreachable + used, len - used, "%s%s", used ? ", " : "",
					 row->target.hostname);
			}
			rc = -1;
			plan->rows[kept++] = *row;
			continue;
		}
		log_warning("Not recovering segment " SEG_FMT " because %s is unreachable",
			    SEG_ARGS(&row->target), row->target.hostname);
		segment_free(&row->target);
		(*skipped)++;
	}
	plan->nrows = kept;
	for (size_t i = 0; i < hp.n; i++)
		free(hp.hosts[i]);
	free(hp.hosts);
	free(hp.answered);
	return rc;
}
