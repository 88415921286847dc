/*
 * agentproto: how gprecoverseg talks to gpsegrecovery: where the agent is, and the machine-readable
 * lines gpsegrecovery prints on stdout and gprecoverseg reads:
 *   @phase dbid=3 name=copy
 *   @progress dbid=3 done=1048576 total=2097152 [sent=4096]   (sent: bytes moved so far, when
 *                                                     that differs from done: differential)
 *   @done dbid=3 bytes=1048576 seconds=4.210
 *   @error dbid=3 step=copy remedy=retry|rebuild msg=<the rest of the line>
 *   @note dbid=3 level=info msg=<the rest of the line>   (a strategy's own report, for the DBA)
 *   @stopped dbid=3 end=0/5000060 timeline=2            (verb stop: where its WAL ends)
 *   @started dbid=3 already=no                           (verb start)
 *   @hba dbid=3 changed=yes                              (verb update-hba)
 *   @estimate dbid=3 bytes=1651000000 [replay=N] [msg=<how, the rest of the line>]
 *                                                        (verb estimate: what recover would move,
 *                                                         the WAL its mirror replays, and how)
 *   @removed dbid=9 existed=yes                          (verb remove: the directory is gone)
 *   @progressfile dbid=3 path=<the rest of the line>     (recover: where its progress is kept)
 * Any other line is ordinary output.
 */
#ifndef SEGRECOVER_AGENTPROTO_H
#define SEGRECOVER_AGENTPROTO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum agent_kind {
	AGENT_PHASE,
	AGENT_PROGRESS,
	AGENT_DONE,
	AGENT_ERROR,
	AGENT_NOTE,
	AGENT_STOPPED,
	AGENT_STARTED,
	AGENT_HBA,
	AGENT_ESTIMATE,
	AGENT_REMOVED,
	AGENT_PROGRESS_FILE,
};

struct agent_line {
	enum agent_kind kind;
	int dbid;
	char name[64];   /* phase name, the failed step of an error, or the level of a note */
	uint64_t done;   /* progress: bytes done; done: bytes copied; estimate: bytes to move */
	uint64_t total;  /* progress: bytes expected (0 unknown); estimate: WAL to replay (0 unknown) */
	uint64_t sent;   /* progress: bytes moved so far, when the strategy tells it (else 0) */
	double seconds;  /* done: wall time */
	uint64_t lsn;    /* stopped: where the instance's WAL ends */
	unsigned timeline; /* stopped: on this timeline */
	bool flag;       /* started: it was running already; hba: the file changed;
			    removed: there was a directory to remove */
	char remedy[16]; /* error: "retry" (fix the cause, run it again) or "rebuild" (a full copy) */
	char msg[1536];  /* error or note message; progressfile: its path */
};

/* 0 when LINE (without its newline) is a protocol line, -1 otherwise. */
int agentproto_parse(const char *line, struct agent_line *out);

/* The agent's verbs: gpsegrecovery VERB [options]. */
#define AGENT_VERB_RECOVER "recover"       /* rebuild one instance as a mirror */
#define AGENT_VERB_STOP "stop"             /* fast shutdown, and where its WAL ends */
#define AGENT_VERB_START "start"           /* start an instance as it is configured */
#define AGENT_VERB_UPDATE_HBA "update-hba" /* add missing pg_hba.conf lines */
#define AGENT_VERB_ESTIMATE "estimate"     /* what a recover would move, changing nothing */
#define AGENT_VERB_HELPER "helper"         /* a strategy's helper next to the source data */
#define AGENT_VERB_REMOVE "remove"         /* stop an instance and remove its data directory */

/* gpsegrecovery lives next to gprecoverseg, on every host (Greenplum's GPHOME convention). */
char *agentproto_agent_path(void);

void agentproto_phase(FILE *out, int dbid, const char *name);
void agentproto_progress(FILE *out, int dbid, uint64_t done, uint64_t total, uint64_t sent);
void agentproto_done(FILE *out, int dbid, uint64_t bytes, double seconds);
/* Newlines in the message are folded into spaces so that it stays one line. */
void agentproto_error(FILE *out, int dbid, const char *step, const char *remedy, const char *msg);
/* LEVEL is "info" or "warning"; newlines folded as for errors. */
void agentproto_note(FILE *out, int dbid, const char *level, const char *msg);
void agentproto_stopped(FILE *out, int dbid, uint64_t end_lsn, unsigned timeline);
void agentproto_started(FILE *out, int dbid, bool already_running);
void agentproto_hba(FILE *out, int dbid, bool changed);
void agentproto_estimate(FILE *out, int dbid, uint64_t bytes, uint64_t replay, const char *method);
void agentproto_removed(FILE *out, int dbid, bool existed);
void agentproto_progress_file(FILE *out, int dbid, const char *path);

#endif
