#include "gpinitstandby/journal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "inject.h"
#include "targetmark.h"

static const char *const step_names[] = { "none", "catalog", "hba", "copy", "stop", "directory",
					  "slot" };
#define NSTEPS (sizeof(step_names) / sizeof(step_names[0]))

const char *journal_step_name(enum journal_step step)
{
	return (size_t) step < NSTEPS ? step_names[step] : "?";
}

void journal_format(const struct standby_journal *j, struct strbuf *out)
{
	strbuf_addf(out, "# gpinitstandby (segrecover): the work in progress on this coordinator's "
			 "standby.\n# Run the same gpinitstandby command again to finish it, or "
			 "gpinitstandby -r to undo it.\n");
	strbuf_addf(out, "action=%s\n", j->action == JOURNAL_CREATE ? "create" : "remove");
	strbuf_addf(out, "hostname=%s\naddress=%s\nport=%d\ndatadir=%s\ndbid=%d\n", j->hostname,
		    j->address, j->port, j->datadir, j->dbid);
	strbuf_addf(out, "hba_hostnames=%d\nstep=%s\nstep_done=%d\n", j->hba_hostnames ? 1 : 0,
		    journal_step_name(j->step), j->step_done ? 1 : 0);
}

static int copy_value(char *dst, size_t len, const char *v, const char *key, struct errbuf *err)
{
	if (strlen(v) >= len)
		return errbuf_set(err, "journal: %s is too long", key);
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int int_value(const char *v, long min, long max, int *out, const char *key,
		     struct errbuf *err)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < min || n > max)
		return errbuf_set(err, "journal: %s=%s is not a number in %ld..%ld", key, v, min, max);
	*out = (int) n;
	return 0;
}

static int parse_line(char *line, struct standby_journal *j, unsigned *seen, struct errbuf *err)
{
	char *eq = strchr(line, '=');
	const char *key = line, *v;
	int flag = 0;

	if (eq == NULL)
		return errbuf_set(err, "journal: line \"%s\" is not key=value", line);
	*eq = '\0';
	v = eq + 1;
	if (strcmp(key, "action") == 0) {
		*seen |= 1;
		if (strcmp(v, "create") == 0)
			j->action = JOURNAL_CREATE;
		else if (strcmp(v, "remove") == 0)
			j->action = JOURNAL_REMOVE;
		else
			return errbuf_set(err, "journal: unknown action \"%s\"", v);
		return 0;
	}
	if (strcmp(key, "hostname") == 0)
		return *seen |= 2, copy_value(j->hostname, sizeof(j->hostname), v, key, err);
	if (strcmp(key, "address") == 0)
		return *seen |= 4, copy_value(j->address, sizeof(j->address), v, key, err);
	if (strcmp(key, "port") == 0)
		return *seen |= 8, int_value(v, 1, 65535, &j->port, key, err);
	if (strcmp(key, "datadir") == 0) {
		*seen |= 16;
		if (v[0] != '/')
			return errbuf_set(err, "journal: datadir \"%s\" is not absolute", v);
		return copy_value(j->datadir, sizeof(j->datadir), v, key, err);
	}
	if (strcmp(key, "dbid") == 0)
		return int_value(v, 0, 32767, &j->dbid, key, err);
	if (strcmp(key, "hba_hostnames") == 0) {
		if (int_value(v, 0, 1, &flag, key, err) != 0)
			return -1;
		j->hba_hostnames = flag;
		return 0;
	}
	if (strcmp(key, "step") == 0) {
		for (size_t i = 0; i < NSTEPS; i++)
			if (strcmp(v, step_names[i]) == 0) {
				j->step = (enum journal_step) i;
				return 0;
			}
		return errbuf_set(err, "journal: unknown step \"%s\"", v);
	}
	if (strcmp(key, "step_done") == 0) {
		if (int_value(v, 0, 1, &flag, key, err) != 0)
			return -1;
		j->step_done = flag;
		return 0;
	}
	return errbuf_set(err, "journal: unknown key \"%s\"", key);
}

int journal_parse(const char *text, struct standby_journal *j, struct errbuf *err)
{
	char *copy = strdup(text), *save = NULL;
	unsigned seen = 0;
	int rc = 0;

	memset(j, 0, sizeof(*j));
	if (copy == NULL)
		return errbuf_set(err, "out of memory");
	for (char *line = strtok_r(copy, "\n", &save); line && rc == 0;
	     line = strtok_r(NULL, "\n", &save))
		if (line[0] != '#' && line[0] != '\0')
			rc = parse_line(line, j, &seen, err);
	free(copy);
	if (rc == 0 && seen != 31)
		rc = errbuf_set(err, "journal: action, hostname, address, port and datadir are "
				     "required");
	if (rc != 0)
		memset(j, 0, sizeof(*j));
	return rc;
}

static char *journal_path(const char *dir)
{
	return path_join(dir, STANDBY_JOURNAL_FILE);
}

int journal_read(const char *dir, struct standby_journal *j, struct errbuf *err)
{
	char *path = journal_path(dir), *text = NULL;
	size_t len;
	int rc = 0;

	memset(j, 0, sizeof(*j));
	if (!path_exists(path)) {
		free(path);
		return 0;
	}
	if (read_small_file(path, &text, &len, err) != 0 || journal_parse(text, j, err) != 0)
		rc = errbuf_prefix(err, "%s", path);
	free(text);
	free(path);
	return rc;
}

int journal_write(const char *dir, const struct standby_journal *j, struct errbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	char *path = journal_path(dir);
	int rc;

	strbuf_init(&sb, 512);
	journal_format(j, &sb);
	rc = write_file_durable(path, sb.buf, sb.len, 0600, err);
	strbuf_release(&sb);
	free(path);
	return rc;
}

int journal_clear(const char *dir, struct errbuf *err)
{
	char *path = journal_path(dir);
	int rc = 0;

	if (unlink(path) != 0 && errno != ENOENT)
		rc = errbuf_set(err, "cannot remove %s: %s", path, strerror(errno));
	else
		rc = fsync_parent(path, err);
	free(path);
	return rc;
}

int journal_mark(const char *dir, struct standby_journal *j, enum journal_step step, bool done,
		 struct errbuf *err)
{
	char point[64];

	j->step = step;
	j->step_done = done;
	if (journal_write(dir, j, err) != 0)
		return -1;
	/* The crash tests stop the command here, once the record is durable, and kill it. */
	snprintf(point, sizeof(point), "standby-%s-%s-%s",
		 j->action == JOURNAL_CREATE ? "create" : "remove", journal_step_name(step),
		 done ? "done" : "begin");
	inject_point(point);
	return 0;
}

bool journal_has_done(const struct standby_journal *j, enum journal_step step)
{
	if (j->step > step)
		return true;
	return j->step == step && j->step_done;
}
