#include "driver/plan.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fsutil.h"
#include "log.h"
#include "registry.h"
#include "targetguard.h"
#include "units.h"
#include "xalloc.h"

/*
 * The strategy for a row: a full copy for -F and a new location, then --differential, then
 * --strategy, then the line's type, then the default (incremental). Names only: plan_build
 * resolves them.
 */
static const char *choose_strategy(const struct plan_options *opts, char line_type,
				   bool relocated)
{
	const struct strategy *typed = line_type ? strategy_for_type(line_type) : NULL;

	if (opts->full || relocated)
		return strategy_for_type('F')->name;
	if (opts->differential)
		return strategy_for_type('D')->name;
	if (opts->strategy)
		return opts->strategy;
	return (typed ? typed : strategy_for_type('I'))->name;
}

static int add_row(struct plan *p, size_t *cap, const struct catalog *cat,
		   const struct segment *failed, const struct segment *target, bool relocated,
		   const char *strategy, struct errbuf *err)
{
	const struct segment *source = catalog_acting(cat, failed->content, ROLE_PRIMARY);
	struct plan_row *row;

	if (failed->status != STATUS_DOWN)
		return errbuf_set(err, SEG_FMT " is not marked down in gp_segment_configuration; only "
					       "failed instances are recovered (run gpfts --once if it "
					       "has failed)",
				  SEG_ARGS(failed));
	if (source == NULL || source->dbid == failed->dbid || source->status != STATUS_UP)
		return errbuf_set(err, "Primary segment is not up for content %d: " SEG_FMT
				       " has no live primary to copy from",
				  failed->content, SEG_ARGS(failed));
	if (*cap == p->nrows) {
		*cap = *cap ? 2 * *cap : 8;
		p->rows = xrealloc(p->rows, *cap * sizeof(struct plan_row));
	}
	row = &p->rows[p->nrows++];
	memset(row, 0, sizeof(*row));
	row->failed = failed;
	row->source = source;
	segment_copy(&row->target, target ? target : failed);
	row->relocated = relocated;
	snprintf(row->strategy, sizeof(row->strategy), "%s", strategy);
	return 0;
}

static const struct segment *find_failed(const struct catalog *cat,
					 const struct recoverconf_location *loc)
{
	for (size_t i = 0; i < cat->nsegs; i++) {
		const struct segment *s = &cat->segs[i];

		if (s->content >= 0 && s->port == loc->port && strcmp(s->address, loc->address) == 0 &&
		    strcmp(s->datadir, loc->datadir) == 0 &&
		    (loc->hostname == NULL || strcmp(s->hostname, loc->hostname) == 0))
			return s;
	}
	return NULL;
}

/*
 * Do A and B name the same host? The catalog's hostname is the machine's name and its address
 * what connections use; a -i line gives the address and, in its 3-part form, nothing else.
 */
bool plan_same_host(const struct segment *a, const struct segment *b)
{
	return strcmp(a->hostname, b->hostname) == 0 || strcmp(a->address, b->address) == 0 ||
	       strcmp(a->hostname, b->address) == 0 || strcmp(a->address, b->hostname) == 0;
}

static const char *relation_words(enum path_relation rel)
{
	return rel == PATH_SAME ? "is" : rel == PATH_CONTAINS ? "contains" : "lies inside";
}

/*
 * A new location must not clash with another instance on that host (the coordinator and a
 * standby included): not its port, not its data directory, nor a directory above or below it.
 * The agent checks again on the host itself, with symbolic links resolved.
 */
static int check_location_free(const struct catalog *cat, const struct plan *p,
			       const struct segment *target, struct errbuf *err)
{
	if (target->port < PLAN_MIN_PORT)
		return errbuf_set(err, "port %d of the new location is privileged: use a port from %d "
				       "to 65535",
				  target->port, PLAN_MIN_PORT);
	if (guard_path_text("the new data directory", target->datadir, err) != 0)
		return -1;
	for (size_t i = 0; i < cat->nsegs; i++) {
		const struct segment *s = &cat->segs[i];
		enum path_relation rel;

		if (s->dbid == target->dbid || !plan_same_host(s, target))
			continue;
		if (s->port == target->port)
			return errbuf_set(err, "Segment dbid's %d and %d on host %s cannot have the same "
					       "port %d.",
					  s->dbid, target->dbid, target->hostname, target->port);
		if (strcmp(s->datadir, target->datadir) == 0)
			return errbuf_set(err, "Segment dbid's %d and %d on host %s cannot have the same "
					       "data directory '%s'.",
					  s->dbid, target->dbid, target->hostname, target->datadir);
		rel = path_relation(target->datadir, s->datadir);
		if (rel != PATH_UNRELATED)
			return errbuf_set(err, "the new data directory '%s' %s the data directory of "
					       SEG_FMT ": refusing to touch another instance",
					  target->datadir, relation_words(rel), SEG_ARGS(s));
	}
	for (size_t i = 0; i < p->nrows; i++) {
		const struct segment *t = &p->rows[i].target;

		if (t->dbid == target->dbid || !plan_same_host(t, target))
			continue;
		if (t->port == target->port || strcmp(t->datadir, target->datadir) == 0)
			return errbuf_set(err, "Segment dbid's %d and %d on host %s cannot be recovered "
					       "to the same port or data directory.",
					  t->dbid, target->dbid, target->hostname);
	}
	return 0;
}

/* The catalog's name for the host at ADDRESS, or ADDRESS itself for a host it does not know. */
static char *hostname_of_address(const struct catalog *cat, char *address)
{
	for (size_t i = 0; i < cat->nsegs; i++)
		if (strcmp(cat->segs[i].address, address) == 0)
			return cat->segs[i].hostname;
	return address;
}

/* Does LOC name the host of SEG (its address or its hostname, in either field)? */
static bool names_host_of(const struct recoverconf_location *loc, const struct segment *seg)
{
	return strcmp(loc->address, seg->address) == 0 || strcmp(loc->address, seg->hostname) == 0 ||
	       (loc->hostname && (strcmp(loc->hostname, seg->hostname) == 0 ||
				  strcmp(loc->hostname, seg->address) == 0));
}

static int plan_from_file(const struct catalog *cat, const struct plan_options *opts,
			  const struct recoverconf *conf, struct plan *p, size_t *cap,
			  struct errbuf *err)
{
	for (size_t i = 0; i < conf->nentries; i++) {
		const struct recoverconf_entry *e = &conf->entries[i];
		const struct segment *failed = find_failed(cat, &e->failed);
		struct segment target;

		if (failed == NULL)
			return errbuf_set(err, "line %d of file %s: A segment to recover was not found in "
					       "configuration. This segment is described by '%s|%d|%s'",
					  e->line, opts->input_file, e->failed.address, e->failed.port,
					  e->failed.datadir);
		if (e->type != 0 && strategy_for_type(e->type) == NULL)
			return errbuf_set(err, "line %d of file %s: recovery type %c| has no strategy "
					       "in this build; use F| (full), D| (differential) or I| "
					       "(incremental)",
					  e->line, opts->input_file, e->type);
		if (!e->has_target) {
			if (add_row(p, cap, cat, failed, NULL, false,
				    choose_strategy(opts, e->type, false), err) != 0)
				return errbuf_prefix(err, "line %d of file %s", e->line, opts->input_file);
			continue;
		}
		target = *failed;
		if (names_host_of(&e->target, failed)) {
			/* The same host: the catalog keeps naming it as it does (hostname, address). */
		} else {
			target.hostname = e->target.hostname ? e->target.hostname
							     : hostname_of_address(cat, e->target.address);
			target.address = e->target.address;
		}
		target.port = e->target.port;
		target.datadir = e->target.datadir;
		if (check_location_free(cat, p, &target, err) != 0 ||
		    add_row(p, cap, cat, failed, &target, true, choose_strategy(opts, e->type, true),
			    err) != 0)
			return errbuf_prefix(err, "line %d of file %s", e->line, opts->input_file);
	}
	return 0;
}

static int compare_by_host(const void *a, const void *b)
{
	const struct segment *const *x = a, *const *y = b;
	int c = strcmp((*x)->hostname, (*y)->hostname);

	return c ? c : (*x)->dbid - (*y)->dbid;
}

/* The first port at or above the lowest segment port that nothing on HOST uses yet. */
static int free_port_on(const struct catalog *cat, const struct plan *p, const char *host)
{
	int base = 65535;

	for (size_t i = 0; i < cat->nsegs; i++)
		if (cat->segs[i].content >= 0 && cat->segs[i].port < base)
			base = cat->segs[i].port;
	for (int port = base; port <= 65535; port++) {
		bool used = false;

		for (size_t i = 0; i < cat->nsegs && !used; i++)
			used = strcmp(cat->segs[i].hostname, host) == 0 && cat->segs[i].port == port;
		for (size_t i = 0; i < p->nrows && !used; i++)
			used = strcmp(p->rows[i].target.hostname, host) == 0 &&
			       p->rows[i].target.port == port;
		if (!used)
			return port;
	}
	return -1;
}

/* -p: failed instances grouped by failed host, each group moved to the next new host. */
static int plan_to_new_hosts(const struct catalog *cat, const struct plan_options *opts,
			     struct plan *p, size_t *cap, struct errbuf *err)
{
	char *hosts = xstrdup(opts->new_hosts), *save = NULL;
	const char *list[256];
	size_t nhosts = 0, nfailed = 0, hostidx = 0;
	const struct segment **failed = xcalloc(cat->nsegs, sizeof(*failed));
	int rc = 0;

	for (char *h = strtok_r(hosts, ",", &save); h && nhosts < 256; h = strtok_r(NULL, ",", &save)) {
		bool dup = false;

		for (size_t i = 0; i < nhosts; i++)
			dup = dup || strcmp(list[i], h) == 0;
		if (!dup)
			list[nhosts++] = h;
	}
	for (size_t i = 0; i < cat->nsegs; i++)
		if (cat->segs[i].content >= 0 && cat->segs[i].status == STATUS_DOWN)
			failed[nfailed++] = &cat->segs[i];
	qsort(failed, nfailed, sizeof(*failed), compare_by_host);
	for (size_t i = 0; i < nfailed && rc == 0; i++) {
		struct segment target;
		int port;

		if (i > 0 && strcmp(failed[i]->hostname, failed[i - 1]->hostname) != 0)
			hostidx++;
		if (hostidx >= nhosts) {
			rc = errbuf_set(err, "Not enough new recovery hosts given for recovery.");
			break;
		}
		target = *failed[i];
		target.hostname = (char *) list[hostidx];
		target.address = (char *) list[hostidx];
		port = free_port_on(cat, p, list[hostidx]);
		if (port < 0) {
			rc = errbuf_set(err, "no free port on new host %s", list[hostidx]);
			break;
		}
		target.port = port;
		rc = add_row(p, cap, cat, failed[i], &target, true, strategy_for_type('F')->name, err);
	}
	if (rc == 0 && nfailed > 0 && hostidx + 1 < nhosts) {
		char extra[1024] = "";

		for (size_t i = hostidx + 1; i < nhosts; i++) {
			size_t len = strlen(extra);

			snprintf(extra + len, sizeof(extra) - len, "%s%s", len ? ", " : "", list[i]);
		}
		log_warning("The following recovery hosts were not needed: %s", extra);
	}
	free(failed);
	free(hosts);
	return rc;
}

static void choose_compression(const struct plan_options *opts, struct plan_row *row)
{
	const char *c = opts->compression;

	if (c == NULL || strcmp(c, "auto") == 0)
		c = plan_same_host(row->source, &row->target) ? "none" : "lz4";
	snprintf(row->compression, sizeof(row->compression), "%s", c);
}

int plan_build(const struct catalog *cat, const struct plan_options *opts,
	       const struct recoverconf *conf, struct plan *out, struct errbuf *err)
{
	size_t cap = 0;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (conf)
		rc = plan_from_file(cat, opts, conf, out, &cap, err);
	else if (opts->new_hosts)
		rc = plan_to_new_hosts(cat, opts, out, &cap, err);
	else
		for (size_t i = 0; i < cat->nsegs && rc == 0; i++) {
			const struct segment *s = &cat->segs[i];

			if (s->content < 0 || s->status != STATUS_DOWN)
				continue;
			rc = add_row(out, &cap, cat, s, NULL, false, choose_strategy(opts, 0, false), err);
		}
	/* Resolve every strategy now: an unknown name must fail before anything is touched. */
	for (size_t i = 0; i < out->nrows && rc == 0; i++) {
		const struct strategy *s = strategy_find(out->rows[i].strategy, err);

		out->rows[i].s = s;
		choose_compression(opts, &out->rows[i]);
		if (guard_path_text("the data directory", out->rows[i].target.datadir, err) != 0)
			rc = errbuf_prefix(err, SEG_FMT, SEG_ARGS(&out->rows[i].target));
		else if (s == NULL)
			rc = -1;
		else if (out->rows[i].relocated && (s->caps & STRATEGY_IN_PLACE_ONLY))
			rc = errbuf_set(err, "the %s strategy can only recover an instance in place; "
					     "dbid %d moves to a new location: use -F",
					s->name, out->rows[i].target.dbid);
	}
	if (rc != 0) {
		plan_free(out);
		return -1;
	}
	return 0;
}

void plan_free(struct plan *plan)
{
	for (size_t i = 0; i < plan->nrows; i++)
		segment_free(&plan->rows[i].target);
	free(plan->rows);
	plan->rows = NULL;
	plan->nrows = 0;
}

void plan_keep_only(struct plan *plan, const int *dbids, size_t ndbids)
{
	size_t kept = 0;

	for (size_t i = 0; i < plan->nrows; i++) {
		bool keep = false;

		for (size_t j = 0; j < ndbids && !keep; j++)
			keep = plan->rows[i].failed->dbid == dbids[j];
		if (keep)
			plan->rows[kept++] = plan->rows[i];
		else
			segment_free(&plan->rows[i].target);
	}
	plan->nrows = kept;
}

size_t plan_skip_unresolvable(struct plan *plan)
{
	size_t kept = 0, skipped = 0;

	for (size_t i = 0; i < plan->nrows; i++) {
		struct plan_row *row = &plan->rows[i];
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
		int gai = getaddrinfo(row->target.address, NULL, &hints, &res);

		if (res)
			freeaddrinfo(res);
		if (gai == 0) {
			plan->rows[kept++] = *row;
			continue;
		}
		log_warning("Not recovering segment " SEG_FMT " because its host %s cannot be resolved "
			    "(%s): fix the name, or give an address, and run gprecoverseg again",
			    SEG_ARGS(&row->target), row->target.address, gai_strerror(gai));
		segment_free(&row->target);
		skipped++;
	}
	plan->nrows = kept;
	return skipped;
}

static void show(const char *label, const char *value)
{
	log_info("   %-36s = %s", label, value);
}

static void show_int(const char *label, int value)
{
	log_info("   %-36s = %d", label, value);
}

void plan_display(const struct plan *plan, const struct plan_options *opts)
{
	static const char rule[] = "----------------------------------------------------------";

	log_info("Greenplum instance recovery parameters");
	log_info("%s", rule);
	if (opts->input_file)
		log_info("Recovery from configuration -i option supplied");
	else if (opts->new_hosts) {
		log_info("Recovery type              = Pool Host");
		log_info("Pool host for recovery     = %s", opts->new_hosts);
	} else
		log_info("Recovery type              = Standard");
	log_info("%s", rule);
	for (size_t i = 0; i < plan->nrows; i++) {
		const struct plan_row *r = &plan->rows[i];

		log_info("Recovery %zu of %zu", i + 1, plan->nrows);
		log_info("%s", rule);
		show("Synchronization mode", r->s->label);
		show("Failed instance host", r->failed->hostname);
		show("Failed instance address", r->failed->address);
		show("Failed instance directory", r->failed->datadir);
		show_int("Failed instance port", r->failed->port);
		show("Recovery Source instance host", r->source->hostname);
		show("Recovery Source instance address", r->source->address);
		show("Recovery Source instance directory", r->source->datadir);
		show_int("Recovery Source instance port", r->source->port);
		if (r->estimated) {
			char bytes[32];

			units_format_bytes(r->estimate_bytes, bytes, sizeof(bytes));
			show("Bytes to move (estimate)", bytes);
			if (r->estimate_method[0])
				show("Method (estimate)", r->estimate_method);
			if (r->estimate_replay > 0) {
				units_format_bytes(r->estimate_replay, bytes, sizeof(bytes));
				show("WAL to replay after the copy (estimate)", bytes);
			}
		} else if (r->estimate_skipped) {
			show("Bytes to move (estimate)", "not estimated with -a (it reads what the copy "
							 "reads); the log says what the copy moves");
		} else {
			show("Bytes to move (estimate)", "known once the copy has looked at the target");
		}
		if (r->relocated) {
			show("Recovery Target instance host", r->target.hostname);
			show("Recovery Target instance address", r->target.address);
			show("Recovery Target instance directory", r->target.datadir);
			show_int("Recovery Target instance port", r->target.port);
		} else {
			show("Recovery Target", "in-place");
		}
		if (opts->max_rate_kbps > 0 && (r->s->caps & STRATEGY_RATE_LIMITED)) {
			char rate[32];

			snprintf(rate, sizeof(rate), "%ld kB/s", opts->max_rate_kbps);
			show("Maximum Transfer Rate", rate);
		}
		if (r->s->caps & STRATEGY_COMPRESSES)
			show("Compression on the source", r->compression);
		log_info("%s", rule);
	}
	{
		uint64_t total = 0;
		size_t known = 0;
		char bytes[32];

		for (size_t i = 0; i < plan->nrows; i++)
			if (plan->rows[i].estimated) {
				total += plan->rows[i].estimate_bytes;
				known++;
			}
		units_format_bytes(total, bytes, sizeof(bytes));
		if (known > 0)
			log_info("Bytes to move in all (estimate) = %s, for %zu of %zu segment(s)", bytes,
				 known, plan->nrows);
	}
}
