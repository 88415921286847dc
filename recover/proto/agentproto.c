#include "proto/agentproto.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xalloc.h"

/* The value of key=VALUE in a space-separated list; copies up to len-1 bytes. */
static int field(const char *line, const char *key, char *value, size_t len)
{
	size_t klen = strlen(key);
	const char *p = line;

	while ((p = strstr(p, key)) != NULL) {
		if ((p == line || p[-1] == ' ') && p[klen] == '=') {
			const char *v = p + klen + 1;
			size_t n = strcspn(v, " ");

			if (n >= len)
				n = len - 1;
			memcpy(value, v, n);
			value[n] = '\0';
			return 0;
		}
		p += klen;
	}
	return -1;
}

static int uint_field(const char *line, const char *key, uint64_t *out)
{
	char buf[32], *end;

	if (field(line, key, buf, sizeof(buf)) != 0)
		return -1;
	*out = strtoull(buf, &end, 10);
	return *end == '\0' && buf[0] != '\0' ? 0 : -1;
}

int agentproto_parse(const char *line, struct agent_line *out)
{
	char buf[64];
	uint64_t dbid;

	memset(out, 0, sizeof(*out));
	if (strncmp(line, "@phase ", 7) == 0)
		out->kind = AGENT_PHASE;
	else if (strncmp(line, "@progress ", 10) == 0)
		out->kind = AGENT_PROGRESS;
	else if (strncmp(line, "@done ", 6) == 0)
		out->kind = AGENT_DONE;
	else if (strncmp(line, "@error ", 7) == 0)
		out->kind = AGENT_ERROR;
	else if (strncmp(line, "@note ", 6) == 0)
		out->kind = AGENT_NOTE;
	else if (strncmp(line, "@stopped ", 9) == 0)
		out->kind = AGENT_STOPPED;
	else if (strncmp(line, "@started ", 9) == 0)
		out->kind = AGENT_STARTED;
	else if (strncmp(line, "@hba ", 5) == 0)
		out->kind = AGENT_HBA;
	else if (strncmp(line, "@estimate ", 10) == 0)
		out->kind = AGENT_ESTIMATE;
	else if (strncmp(line, "@removed ", 9) == 0)
		out->kind = AGENT_REMOVED;
	else if (strncmp(line, "@progressfile ", 14) == 0)
		out->kind = AGENT_PROGRESS_FILE;
	else
		return -1;
	if (uint_field(line, "dbid", &dbid) != 0)
		return -1;
	out->dbid = (int) dbid;
	switch (out->kind) {
	case AGENT_PHASE:
		return field(line, "name", out->name, sizeof(out->name));
	case AGENT_PROGRESS:
		if (uint_field(line, "done", &out->done) != 0 || uint_field(line, "total", &out->total) != 0)
			return -1;
		if (strstr(line, " sent=") && uint_field(line, "sent", &out->sent) != 0)
			return -1;
		return 0;
	case AGENT_DONE:
		if (uint_field(line, "bytes", &out->done) != 0 || field(line, "seconds", buf, sizeof(buf)) != 0)
			return -1;
		out->seconds = strtod(buf, NULL);
		return 0;
	case AGENT_ESTIMATE: {
		/* msg= (how, optional) runs to the end of the line, after the numbers */
		const char *m = strstr(line, " msg=");

		if (uint_field(line, "bytes", &out->done) != 0)
			return -1;
		if (strstr(line, " replay=") && uint_field(line, "replay", &out->total) != 0)
			return -1;
		if (m != NULL)
			snprintf(out->msg, sizeof(out->msg), "%s", m + 5);
		return 0;
	}
	case AGENT_STOPPED: {
		unsigned hi, lo;
		uint64_t tli;

		if (field(line, "end", buf, sizeof(buf)) != 0 || sscanf(buf, "%X/%X", &hi, &lo) != 2 ||
		    uint_field(line, "timeline", &tli) != 0)
			return -1;
		out->lsn = ((uint64_t) hi << 32) | lo;
		out->timeline = (unsigned) tli;
		return 0;
	}
	case AGENT_STARTED:
	case AGENT_HBA:
	case AGENT_REMOVED:
		if (field(line, out->kind == AGENT_STARTED ? "already" :
				out->kind == AGENT_HBA ? "changed" : "existed", buf, sizeof(buf)) != 0 ||
		    (strcmp(buf, "yes") != 0 && strcmp(buf, "no") != 0))
			return -1;
		out->flag = strcmp(buf, "yes") == 0;
		return 0;
	case AGENT_PROGRESS_FILE: {
		const char *m = strstr(line, " path=");

		if (m == NULL || m[6] == '\0')
			return -1;
		snprintf(out->msg, sizeof(out->msg), "%s", m + 6);
		return 0;
	}
	case AGENT_ERROR:
	case AGENT_NOTE: {
		/* msg= runs to the end of the line: it is the only free-text field */
		const char *m = strstr(line, " msg=");
		const char *key = out->kind == AGENT_ERROR ? "step" : "level";

		if (field(line, key, out->name, sizeof(out->name)) != 0 || m == NULL)
			return -1;
		if (out->kind == AGENT_ERROR &&
		    (field(line, "remedy", out->remedy, sizeof(out->remedy)) != 0 ||
		     strstr(line, " remedy=") > m))
			snprintf(out->remedy, sizeof(out->remedy), "retry");
		snprintf(out->msg, sizeof(out->msg), "%s", m + 5);
		return 0;
	}
	}
	return -1;
}

void agentproto_phase(FILE *out, int dbid, const char *name)
{
	fprintf(out, "@phase dbid=%d name=%s\n", dbid, name);
	fflush(out);
}

void agentproto_progress(FILE *out, int dbid, uint64_t done, uint64_t total, uint64_t sent)
{
	if (sent > 0)
		fprintf(out, "@progress dbid=%d done=%" PRIu64 " total=%" PRIu64 " sent=%" PRIu64 "\n",
			dbid, done, total, sent);
	else
		fprintf(out, "@progress dbid=%d done=%" PRIu64 " total=%" PRIu64 "\n", dbid, done, total);
	fflush(out);
}

void agentproto_done(FILE *out, int dbid, uint64_t bytes, double seconds)
{
	fprintf(out, "@done dbid=%d bytes=%" PRIu64 " seconds=%.3f\n", dbid, bytes, seconds);
	fflush(out);
}

static void put_one_line(FILE *out, const char *msg)
{
	for (const char *p = msg; *p; p++)
		fputc(*p == '\n' || *p == '\r' ? ' ' : *p, out);
	fputc('\n', out);
	fflush(out);
}

void agentproto_error(FILE *out, int dbid, const char *step, const char *remedy, const char *msg)
{
	fprintf(out, "@error dbid=%d step=%s remedy=%s msg=", dbid, step, remedy);
	put_one_line(out, msg);
}

void agentproto_note(FILE *out, int dbid, const char *level, const char *msg)
{
	fprintf(out, "@note dbid=%d level=%s msg=", dbid, level);
	put_one_line(out, msg);
}

void agentproto_stopped(FILE *out, int dbid, uint64_t end_lsn, unsigned timeline)
{
	fprintf(out, "@stopped dbid=%d end=%X/%X timeline=%u\n", dbid, (unsigned) (end_lsn >> 32),
		(unsigned) end_lsn, timeline);
	fflush(out);
}

void agentproto_started(FILE *out, int dbid, bool already_running)
{
	fprintf(out, "@started dbid=%d already=%s\n", dbid, already_running ? "yes" : "no");
	fflush(out);
}

void agentproto_hba(FILE *out, int dbid, bool changed)
{
	fprintf(out, "@hba dbid=%d changed=%s\n", dbid, changed ? "yes" : "no");
	fflush(out);
}

void agentproto_removed(FILE *out, int dbid, bool existed)
{
	fprintf(out, "@removed dbid=%d existed=%s\n", dbid, existed ? "yes" : "no");
	fflush(out);
}

void agentproto_progress_file(FILE *out, int dbid, const char *path)
{
	fprintf(out, "@progressfile dbid=%d path=%s\n", dbid, path);
	fflush(out);
}

void agentproto_estimate(FILE *out, int dbid, uint64_t bytes, uint64_t replay, const char *method)
{
	fprintf(out, "@estimate dbid=%d bytes=%" PRIu64, dbid, bytes);
	if (replay > 0)
		fprintf(out, " replay=%" PRIu64, replay);
	if (method != NULL && method[0] != '\0')
		fprintf(out, " msg=%s", method);
	fputc('\n', out);
	fflush(out);
}

char *agentproto_agent_path(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		return xstrdup("gpsegrecovery");
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash == NULL)
		return xstrdup("gpsegrecovery");
	*slash = '\0';
	return xasprintf("%s/gpsegrecovery", exe);
}
