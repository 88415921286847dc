#include "driver/agentcall.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "log.h"
#include "runner.h"

void agentcall_init(struct agentcall *c, const char *host, const char *verb)
{
	char *agent = agentproto_agent_path();

	memset(c, 0, sizeof(*c));
	c->host = host;
	strvec_push(&c->argv, agent);
	free(agent);
	strvec_push(&c->argv, verb);
	c->status = -1;
}

void agentcall_free(struct agentcall *c)
{
	strvec_clear(&c->argv);
}

static const char *call_host(void *ctx, size_t i)
{
	(void) i;
	return ((struct agentcall *) ctx)->host;
}

static int call_start(void *ctx, size_t i, struct runner_spawn *sp)
{
	struct agentcall *c = ctx;
	char *cmd = exec_describe(strvec_argv(&c->argv));

	(void) i;
	log_debug("running on %s: %s", c->host, cmd);
	free(cmd);
	sp->argv = strvec_argv(&c->argv);
	return 1;
}

static void call_line(void *ctx, size_t i, bool is_stderr, const char *line)
{
	struct agentcall *c = ctx;
	struct agent_line al;

	(void) i;
	if (is_stderr || agentproto_parse(line, &al) != 0) {
		log_debug("%s: %s", c->host, line);
		return;
	}
	if (al.kind == AGENT_ERROR) {
		snprintf(c->step, sizeof(c->step), "%s", al.name);
		snprintf(c->error, sizeof(c->error), "%s", al.msg);
		return;
	}
	if (c->on_line)
		c->on_line(c->ctx, &al);
}

static bool call_finished(void *ctx, size_t i, int status, const char *why)
{
	struct agentcall *c = ctx;

	(void) i;
	c->status = status;
	if (c->error[0] == '\0' && status != 0)
		snprintf(c->error, sizeof(c->error), "gpsegrecovery on %s %s", c->host,
			 why ? why : "ended without reporting an error");
	return false;
}

int agentcall_run(struct agentcall *c)
{
	static const struct runner_ops ops = {
		.host = call_host,
		.start = call_start,
		.line = call_line,
		.finished = call_finished,
	};
	/* A pipe on its stdin (--watch-stdin): our end closing stops it, through ssh too. */
	struct runner runner = { .ntasks = 1, .max_parallel = 1, .max_per_host = 1,
				 .watch_pipe = true };

	c->step[0] = c->error[0] = '\0';
	c->status = -1;
	runner_run(&runner, &ops, c);
	return c->status == 0 ? 0 : -1;
}
