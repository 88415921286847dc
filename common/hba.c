/*
 * hba: the pg_hba.conf entries a primary needs for its (new) mirror, as Greenplum's
 * create_entries() writes them, and merging them into an existing pg_hba.conf without touching
 * what is there (seg_update_pg_hba.py appends only what is missing).
 */
#include "hba.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "fsutil.h"
#include "xalloc.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/*
 * A pg_hba.conf token for a role name: bare when it is a plain identifier that is not a
 * keyword, double-quoted otherwise (so "all", "+group" or "a b" mean the role itself).
 */
static int add_role_token(struct strbuf *out, const char *user, struct errbuf *err)
{
	static const char *const keywords[] = { "all", "sameuser", "samegroup", "samerole",
						"replication", "samehost", "samenet", NULL };
	bool plain = user[0] != '\0';

	if (user[0] == '\0')
		return errbuf_set(err, "pg_hba.conf entry: the user name is empty");
	for (const char *p = user; *p; p++) {
		if (*p == '"' || *p == '\n' || *p == '\r' || *p == '\0')
			return errbuf_set(err, "pg_hba.conf entry: the user name \"%s\" cannot be "
					       "written into pg_hba.conf",
					  user);
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' || *p == '-' || *p == '$'))
			plain = false;
	}
	for (const char *const *k = keywords; *k && plain; k++)
		if (strcmp(*k, user) == 0)
			plain = false;
	if (plain)
		strbuf_addstr(out, user);
	else
		strbuf_addf(out, "\"%s\"", user);
	return 0;
}

static void add_pair(struct strbuf *out, const char *role, const char *addr)
{
	strbuf_addf(out, "host all %s %s trust\n", role, addr);
	strbuf_addf(out, "host replication %s %s trust\n", role, addr);
}

int hba_entries_for_mirror(const char *mirror_hostname, const char *mirror_address,
			   const char *user, bool use_hostnames, struct strbuf *out,
			   struct errbuf *err)
{
	struct strbuf role = STRBUF_INIT;

	strbuf_init(&role, 0);
	if (add_role_token(&role, user ? user : "", err) != 0) {
		strbuf_release(&role);
		return -1;
	}
	if (use_hostnames) {
		if (mirror_hostname == NULL || mirror_hostname[0] == '\0') {
			strbuf_release(&role);
			return errbuf_set(err, "no host name for the mirror at %s: --hba-hostnames "
					       "needs one",
					  mirror_address ? mirror_address : "(unknown address)");
		}
		add_pair(out, role.buf, mirror_hostname);
	} else {
		struct addrinfo hints, *res = NULL;
		char **seen = NULL;
		size_t nseen = 0;
		char *host;
		size_t len;
		int rc;

		if (mirror_address == NULL || mirror_address[0] == '\0') {
			strbuf_release(&role);
			return errbuf_set(err, "no address for the mirror%s%s", mirror_hostname
					  ? " on host " : "", mirror_hostname ? mirror_hostname : "");
		}
		/* An IPv6 literal may come in brackets, as in a recovery configuration file. */
		len = strlen(mirror_address);
		if (len > 2 && mirror_address[0] == '[' && mirror_address[len - 1] == ']')
			host = xstrndup(mirror_address + 1, len - 2);
		else
			host = xstrdup(mirror_address);
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		/* Any socket type: an address comes back once per type; duplicates are dropped below. */
		rc = getaddrinfo(host, NULL, &hints, &res);
		free(host);
		if (rc != 0) {
			strbuf_release(&role);
			return errbuf_set(err, "cannot resolve the mirror address \"%s\" for "
					       "pg_hba.conf: %s",
					  mirror_address,
					  rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		}
		for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
			char ip[INET6_ADDRSTRLEN + 8];
			const char *mask;
			bool dup = false;

			if (ai->ai_family == AF_INET) {
				inet_ntop(AF_INET, &((struct sockaddr_in *) ai->ai_addr)->sin_addr, ip,
					  INET6_ADDRSTRLEN);
				mask = "/32";
			} else if (ai->ai_family == AF_INET6) {
				inet_ntop(AF_INET6, &((struct sockaddr_in6 *) ai->ai_addr)->sin6_addr,
					  ip, INET6_ADDRSTRLEN);
				mask = "/128";
			} else {
				continue;
			}
			strcat(ip, mask);
			for (size_t i = 0; i < nseen && !dup; i++)
				dup = strcmp(seen[i], ip) == 0;
			if (dup)
				continue;
			seen = xrealloc(seen, (nseen + 1) * sizeof(*seen));
			seen[nseen++] = xstrdup(ip);
			add_pair(out, role.buf, ip);
		}
		freeaddrinfo(res);
		for (size_t i = 0; i < nseen; i++)
			free(seen[i]);
		free(seen);
		if (nseen == 0) {
			strbuf_release(&role);
			return errbuf_set(err, "cannot resolve the mirror address \"%s\" for "
					       "pg_hba.conf: no IPv4 or IPv6 address",
					  mirror_address);
		}
	}
	strbuf_addf(out, "host replication %s samehost trust\n", role.buf);
	strbuf_release(&role);
	return 0;
}

/*
 * The canonical form of one pg_hba.conf line: the comment ('#' outside double quotes) cut off,
 * runs of white space collapsed to one space, none at either end. "" for a blank or comment line.
 */
static void canonical_line(const char *line, size_t len, struct strbuf *out)
{
	bool in_quote = false, pending_space = false;

	strbuf_reset(out);
	for (size_t i = 0; i < len; i++) {
		char c = line[i];

		if (!in_quote && c == '#')
			break;
		if (!in_quote && is_space(c)) {
			pending_space = out->len > 0;
			continue;
		}
		if (pending_space) {
			strbuf_addch(out, ' ');
			pending_space = false;
		}
		if (c == '"')
			in_quote = !in_quote;
		strbuf_addch(out, c);
	}
}

/* Does TEXT have an active line whose canonical form is CANON? */
static bool has_line(const char *text, const char *canon, struct strbuf *scratch)
{
	const char *p = text;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t) (nl - p) : strlen(p);

		canonical_line(p, len, scratch);
		if (scratch->len > 0 && strcmp(scratch->buf, canon) == 0)
			return true;
		p += len + (nl ? 1 : 0);
	}
	return false;
}

void hba_merge(const char *old_text, const char *entries, struct strbuf *out, bool *changed)
{
	struct strbuf canon = STRBUF_INIT, scratch = STRBUF_INIT, added = STRBUF_INIT;
	size_t oldlen = strlen(old_text);
	const char *p = entries;

	strbuf_init(&canon, 0);
	strbuf_init(&scratch, 0);
	strbuf_init(&added, 0);
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t) (nl - p) : strlen(p);

		canonical_line(p, len, &canon);
		/* Missing from the old text and not already added from ENTRIES. */
		if (canon.len > 0 && !has_line(old_text, canon.buf, &scratch) &&
		    !has_line(added.buf, canon.buf, &scratch)) {
			strbuf_addstr(&added, canon.buf);
			strbuf_addch(&added, '\n');
		}
		p += len + (nl ? 1 : 0);
	}

	strbuf_add(out, old_text, oldlen);
	if (oldlen > 0 && old_text[oldlen - 1] != '\n')
		strbuf_addch(out, '\n');
	if (added.len > 0) {
		strbuf_addstr(out, HBA_MARKER "\n");
		strbuf_add(out, added.buf, added.len);
	}
	*changed = added.len > 0;
	strbuf_release(&canon);
	strbuf_release(&scratch);
	strbuf_release(&added);
}

int hba_update_file(const char *path, const char *entries, bool *changed, struct errbuf *err)
{
	struct strbuf merged = STRBUF_INIT;
	char *text = NULL, *target;
	struct stat st;
	size_t len;
	int rc = 0;

	*changed = false;
	/* Write through a symbolic link, never replace it with a file. */
	target = realpath(path, NULL);
	if (target == NULL)
		return errbuf_set_errno(err, errno, "cannot find pg_hba.conf at \"%s\"", path);
	if (stat(target, &st) != 0) {
		errbuf_set_errno(err, errno, "cannot stat \"%s\"", target);
		free(target);
		return -1;
	}
	if (read_small_file(target, &text, &len, err) != 0) {
		free(target);
		return -1;
	}
	if (strlen(text) != len) {
		errbuf_set(err, "\"%s\" contains a NUL byte: it is not a pg_hba.conf file", target);
		free(text);
		free(target);
		return -1;
	}
	strbuf_init(&merged, len + 512);
	hba_merge(text, entries, &merged, changed);
	if (*changed) {
		rc = write_file_durable(target, merged.buf, merged.len, st.st_mode & 07777, err);
		if (rc != 0)
			*changed = false;
	}
	strbuf_release(&merged);
	free(text);
	free(target);
	return rc;
}
