/*
 * recoverconf: the recovery configuration file of gprecoverseg -i / -o, with the grammar and
 * the messages of Greenplum's RecoveryTripletsUserConfigFile (clsRecoverSegment_triples.py).
 *
 *   [TYPE|][hostname|]address|port|datadir [[hostname|]address|port|datadir]
 *
 * Blank lines and lines whose first non-blank character is '#' are skipped. A line is split on
 * whitespace into one or two groups, each group on '|' into 3 or 4 parts (both groups the same
 * count). TYPE is I, D or F; a first field of one upper-case letter is always read as a type
 * (an unknown letter is an error), and a type is only allowed at the start of the line.
 */
#include "driver/recoverconf.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "targetguard.h"
#include "xalloc.h"

static int line_error(struct errbuf *err, const char *filename, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int line_error(struct errbuf *err, const char *filename, int line, const char *fmt, ...)
{
	char msg[ERRBUF_SIZE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return errbuf_set(err, "line %d of file %s: %s", line, filename, msg);
}

static void location_free(struct recoverconf_location *loc)
{
	free(loc->hostname);
	free(loc->address);
	free(loc->datadir);
	loc->hostname = loc->address = loc->datadir = NULL;
}

void recoverconf_free(struct recoverconf *conf)
{
	if (conf == NULL)
		return;
	for (size_t i = 0; i < conf->nentries; i++) {
		location_free(&conf->entries[i].failed);
		location_free(&conf->entries[i].target);
	}
	free(conf->entries);
	conf->entries = NULL;
	conf->nentries = 0;
}

/* Split S in place on '|'; returns the number of parts, at most MAX stored in PARTS. */
static int split_parts(char *s, char **parts, int max)
{
	int n = 0;

	for (;;) {
		char *bar = strchr(s, '|');

		if (n < max)
			parts[n] = s;
		n++;
		if (bar == NULL)
			break;
		*bar = '\0';
		s = bar + 1;
	}
	return n;
}

/* A field that reads as a recovery type: exactly one upper-case ASCII letter. */
/*
 * A recovery type field: one capital letter (an unknown one is an error), or Greenplum's
 * lower-case i, d, f. Any other one-letter lower-case field stays a host name.
 */
static bool looks_like_type(const char *field)
{
	return field[1] == '\0' && ((field[0] >= 'A' && field[0] <= 'Z') || field[0] == 'i' ||
				    field[0] == 'd' || field[0] == 'f');
}

/* Lexical normalisation of an absolute path, like Python's os.path.normpath. */
static char *normalize_path(const char *path)
{
	size_t len = strlen(path), n = 0;
	size_t *starts = xcalloc(len / 2 + 2, sizeof(*starts));
	char *out = xmalloc(len + 2);
	size_t o = 0;
	const char *p = path;

	while (*p) {
		const char *seg;
		size_t seglen;

		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		seg = p;
		while (*p && *p != '/')
			p++;
		seglen = (size_t) (p - seg);
		if (seglen == 1 && seg[0] == '.')
			continue;
		if (seglen == 2 && seg[0] == '.' && seg[1] == '.') {
			if (n > 0)
				o = starts[--n];
			continue;
		}
		starts[n++] = o;
		out[o++] = '/';
		memcpy(out + o, seg, seglen);
		o += seglen;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	free(starts);
	return out;
}

static int parse_port(const char *text, int *port)
{
	long value = 0;

	if (*text == '\0' || strlen(text) > 5)
		return -1;
	for (const char *p = text; *p; p++) {
		if (!isdigit((unsigned char) *p))
			return -1;
		value = value * 10 + (*p - '0');
	}
	if (value < 1 || value > 65535)
		return -1;
	*port = (int) value;
	return 0;
}

/* Fill LOC from 3 (address|port|datadir) or 4 (hostname|address|port|datadir) parts. */
static int parse_location(char **parts, int nparts, const char *group, const char *filename,
			  int line, struct recoverconf_location *loc, struct errbuf *err)
{
	const char *hostname = nparts == 4 ? parts[0] : NULL;
	const char *address = parts[nparts - 3];
	const char *port = parts[nparts - 2];
	const char *datadir = parts[nparts - 1];
	size_t alen;

	if (hostname && hostname[0] == '\0')
		return line_error(err, filename, line, "empty hostname on %s segment group", group);
	if (address[0] == '\0')
		return line_error(err, filename, line, "empty address on %s segment group", group);
	if (port[0] == '\0')
		return line_error(err, filename, line, "empty port on %s segment group", group);
	if (datadir[0] == '\0')
		return line_error(err, filename, line, "empty data directory on %s segment group",
				  group);
	if (parse_port(port, &loc->port) != 0)
		return line_error(err, filename, line,
				  "invalid port '%s' on %s segment group: expected an integer from 1 "
				  "to 65535",
				  port, group);
	if (datadir[0] != '/')
		return line_error(err, filename, line,
				  "data directory '%s' on %s segment group is invalid; it must be a "
				  "full path",
				  datadir, group);
	/* -o writes IPv6 literals in brackets (canonicalize_address); the catalog has none. */
	alen = strlen(address);
	if (address[0] == '[' || address[alen - 1] == ']') {
		if (alen < 3 || address[0] != '[' || address[alen - 1] != ']' ||
		    memchr(address + 1, '[', alen - 2) || memchr(address + 1, ']', alen - 2))
			return line_error(err, filename, line,
					  "invalid address '%s' on %s segment group", address,
					  group);
		loc->address = xstrndup(address + 1, alen - 2);
	} else {
		loc->address = xstrdup(address);
	}
	loc->hostname = hostname ? xstrdup(hostname) : NULL;
	loc->datadir = normalize_path(datadir);
	if (strcmp(group, "new") == 0) {
		struct errbuf why;

		/* Where the server will live: pg_ctl hands it to a shell, and ports below 1024 are privileged. */
		if (guard_path_text("the data directory", loc->datadir, &why) != 0)
			return line_error(err, filename, line, "on %s segment group: %s", group, why.msg);
		if (loc->port < RECOVERCONF_MIN_NEW_PORT)
			return line_error(err, filename, line,
					  "port %d on %s segment group is privileged: use a port from "
					  "%d to 65535",
					  loc->port, group, RECOVERCONF_MIN_NEW_PORT);
	}
	return 0;
}

/*
 * One non-comment line (a mutable copy) into E. On error E may hold partial allocations; the
 * caller frees them.
 */
static int parse_line(char *text, const char *filename, int line, struct recoverconf_entry *e,
		      struct errbuf *err)
{
	char *groups[2] = { NULL, NULL };
	char *parts1[6], *parts2[6];
	char *save = NULL;
	int ngroups = 0, n1, n2 = 0, t = 0;

	for (char *tok = strtok_r(text, " \t\r\v\f", &save); tok;
	     tok = strtok_r(NULL, " \t\r\v\f", &save)) {
		if (ngroups < 2)
			groups[ngroups] = tok;
		ngroups++;
	}
	if (ngroups != 1 && ngroups != 2)
		return line_error(err, filename, line, "expected 1 or 2 groups but found %d",
				  ngroups);

	n1 = split_parts(groups[0], parts1, 6);
	if (looks_like_type(parts1[0])) {
		char type = (char) toupper((unsigned char) parts1[0][0]);

		if (type != 'I' && type != 'D' && type != 'F')
			return line_error(err, filename, line,
					  "unknown recovery type '%c': expected I (incremental), D "
					  "(differential) or F (full)",
					  type);
		e->type = type;
		t = 1;
	}
	if (n1 - t != 3 && n1 - t != 4) {
		if (t)
			return line_error(err, filename, line,
					  "expected 3 or 4 parts on failed segment group after the "
					  "recovery type %c, obtained %d",
					  e->type, n1 - t);
		return line_error(err, filename, line,
				  "expected 3 or 4 parts on failed segment group, obtained %d", n1);
	}
	if (ngroups == 2) {
		n2 = split_parts(groups[1], parts2, 6);
		if (n2 >= 1 && looks_like_type(parts2[0]))
			return line_error(err, filename, line,
					  "a recovery type ('%s|') is only allowed at the start of the "
					  "line, before the failed segment group",
					  parts2[0]);
		if (n2 != 3 && n2 != 4)
			return line_error(err, filename, line,
					  "expected 3 or 4 parts on new segment group, obtained %d", n2);
		if (n1 - t != n2)
			return line_error(err, filename, line,
					  "expected equal parts, either 3 or 4 on both segment group, "
					  "obtained %d on group1 and %d on group2",
					  n1 - t, n2);
	}
	if (parse_location(parts1 + t, n1 - t, "failed", filename, line, &e->failed, err) != 0)
		return -1;
	if (ngroups == 2) {
		if (parse_location(parts2, n2, "new", filename, line, &e->target, err) != 0)
			return -1;
		e->has_target = true;
	}
	return 0;
}

static bool same_place(const struct recoverconf_location *a, const struct recoverconf_location *b)
{
	return strcmp(a->address, b->address) == 0 && strcmp(a->datadir, b->datadir) == 0;
}

/* Greenplum's RecoveryTripletsUserConfigFile._validate, made independent of line order. */
static int check_lines(const struct recoverconf *conf, struct errbuf *err)
{
	for (size_t j = 0; j < conf->nentries; j++) {
		const struct recoverconf_entry *b = &conf->entries[j];

		for (size_t i = 0; i < j; i++) {
			const struct recoverconf_entry *a = &conf->entries[i];

			if (same_place(&a->failed, &b->failed))
				return errbuf_set(err,
						  "config file lines %d and %d conflict: Cannot recover "
						  "the same failed segment %s and data directory %s "
						  "twice.",
						  a->line, b->line, b->failed.address,
						  b->failed.datadir);
		}
		for (size_t i = 0; i < j; i++) {
			const struct recoverconf_entry *a = &conf->entries[i];

			if (!b->has_target && a->has_target && same_place(&a->target, &b->failed))
				return errbuf_set(err,
						  "config file lines %d and %d conflict: Cannot recover "
						  "segment %s with data directory %s in place if it is "
						  "used as a recovery segment.",
						  a->line, b->line, b->failed.address,
						  b->failed.datadir);
			if (b->has_target && a->has_target && same_place(&a->target, &b->target))
				return errbuf_set(err,
						  "config file lines %d and %d conflict: Cannot recover "
						  "to the same segment %s and data directory %s twice.",
						  a->line, b->line, b->target.address,
						  b->target.datadir);
			if (b->has_target && !a->has_target && same_place(&a->failed, &b->target))
				return errbuf_set(err,
						  "config file lines %d and %d conflict: Cannot recover "
						  "segment %s with data directory %s in place if it is "
						  "used as a recovery segment.",
						  a->line, b->line, a->failed.address,
						  a->failed.datadir);
		}
	}
	return 0;
}

int recoverconf_parse(const char *text, const char *filename, struct recoverconf *out,
		      struct errbuf *err)
{
	size_t cap = 0;
	int line = 0;
	const char *p = text;

	out->entries = NULL;
	out->nentries = 0;
	while (*p) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t) (end - p) : strlen(p);
		const char *q = p;
		struct recoverconf_entry *e;
		char *copy;
		int rc;

		line++;
		while (q < p + len && isspace((unsigned char) *q))
			q++;
		if (q == p + len || *q == '#') {
			p += len + (end ? 1 : 0);
			continue;
		}
		if (out->nentries == cap) {
			cap = cap ? 2 * cap : 16;
			out->entries = xrealloc(out->entries, cap * sizeof(*out->entries));
		}
		e = &out->entries[out->nentries++];
		memset(e, 0, sizeof(*e));
		e->line = line;
		copy = xstrndup(p, len);
		rc = parse_line(copy, filename, line, e, err);
		free(copy);
		if (rc != 0) {
			recoverconf_free(out);
			return -1;
		}
		p += len + (end ? 1 : 0);
	}
	if (check_lines(out, err) != 0) {
		recoverconf_free(out);
		return -1;
	}
	return 0;
}

int recoverconf_read(const char *path, struct recoverconf *out, struct errbuf *err)
{
	char *text = NULL;
	size_t len;
	int rc;

	out->entries = NULL;
	out->nentries = 0;
	if (read_small_file(path, &text, &len, err) != 0)
		return errbuf_prefix(err, "line 1 of file %s: cannot read the recovery configuration "
					  "file",
				     path);
	if (strlen(text) != len) {
		size_t nul = strlen(text);
		int line = 1;

		for (size_t i = 0; i < nul; i++)
			line += text[i] == '\n';
		free(text);
		return errbuf_set(err, "line %d of file %s: a NUL byte (offset %zu): the recovery "
				       "configuration file is not a text file",
				  line, path, nul);
	}
	rc = recoverconf_parse(text, path, out, err);
	free(text);
	return rc;
}

/* Greenplum's canonicalize_address: an IPv6 literal goes in brackets. */
static void add_address(struct strbuf *out, const char *address)
{
	if (strchr(address, ':') != NULL && strchr(address, '[') == NULL)
		strbuf_addf(out, "[%s]", address);
	else
		strbuf_addstr(out, address);
}

void recoverconf_format_line(struct strbuf *out, const struct segment *failed,
			     const struct segment *target)
{
	add_address(out, failed->address);
	strbuf_addf(out, "|%d|%s", failed->port, failed->datadir);
	if (target) {
		strbuf_addch(out, ' ');
		add_address(out, target->address);
		strbuf_addf(out, "|%d|%s", target->port, target->datadir);
	}
}
