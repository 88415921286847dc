/*
 * agentproto: how gprecoverseg talks to gpsegrecovery: where the agent is, and the machine-readable
 * lines gpsegrecovery prints on stdout and gprecoverseg reads:
 *   @phase dbid=3 name=copy
 *   @progress dbid=3 done=1048576 total=2097152
 *   @done dbid=3 bytes=1048576 seconds=4.210
 *   @error dbid=3 step=copy remedy=retry|rebuild msg=<the rest of the line>
 *   @note dbid=3 level=info msg=<the rest of the line>   (a strategy's own report, for the DBA)
 * Any other line is ordinary output.
 */
#ifndef SEGRECOVER_AGENTPROTO_H
#define SEGRECOVER_AGENTPROTO_H

#include <stdint.h>
#include <stdio.h>

enum agent_kind { AGENT_PHASE, AGENT_PROGRESS, AGENT_DONE, AGENT_ERROR, AGENT_NOTE };

struct agent_line {
	enum agent_kind kind;
	int dbid;
	char name[64];   /* phase name, the failed step of an error, or the level of a note */
	uint64_t done;   /* progress: bytes done; done: bytes copied */
	uint64_t total;  /* progress: bytes expected (0 unknown) */
	double seconds;  /* done: wall time */
	char remedy[16]; /* error: "retry" (fix the cause, run it again) or "rebuild" (a full copy) */
	char msg[1536];  /* error or note message */
};

/* 0 when LINE (without its newline) is a protocol line, -1 otherwise. */
int agentproto_parse(const char *line, struct agent_line *out);

/* gpsegrecovery lives next to gprecoverseg, on every host (Greenplum's GPHOME convention). */
char *agentproto_agent_path(void);

void agentproto_phase(FILE *out, int dbid, const char *name);
void agentproto_progress(FILE *out, int dbid, uint64_t done, uint64_t total);
void agentproto_done(FILE *out, int dbid, uint64_t bytes, double seconds);
/* Newlines in the message are folded into spaces so that it stays one line. */
void agentproto_error(FILE *out, int dbid, const char *step, const char *remedy, const char *msg);
/* LEVEL is "info" or "warning"; newlines folded as for errors. */
void agentproto_note(FILE *out, int dbid, const char *level, const char *msg);

#endif
