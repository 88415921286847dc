#include "standbyconf.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "fsutil.h"
#include "xalloc.h"

void conninfo_append(struct strbuf *ci, const char *key, const char *value)
{
	bool plain = value[0] != '\0';

	for (const char *p = value; *p; p++)
		if (isspace((unsigned char) *p) || *p == '\'' || *p == '\\')
			plain = false;
	if (ci->len > 0)
		strbuf_addch(ci, ' ');
	strbuf_addstr(ci, key);
	strbuf_addch(ci, '=');
	if (plain) {
		strbuf_addstr(ci, value);
		return;
	}
	strbuf_addch(ci, '\'');
	for (const char *p = value; *p; p++) {
		if (*p == '\'' || *p == '\\')
			strbuf_addch(ci, '\\');
		strbuf_addch(ci, *p);
	}
	strbuf_addch(ci, '\'');
}

/* A GUC value in a configuration file: single-quoted, with quotes doubled. */
static void add_guc_string(struct strbuf *out, const char *value)
{
	strbuf_addch(out, '\'');
	for (const char *p = value; *p; p++) {
		if (*p == '\'')
			strbuf_addch(out, '\'');
		strbuf_addch(out, *p);
	}
	strbuf_addch(out, '\'');
}

/* Does LINE set one of NAMES? (leading spaces, the name, then spaces and '=' or a space) */
static bool line_sets(const char *line, size_t len, const char *const *names)
{
	size_t i = 0;

	while (i < len && isspace((unsigned char) line[i]))
		i++;
	for (size_t k = 0; names[k]; k++) {
		size_t n = strlen(names[k]);

		if (len - i >= n && strncasecmp(line + i, names[k], n) == 0 &&
		    (i + n == len || isspace((unsigned char) line[i + n]) || line[i + n] == '='))
			return true;
	}
	return false;
}

/* Copy OLD to OUT without the lines that set NAMES. */
static void copy_without(struct strbuf *out, const char *old, const char *const *names)
{
	const char *p = old;

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t) (nl - p) : strlen(p);

		if (!line_sets(p, len, names)) {
			strbuf_add(out, p, len);
			strbuf_addch(out, '\n');
		}
		p = nl ? nl + 1 : NULL;
	}
}

void standby_render_auto_conf(struct strbuf *out, const char *old_text,
			      const struct standby_settings *s)
{
	static const char *const names[] = { "primary_conninfo", "primary_slot_name", NULL };
	struct strbuf ci = STRBUF_INIT;
	char port[16];

	strbuf_init(&ci, 128);
	copy_without(out, old_text, names);
	snprintf(port, sizeof(port), "%d", s->primary_port);
	conninfo_append(&ci, "host", s->primary_host);
	conninfo_append(&ci, "port", port);
	if (s->user)
		conninfo_append(&ci, "user", s->user);
	conninfo_append(&ci, "application_name", s->application_name);
	strbuf_addstr(out, "primary_conninfo = ");
	add_guc_string(out, ci.buf);
	strbuf_addch(out, '\n');
	if (s->slot_name) {
		strbuf_addstr(out, "primary_slot_name = ");
		add_guc_string(out, s->slot_name);
		strbuf_addch(out, '\n');
	}
	strbuf_release(&ci);
}

void conf_render_port(struct strbuf *out, const char *old_text, int port)
{
	const char *p = old_text;
	bool replaced = false;

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t) (nl - p) : strlen(p);
		static const char *const names[] = { "port", NULL };

		if (line_sets(p, len, names)) {
			strbuf_addf(out, "port = %d\n", port);
			replaced = true;
		} else {
			strbuf_add(out, p, len);
			strbuf_addch(out, '\n');
		}
		p = nl ? nl + 1 : NULL;
	}
	if (!replaced)
		strbuf_addf(out, "port = %d\n", port);
}

static int rewrite_file(const char *datadir, const char *name, bool must_exist,
			void (*render)(struct strbuf *, const char *, const void *), const void *arg,
			struct errbuf *err)
{
	char *path = path_join(datadir, name);
	char *old = NULL;
	size_t oldlen;
	struct strbuf out = STRBUF_INIT;
	int rc;

	if (read_small_file(path, &old, &oldlen, err) != 0) {
		if (must_exist) {
			free(path);
			return -1;
		}
		old = xstrdup("");
	}
	strbuf_init(&out, oldlen + 256);
	render(&out, old, arg);
	rc = write_file_durable(path, out.buf, out.len, 0600, err);
	strbuf_release(&out);
	free(old);
	free(path);
	return rc;
}

static void render_auto(struct strbuf *out, const char *old, const void *arg)
{
	standby_render_auto_conf(out, old, arg);
}

static void render_port(struct strbuf *out, const char *old, const void *arg)
{
	conf_render_port(out, old, *(const int *) arg);
}

int standby_write_signal(const char *datadir, struct errbuf *err)
{
	char *path = path_join(datadir, "standby.signal");
	int rc = write_file_durable(path, "", 0, 0600, err);

	free(path);
	return rc;
}

int standby_write_settings(const char *datadir, const struct standby_settings *s,
			   struct errbuf *err)
{
	return rewrite_file(datadir, "postgresql.auto.conf", false, render_auto, s, err);
}

int conf_set_port(const char *datadir, int port, struct errbuf *err)
{
	return rewrite_file(datadir, "postgresql.conf", true, render_port, &port, err);
}

char *standby_conninfo_of(const char *text)
{
	static const char *const names[] = { "primary_conninfo", NULL };
	char *found = NULL;
	const char *p = text;

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t) (nl - p) : strlen(p);
		const char *q = memchr(p, '\'', len);

		if (line_sets(p, len, names) && q != NULL) {
			struct strbuf v = STRBUF_INIT;
			const char *end = p + len;

			/* a GUC string: '...' with '' (or \') standing for a quote */
			strbuf_init(&v, len);
			for (q++; q < end; q++) {
				if ((*q == '\'' && q + 1 < end && q[1] == '\'') ||
				    (*q == '\\' && q + 1 < end)) {
					strbuf_addch(&v, q[1]);
					q++;
				} else if (*q == '\'') {
					break;
				} else {
					strbuf_addch(&v, *q);
				}
			}
			free(found);
			found = strbuf_detach(&v, NULL);
		}
		p = nl ? nl + 1 : NULL;
	}
	return found;
}

int standby_read_primary(const char *datadir, char *host, size_t host_len, int *port,
			 struct errbuf *err)
{
	char *path = path_join(datadir, "postgresql.auto.conf"), *text = NULL, *ci = NULL;
	PQconninfoOption *opts = NULL;
	char *perr = NULL;
	size_t len;
	int rc = -1;

	host[0] = '\0';
	*port = 5432;
	if (read_small_file(path, &text, &len, err) != 0)
		goto out;
	ci = standby_conninfo_of(text);
	if (ci == NULL || ci[0] == '\0') {
		errbuf_set(err, "%s sets no primary_conninfo: the standby does not say which "
				"coordinator it follows", path);
		goto out;
	}
	opts = PQconninfoParse(ci, &perr);
	if (opts == NULL) {
		errbuf_set(err, "%s: primary_conninfo cannot be parsed: %s", path,
			   perr ? perr : "out of memory");
		goto out;
	}
	for (PQconninfoOption *o = opts; o->keyword; o++) {
		if (o->val == NULL)
			continue;
		if (strcmp(o->keyword, "host") == 0 || (strcmp(o->keyword, "hostaddr") == 0 && !host[0]))
			snprintf(host, host_len, "%s", o->val);
		else if (strcmp(o->keyword, "port") == 0)
			*port = atoi(o->val);
	}
	if (host[0] == '\0') {
		errbuf_set(err, "%s: primary_conninfo names no host", path);
		goto out;
	}
	rc = 0;
out:
	PQconninfoFree(opts);
	PQfreemem(perr);
	free(ci);
	free(text);
	free(path);
	return rc;
}
