#include "proto/progressfile.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "xalloc.h"

int progressfile_write(const char *path, const char *text, size_t len, struct errbuf *err)
{
	char *tmp = xasprintf("%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t done = 0;
	int rc = 0;

	if (fd < 0) {
		errbuf_set_errno(err, errno, "cannot create \"%s\"", tmp);
		free(tmp);
		return -1;
	}
	while (rc == 0 && done < len) {
		ssize_t n = write(fd, text + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = errbuf_set_errno(err, errno, "cannot write \"%s\"", tmp);
		else
			done += (size_t) n;
	}
	if (close(fd) != 0 && rc == 0)
		rc = errbuf_set_errno(err, errno, "cannot write \"%s\"", tmp);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = errbuf_set_errno(err, errno, "cannot rename \"%s\" to \"%s\"", tmp, path);
	if (rc != 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

/* Digits at *p: their value (saturated) and the position after them; false when none. */
static bool take_number(const char **p, long long *value)
{
	const char *s = *p;
	long long v = 0;

	if (!isdigit((unsigned char) *s))
		return false;
	while (isdigit((unsigned char) *s)) {
		if (v < (1LL << 58))
			v = v * 10 + (*s - '0');
		s++;
	}
	*value = v;
	*p = s;
	return true;
}

static bool take_literal(const char **p, const char *lit)
{
	size_t n = strlen(lit);

	if (strncmp(*p, lit, n) != 0)
		return false;
	*p += n;
	return true;
}

/* The regular expression \d+/\d+ kB \(\d+%\), matched at text. */
static bool match_at(const char *text, long long *done, long long *total, int *percent)
{
	const char *p = text;
	long long pct;

	if (!take_number(&p, done) || !take_literal(&p, "/") || !take_number(&p, total) ||
	    !take_literal(&p, " kB (") || !take_number(&p, &pct) || !take_literal(&p, "%)"))
		return false;
	*percent = pct > 100 ? 100 : (int) pct;
	return true;
}

bool progressfile_find(const char *text, long long *completed_kb, long long *total_kb,
			 int *percent)
{
	for (const char *p = text; *p; p++) {
		/* A match starts at the first digit of a number, as a regex search finds it. */
		if (!isdigit((unsigned char) *p) || (p > text && isdigit((unsigned char) p[-1])))
			continue;
		if (match_at(p, completed_kb, total_kb, percent))
			return true;
	}
	return false;
}

bool progressfile_parse_line(const char *line, struct progress_entry *out)
{
	const char *colon1 = strchr(line, ':');
	const char *colon2, *p;
	char *end;
	long dbid;
	size_t typelen;

	memset(out, 0, sizeof(*out));
	if (colon1 == NULL)
		return false;
	typelen = (size_t) (colon1 - line);
	if (typelen == 0 || typelen >= sizeof(out->type))
		return false;
	for (p = line; p < colon1; p++)
		if (!islower((unsigned char) *p))
			return false;
	colon2 = strchr(colon1 + 1, ':');
	if (colon2 == NULL || colon2 == colon1 + 1)
		return false;
	errno = 0;
	dbid = strtol(colon1 + 1, &end, 10);
	if (errno != 0 || end != colon2 || dbid <= 0 || dbid > 32767)
		return false;
	if (!progressfile_find(colon2 + 1, &out->completed_kb, &out->total_kb, &out->percent))
		return false;
	out->sent_kb = -1;
	p = strstr(colon2 + 1, " kB sent");
	if (p != NULL) {
		const char *q = p;

		while (q > colon2 + 1 && isdigit((unsigned char) q[-1]))
			q--;
		if (q < p)
			out->sent_kb = strtoll(q, NULL, 10);
	}
	memcpy(out->type, line, typelen);
	out->type[typelen] = '\0';
	out->dbid = (int) dbid;
	return true;
}

int progressfile_read(const char *path, struct progress_entry **entries, size_t *n,
			struct errbuf *err)
{
	char *text = NULL, *line, *save = NULL;
	size_t len, alloc = 0;

	*entries = NULL;
	*n = 0;
	if (read_small_file(path, &text, &len, err) != 0) {
		/* gprecoverseg removes the file when it is done: gone is the same as empty. */
		if (!path_exists(path))
			return 0;
		return errbuf_prefix(err, "cannot read the recovery progress file");
	}
	for (line = strtok_r(text, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
		struct progress_entry e;

		if (!progressfile_parse_line(line, &e))
			continue;
		/* The newest line for a dbid wins. */
		for (size_t i = 0; i < *n; i++)
			if ((*entries)[i].dbid == e.dbid) {
				(*entries)[i] = e;
				goto next;
			}
		if (*n == alloc) {
			alloc = alloc ? alloc * 2 : 8;
			*entries = xrealloc(*entries, alloc * sizeof(**entries));
		}
		(*entries)[(*n)++] = e;
next:;
	}
	free(text);
	return 0;
}
