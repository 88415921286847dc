#include "incremental/filemap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "targetmark.h"
#include "xalloc.h"

#define GLOBAL_TABLESPACE_OID 1664u
#define DEFAULT_TABLESPACE_OID 1663u
#define MAIN_FORK 0

/*
 * The entries live in an array of pointers (insertion order until filemap_decide sorts it into
 * execution order) and in an open-addressing hash table (linear probing, power-of-two size, at
 * most half full) keyed by path. Entries are allocated one by one so that pointers stay valid.
 */
struct filemap {
	struct file_entry **entries;
	size_t count, alloc;
	struct file_entry **slots;
	size_t nslots; /* power of two */
};

static uint64_t hash_path(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (; *s; s++) {
		h ^= (unsigned char) *s;
		h *= 1099511628211ull;
	}
	return h ^ (h >> 29);
}

struct filemap *filemap_create(void)
{
	struct filemap *fm = xcalloc(1, sizeof(*fm));

	fm->nslots = 1024;
	fm->slots = xcalloc(fm->nslots, sizeof(*fm->slots));
	return fm;
}

void filemap_free(struct filemap *fm)
{
	if (fm == NULL)
		return;
	for (size_t i = 0; i < fm->count; i++) {
		struct file_entry *e = fm->entries[i];

		free(e->path);
		free(e->source_link);
		free(e->target_link);
		blockmap_free(&e->blocks);
		free(e);
	}
	free(fm->entries);
	free(fm->slots);
	free(fm);
}

static size_t find_slot(struct file_entry *const *slots, size_t nslots, const char *path)
{
	size_t mask = nslots - 1;
	size_t i = (size_t) hash_path(path) & mask;

	while (slots[i] != NULL && strcmp(slots[i]->path, path) != 0)
		i = (i + 1) & mask;
	return i;
}

static void grow_table(struct filemap *fm)
{
	size_t nslots = fm->nslots * 2;
	struct file_entry **slots = xcalloc(nslots, sizeof(*slots));

	for (size_t i = 0; i < fm->nslots; i++)
		if (fm->slots[i] != NULL)
			slots[find_slot(slots, nslots, fm->slots[i]->path)] = fm->slots[i];
	free(fm->slots);
	fm->slots = slots;
	fm->nslots = nslots;
}

/* "./a/b/" → "a/b": the form every lookup uses. */
static char *normalize_path(const char *path)
{
	size_t len;

	while (path[0] == '.' && path[1] == '/')
		path += 2;
	while (path[0] == '/')
		path++;
	len = strlen(path);
	while (len > 0 && path[len - 1] == '/')
		len--;
	return xstrndup(path, len);
}

struct file_entry *filemap_lookup(struct filemap *fm, const char *path)
{
	char *norm = normalize_path(path);
	struct file_entry *e = fm->slots[find_slot(fm->slots, fm->nslots, norm)];

	free(norm);
	return e;
}

static struct file_entry *get_or_add(struct filemap *fm, const char *path)
{
	char *norm = normalize_path(path);
	size_t slot = find_slot(fm->slots, fm->nslots, norm);
	struct file_entry *e = fm->slots[slot];

	if (e != NULL) {
		free(norm);
		return e;
	}
	if ((fm->count + 1) * 2 > fm->nslots) {
		grow_table(fm);
		slot = find_slot(fm->slots, fm->nslots, norm);
	}
	e = xcalloc(1, sizeof(*e));
	e->path = norm;
	e->is_relation = filemap_is_relation_file(norm);
	e->blocks = (struct blockmap) BLOCKMAP_INIT;
	fm->slots[slot] = e;
	if (fm->count == fm->alloc) {
		fm->alloc = fm->alloc ? fm->alloc * 2 : 1024;
		fm->entries = xrealloc(fm->entries, fm->alloc * sizeof(*fm->entries));
	}
	fm->entries[fm->count++] = e;
	return e;
}

/* pg_wal is always a directory, even where it is a symlink (as pg_rewind treats it). */
static enum file_type effective_type(const char *path, enum file_type type)
{
	if (type == FILE_TYPE_SYMLINK && strcmp(path, "pg_wal") == 0)
		return FILE_TYPE_DIRECTORY;
	return type;
}

void filemap_add_source(struct filemap *fm, const char *path, enum file_type type, uint64_t size,
			const char *link)
{
	struct file_entry *e = get_or_add(fm, path);

	e->source_type = effective_type(e->path, type);
	e->source_size = e->source_type == FILE_TYPE_REGULAR ? size : 0;
	free(e->source_link);
	e->source_link = e->source_type == FILE_TYPE_SYMLINK && link ? xstrdup(link) : NULL;
}

void filemap_add_target(struct filemap *fm, const char *path, enum file_type type, uint64_t size,
			const char *link)
{
	struct file_entry *e = get_or_add(fm, path);

	e->target_type = effective_type(e->path, type);
	e->target_size = e->target_type == FILE_TYPE_REGULAR ? size : 0;
	free(e->target_link);
	e->target_link = e->target_type == FILE_TYPE_SYMLINK && link ? xstrdup(link) : NULL;
}

void filemap_relation_path(char *buf, size_t len, uint32_t spc, uint32_t db, uint32_t rel,
			   uint32_t segno)
{
	char seg[16] = "";

	if (segno > 0)
		snprintf(seg, sizeof(seg), ".%u", segno);
	if (spc == GLOBAL_TABLESPACE_OID)
		snprintf(buf, len, "global/%u%s", rel, seg);
	else if (spc == DEFAULT_TABLESPACE_OID)
		snprintf(buf, len, "base/%u/%u%s", db, rel, seg);
	else
		snprintf(buf, len, "pg_tblspc/%u/%s/%u/%u%s", spc, TABLESPACE_VERSION_DIR, db, rel,
			 seg);
}

/* Decimal digits at *p into a 32-bit value; advances *p. No digits or overflow: false. */
static bool parse_oid(const char **p, uint32_t *out)
{
	const char *s = *p;
	uint64_t v = 0;

	if (*s < '0' || *s > '9')
		return false;
	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (uint64_t) (*s - '0');
		if (v > UINT32_MAX)
			return false;
		s++;
	}
	*p = s;
	*out = (uint32_t) v;
	return true;
}

static bool skip_literal(const char **p, const char *lit)
{
	size_t n = strlen(lit);

	if (strncmp(*p, lit, n) != 0)
		return false;
	*p += n;
	return true;
}

bool filemap_is_relation_file(const char *path)
{
	const char *p = path;
	uint32_t spc, db = 0, rel, segno = 0;
	char check[256];

	if (skip_literal(&p, "global/")) {
		spc = GLOBAL_TABLESPACE_OID;
	} else if (skip_literal(&p, "base/")) {
		spc = DEFAULT_TABLESPACE_OID;
		if (!parse_oid(&p, &db) || !skip_literal(&p, "/"))
			return false;
	} else if (skip_literal(&p, "pg_tblspc/")) {
		if (!parse_oid(&p, &spc) || !skip_literal(&p, "/" TABLESPACE_VERSION_DIR "/") ||
		    !parse_oid(&p, &db) || !skip_literal(&p, "/"))
			return false;
	} else {
		return false;
	}
	if (!parse_oid(&p, &rel))
		return false;
	if (*p == '.') {
		p++;
		if (!parse_oid(&p, &segno))
			return false;
	}
	if (*p != '\0')
		return false;
	/* Regenerate the path: leading zeros, ".0", a tablespace path naming the built-in
	 * tablespaces and the like do not come back the same. */
	filemap_relation_path(check, sizeof(check), spc, db, rel, segno);
	return strcmp(check, path) == 0;
}

static const char *basename_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

bool filemap_is_excluded(const char *path)
{
	static const char *const files[] = {
		"postgresql.auto.conf.tmp", "current_logfiles.tmp", "backup_label",
		"tablespace_map",           "backup_manifest",      "postmaster.pid",
		"postmaster.opts",
	};
	static const char *const dir_contents[] = {
		"pg_stat_tmp", "pg_replslot", "pg_dynshmem", "pg_notify",
		"pg_serial",   "pg_snapshots", "pg_subtrans",
	};
	const char *base = basename_of(path);

	/* segrecover's own lock and markers: a source that was itself rebuilt may still hold one. */
	if (strchr(path, '/') == NULL && targetmark_is_own_file(path))
		return true;
	/* Temporary files and directories anywhere: a path component starting with pgsql_tmp. */
	for (const char *c = path; c != NULL; c = strchr(c, '/')) {
		if (*c == '/')
			c++;
		if (strncmp(c, "pgsql_tmp", 9) == 0)
			return true;
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (strcmp(base, files[i]) == 0)
			return true;
	if (strncmp(base, "pg_internal.init", 16) == 0)
		return true;
	for (size_t i = 0; i < sizeof(dir_contents) / sizeof(dir_contents[0]); i++) {
		size_t n = strlen(dir_contents[i]);

		if (strncmp(path, dir_contents[i], n) == 0 && path[n] == '/' && path[n + 1] != '\0')
			return true;
	}
	return false;
}

void filemap_note_block(struct filemap *fm, uint32_t spc, uint32_t db, uint32_t rel, int fork,
			uint32_t blkno)
{
	char path[256];
	struct file_entry *e;
	uint32_t bit = blkno % RELSEG_BLOCKS;
	uint64_t end = ((uint64_t) bit + 1) * BLOCK_SIZE;

	if (fork != MAIN_FORK)
		return; /* other forks are copied whole */
	filemap_relation_path(path, sizeof(path), spc, db, rel, blkno / RELSEG_BLOCKS);
	e = fm->slots[find_slot(fm->slots, fm->nslots, path)];
	if (e == NULL || e->source_type != FILE_TYPE_REGULAR ||
	    e->target_type != FILE_TYPE_REGULAR)
		return; /* created or removed as a whole: the file's own action covers it */
	if (end > e->source_size || end > e->target_size)
		return; /* beyond the end on one side: COPY_TAIL or TRUNCATE covers it */
	blockmap_add(&e->blocks, bit);
}

void filemap_keep_wal(struct filemap *fm, const char *path)
{
	get_or_add(fm, path)->keep_wal = true;
}

int filemap_force_copy(struct filemap *fm, const char *path, struct errbuf *err)
{
	struct file_entry *e = filemap_lookup(fm, path);

	if (e == NULL || e->source_type == FILE_TYPE_NONE)
		return errbuf_set(err, "cannot copy \"%s\" from the source: the source has no such file",
				  path);
	if (e->source_type != FILE_TYPE_REGULAR)
		return errbuf_set(err, "cannot copy \"%s\" from the source: it is not a regular file there",
				  path);
	e->force_copy = true;
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Decisions */

/* Does PATH equal PREFIX or lie under it? */
static bool path_within(const char *path, const char *prefix, size_t plen)
{
	return strncmp(path, prefix, plen) == 0 && (path[plen] == '\0' || path[plen] == '/');
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lf = strlen(suffix);

	return ls >= lf && strcmp(s + ls - lf, suffix) == 0;
}

enum wal_kind {
	WAL_NOT,      /* not under pg_wal, or pg_wal itself / pg_wal/archive_status: normal rules */
	WAL_HISTORY,  /* pg_wal/<tli>.history: normal rules */
	WAL_SEGMENT,  /* a segment or anything else in pg_wal: never copied, removed unless kept */
	WAL_STATUS,   /* pg_wal/archive_status/<name>.ready|.done: follows pg_wal/<name> */
};

static enum wal_kind classify_wal(const char *path)
{
	const char *rest;

	if (strncmp(path, "pg_wal/", 7) != 0)
		return WAL_NOT;
	rest = path + 7;
	if (strcmp(rest, "archive_status") == 0)
		return WAL_NOT;
	if (strncmp(rest, "archive_status/", 15) == 0) {
		const char *name = rest + 15;

		if (strchr(name, '/') == NULL && (ends_with(name, ".ready") || ends_with(name, ".done")))
			return WAL_STATUS;
		return WAL_SEGMENT;
	}
	if (strchr(rest, '/') == NULL && ends_with(rest, ".history"))
		return WAL_HISTORY;
	return WAL_SEGMENT;
}

static int type_conflict(const struct file_entry *e, struct errbuf *err)
{
	static const char *const names[] = { "missing", "a regular file", "a directory",
					     "a symbolic link" };

	return errbuf_set(err,
			  "\"%s\" is %s on the source but %s on the target; the incremental "
			  "strategy cannot reconcile that: use a full recovery (-F)",
			  e->path, names[e->source_type], names[e->target_type]);
}

/* The normal rules (pg_rewind's decide_file_action, steps 3 to 6). */
static int decide_normal(struct file_entry *e, struct errbuf *err)
{
	if (e->source_type == FILE_TYPE_NONE && e->target_type == FILE_TYPE_NONE) {
		e->action = ACTION_NONE; /* only known as a WAL file to keep */
		return 0;
	}
	if (e->target_type == FILE_TYPE_NONE) {
		e->action = e->source_type == FILE_TYPE_REGULAR ? ACTION_COPY : ACTION_CREATE;
		return 0;
	}
	if (e->source_type == FILE_TYPE_NONE) {
		e->action = e->keep_wal ? ACTION_NONE : ACTION_REMOVE;
		return 0;
	}
	if (e->source_type != e->target_type)
		return type_conflict(e, err);
	if (ends_with(e->path, "PG_VERSION") || e->source_type != FILE_TYPE_REGULAR) {
		e->action = ACTION_NONE;
		return 0;
	}
	if (!e->is_relation) {
		e->action = ACTION_COPY;
		return 0;
	}
	if (e->target_size < e->source_size)
		e->action = ACTION_COPY_TAIL;
	else if (e->target_size > e->source_size)
		e->action = ACTION_TRUNCATE;
	else
		e->action = ACTION_NONE;
	return 0;
}

struct decide_ctx {
	const char *logdir;
	size_t logdir_len;
	const struct filemap_rules *rules;
};

static bool is_target_own(const struct decide_ctx *c, const char *path)
{
	if (c->rules == NULL || c->rules->keep_target == NULL)
		return false;
	for (size_t i = 0; c->rules->keep_target[i] != NULL; i++) {
		const char *name = c->rules->keep_target[i];

		if (path_within(path, name, strlen(name)))
			return true;
	}
	return false;
}

/* First pass: everything except archive_status files, which depend on their segment's action. */
static int decide_one(struct filemap *fm, struct file_entry *e, const struct decide_ctx *c,
		      struct errbuf *err)
{
	(void) fm;
	if (strcmp(e->path, "global/pg_control") == 0 || strstr(e->path, ".DS_Store") != NULL) {
		e->action = ACTION_NONE;
		return 0;
	}
	if (is_target_own(c, e->path)) {
		e->action = ACTION_NONE;
		return 0;
	}
	if (c->logdir != NULL && path_within(e->path, c->logdir, c->logdir_len)) {
		/* The directory itself is made when only the source has it, never removed. */
		if (e->path[c->logdir_len] == '\0' && e->target_type == FILE_TYPE_NONE &&
		    e->source_type != FILE_TYPE_NONE)
			return decide_normal(e, err);
		e->action = ACTION_NONE;
		return 0;
	}
	if (e->force_copy && e->source_type == FILE_TYPE_REGULAR) {
		if (e->target_type != FILE_TYPE_NONE && e->target_type != FILE_TYPE_REGULAR)
			return type_conflict(e, err);
		e->action = ACTION_COPY;
		return 0;
	}
	if (filemap_is_excluded(e->path)) {
		e->action = e->target_type != FILE_TYPE_NONE ? ACTION_REMOVE : ACTION_NONE;
		return 0;
	}
	if (e->is_relation && e->source_type != FILE_TYPE_NONE &&
	    e->source_type != FILE_TYPE_REGULAR)
		return errbuf_set(err,
				  "\"%s\" is a relation data file but not a regular file on the "
				  "source; use a full recovery (-F)",
				  e->path);
	switch (classify_wal(e->path)) {
	case WAL_NOT:
		/* The target's own archive_status directory stays (its kept files live there). */
		if (strcmp(e->path, "pg_wal/archive_status") == 0 &&
		    e->source_type == FILE_TYPE_NONE) {
			e->action = ACTION_NONE;
			return 0;
		}
		return decide_normal(e, err);
	case WAL_HISTORY:
		return decide_normal(e, err);
	case WAL_SEGMENT:
		e->action = e->target_type != FILE_TYPE_NONE && !e->keep_wal ? ACTION_REMOVE
									      : ACTION_NONE;
		return 0;
	case WAL_STATUS:
		e->action = ACTION_UNDECIDED; /* second pass */
		return 0;
	}
	return 0;
}

/* pg_wal/archive_status/<name>.ready|.done: removed with its file pg_wal/<name>, else kept. */
static void decide_status(struct filemap *fm, struct file_entry *e)
{
	const char *name = e->path + strlen("pg_wal/archive_status/");
	size_t nlen = strlen(name) - (ends_with(name, ".ready") ? 6 : 5);
	char *seg_path = xasprintf("pg_wal/%.*s", (int) nlen, name);
	struct file_entry *seg = fm->slots[find_slot(fm->slots, fm->nslots, seg_path)];
	bool seg_stays;

	free(seg_path);
	/* The segment stays on the target when the target has it and it is not removed. */
	seg_stays = seg != NULL && seg->target_type != FILE_TYPE_NONE && seg->action != ACTION_REMOVE;
	if (e->target_type == FILE_TYPE_NONE)
		e->action = ACTION_NONE; /* never copied from the source */
	else
		e->action = seg_stays || e->keep_wal ? ACTION_NONE : ACTION_REMOVE;
}

static int compare_entries(const void *a, const void *b)
{
	const struct file_entry *x = *(const struct file_entry *const *) a;
	const struct file_entry *y = *(const struct file_entry *const *) b;
	int c;

	if (x->action != y->action)
		return x->action < y->action ? -1 : 1;
	c = strcmp(x->path, y->path);
	return x->action == ACTION_REMOVE ? -c : c;
}

int filemap_decide(struct filemap *fm, const struct filemap_rules *rules, struct errbuf *err)
{
	struct decide_ctx c = { NULL, 0, rules };
	char *logdir = NULL;

	if (rules != NULL && rules->log_directory != NULL && rules->log_directory[0] != '/') {
		logdir = normalize_path(rules->log_directory);
		/* "." or a path leaving the directory cannot name the log directory's contents */
		if (logdir[0] == '\0' || strcmp(logdir, ".") == 0 || strstr(logdir, "..") != NULL) {
			free(logdir);
			logdir = NULL;
		} else {
			c.logdir = logdir;
			c.logdir_len = strlen(logdir);
		}
	}
	for (size_t i = 0; i < fm->count; i++) {
		fm->entries[i]->action = ACTION_UNDECIDED;
		if (decide_one(fm, fm->entries[i], &c, err) != 0) {
			free(logdir);
			return -1;
		}
	}
	for (size_t i = 0; i < fm->count; i++)
		if (fm->entries[i]->action == ACTION_UNDECIDED)
			decide_status(fm, fm->entries[i]);
	free(logdir);
	qsort(fm->entries, fm->count, sizeof(*fm->entries), compare_entries);
	return 0;
}

size_t filemap_count(const struct filemap *fm)
{
	return fm->count;
}

struct file_entry *filemap_entry(struct filemap *fm, size_t i)
{
	return i < fm->count ? fm->entries[i] : NULL;
}

void filemap_totals(const struct filemap *fm, struct filemap_totals *t)
{
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < fm->count; i++) {
		const struct file_entry *e = fm->entries[i];

		if (e->source_type == FILE_TYPE_REGULAR)
			t->source_bytes += e->source_size;
		switch (e->action) {
		case ACTION_COPY:
			t->copy++;
			t->fetch_bytes += e->source_size;
			break;
		case ACTION_COPY_TAIL:
			t->copy_tail++;
			t->fetch_bytes += e->source_size - e->target_size;
			break;
		case ACTION_TRUNCATE:
			t->truncate++;
			break;
		case ACTION_REMOVE:
			t->remove++;
			break;
		case ACTION_CREATE:
			t->create++;
			break;
		case ACTION_UNDECIDED:
		case ACTION_NONE:
			break;
		}
		if (e->action != ACTION_COPY && e->action != ACTION_REMOVE) {
			t->blocks += e->blocks.count;
			t->fetch_bytes += (uint64_t) e->blocks.count * BLOCK_SIZE;
		}
	}
}
