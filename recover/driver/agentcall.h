/*
 * agentcall: run one gpsegrecovery verb on one host and wait for it, handing each protocol line
 * to the caller as it comes (gpinitstandby and gpactivatestandby act on one instance at a time).
 */
#ifndef SEGRECOVER_DRIVER_AGENTCALL_H
#define SEGRECOVER_DRIVER_AGENTCALL_H

#include <stdbool.h>

#include "proto/agentproto.h"
#include "strvec.h"

struct agentcall {
	const char *host;  /* where it runs: this host directly, another through ssh */
	struct strvec argv; /* the agent's verb and options (the agent's path is put first) */
	/* Each protocol line but @error, as it comes (may be NULL). */
	void (*on_line)(void *ctx, const struct agent_line *line);
	void *ctx;
	/* what happened */
	int status;          /* exit code, 128 + signal, or -1 when it could not run */
	char step[64];       /* from its @error line, else "" */
	char error[1600];    /* its @error message, or why it could not run or ended so */
};

/* A call of VERB on HOST; add the options with strvec_push(&c->argv, ...). */
void agentcall_init(struct agentcall *c, const char *host, const char *verb);
void agentcall_free(struct agentcall *c);

/* Run it to its end (a runner_stop() from a signal handler stops it). 0 when it exited 0. */
int agentcall_run(struct agentcall *c);

#endif
