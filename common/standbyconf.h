/* standbyconf: the configuration that makes a data directory start as a mirror of its primary. */
#ifndef SEGRECOVER_STANDBYCONF_H
#define SEGRECOVER_STANDBYCONF_H

#include "errbuf.h"
#include "strbuf.h"

struct standby_settings {
	const char *primary_host;
	int primary_port;
	const char *user;             /* NULL: leave to libpq (the OS user) */
	const char *application_name; /* REPLICATION_APP_NAME */
	const char *slot_name;        /* REPLICATION_SLOT */
};

/* Append key=value to a conninfo string, quoting the value as libpq requires. */
void conninfo_append(struct strbuf *conninfo, const char *key, const char *value);

/* Create an empty standby.signal (durable). Invariant: it exists before any copied byte. */
int standby_write_signal(const char *datadir, struct errbuf *err);

/*
 * Rewrite postgresql.auto.conf: drop any primary_conninfo / primary_slot_name lines (the source's
 * copy may carry its own) and append ours. Durable (temp file, fsync, rename).
 */
int standby_write_settings(const char *datadir, const struct standby_settings *s,
			   struct errbuf *err);

/* Set "port = N" in postgresql.conf (every active port line replaced, or one appended). Durable. */
int conf_set_port(const char *datadir, int port, struct errbuf *err);

/*
 * Where a standby streams from: host and port of the primary_conninfo in DATADIR's
 * postgresql.auto.conf (the last setting wins, as for the server). Fails, saying so, when
 * there is none or it names no host.
 */
int standby_read_primary(const char *datadir, char *host, size_t host_len, int *port,
			 struct errbuf *err);
/* Pure helper for tests: primary_conninfo's value out of a postgresql.auto.conf text (malloc'd), or NULL. */
char *standby_conninfo_of(const char *auto_conf_text);

/* Pure helper for tests: the new postgresql.auto.conf text for OLD_TEXT. */
void standby_render_auto_conf(struct strbuf *out, const char *old_text,
			      const struct standby_settings *s);
void conf_render_port(struct strbuf *out, const char *old_text, int port);

#endif
