/*
 * Unit tests of targetio: writes, truncation, removal, directories and links in a temporary data
 * directory; refusal of paths that leave it (.., absolute, symbolic links other than pg_wal and
 * pg_tblspc/<oid>); the file list of a crafted tree; sync.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "base/targetio.h"
#include "unit.h"
#include "xalloc.h"

static char *tmp_root; /* holds data/ and outside/ */
static char *datadir, *outside;

static void setup(void)
{
	char tmpl[] = "/tmp/segrecover-targetio.XXXXXX";
	struct errbuf err;

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	tmp_root = xstrdup(tmpl);
	datadir = path_join(tmp_root, "data");
	outside = path_join(tmp_root, "outside");
	ck_assert_msg(mkdir_p(datadir, 0700, &err) == 0, "%s", err.msg);
	ck_assert_msg(mkdir_p(outside, 0700, &err) == 0, "%s", err.msg);
}

static void teardown(void)
{
	struct errbuf err;

	remove_tree(tmp_root, &err);
	free(tmp_root);
	free(datadir);
	free(outside);
}

static char *in_data(const char *rel)
{
	return path_join(datadir, rel);
}

static void make_dir(const char *rel)
{
	char *p = in_data(rel);
	struct errbuf err;

	ck_assert_msg(mkdir_p(p, 0700, &err) == 0, "%s", err.msg);
	free(p);
}

static void make_file(const char *path, const char *text)
{
	struct errbuf err;

	ck_assert_msg(write_file_durable(path, text, strlen(text), 0600, &err) == 0, "%s", err.msg);
}

/* DIR/REL made, as a file with TEXT or (TEXT NULL) a directory. */
static void make_at(const char *dir, const char *rel, const char *text)
{
	char *p = path_join(dir, rel);
	struct errbuf err;

	if (text)
		make_file(p, text);
	else
		ck_assert_msg(mkdir_p(p, 0700, &err) == 0, "%s", err.msg);
	free(p);
}

static bool exists_at(const char *dir, const char *rel)
{
	char *p = path_join(dir, rel);
	bool yes = path_exists(p);

	free(p);
	return yes;
}

static char *read_rel(const char *rel, size_t *len)
{
	char *p = in_data(rel), *data = NULL;
	struct errbuf err;

	ck_assert_msg(read_small_file(p, &data, len, &err) == 0, "%s", err.msg);
	free(p);
	return data;
}

static bool exists_rel(const char *rel)
{
	char *p = in_data(rel);
	bool yes = path_exists(p);

	free(p);
	return yes;
}

static void ok(int rc, const struct errbuf *err)
{
	ck_assert_msg(rc == 0, "failed: %s", err->msg);
}

static void fails(int rc, const struct errbuf *err, const char *want)
{
	ck_assert_int_eq(rc, -1);
	ck_assert_msg(strstr(err->msg, want) != NULL, "\"%s\" lacks \"%s\"", err->msg, want);
}

static uint64_t last_progress;
static int progress_calls;

static void on_write(void *arg, uint64_t written)
{
	(void) arg;
	last_progress = written;
	progress_calls++;
}

/* ------------------------------------------------------------------------------------------ */

START_TEST(test_write_and_truncate)
{
	struct targetio *tio = targetio_create(datadir, on_write, NULL);
	struct errbuf err;
	char *data;
	size_t len;
	struct stat st;
	char *p;

	make_dir("base/1");
	last_progress = 0;
	progress_calls = 0;
	ok(targetio_write(tio, "base/1/100", 8192, "BBBB", 4, &err), &err);
	ok(targetio_write(tio, "base/1/100", 0, "AAAA", 4, &err), &err);
	ck_assert_uint_eq(targetio_bytes_written(tio), 8);
	ck_assert_uint_eq(last_progress, 8);
	ck_assert_int_eq(progress_calls, 2);
	data = read_rel("base/1/100", &len);
	ck_assert_uint_eq(len, 8196);
	ck_assert(memcmp(data, "AAAA", 4) == 0);
	ck_assert(memcmp(data + 8192, "BBBB", 4) == 0);
	ck_assert_int_eq(data[100], 0);
	free(data);
	p = in_data("base/1/100");
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	free(p);

	ok(targetio_truncate(tio, "base/1/100", 5000, &err), &err);
	data = read_rel("base/1/100", &len);
	ck_assert_uint_eq(len, 5000);
	free(data);
	/* Truncating a file that does not exist is an error (pg_rewind's TRUNCATE needs it). */
	fails(targetio_truncate(tio, "base/1/nothere", 0, &err), &err, "base/1/nothere");

	/* truncate_whole: cuts an existing file, creates a missing one */
	ok(targetio_truncate_whole(tio, "base/1/100", &err), &err);
	data = read_rel("base/1/100", &len);
	ck_assert_uint_eq(len, 0);
	free(data);
	ok(targetio_truncate_whole(tio, "base/1/new", &err), &err);
	ck_assert(exists_rel("base/1/new"));
	ok(targetio_write(tio, "base/1/new", 0, "xyz", 3, &err), &err);

	/* A missing directory is an error naming the path. */
	fails(targetio_write(tio, "base/2/100", 0, "x", 1, &err), &err, "base/2");
	ok(targetio_sync(tio, &err), &err);
	targetio_free(tio);
	data = read_rel("base/1/new", &len);
	ck_assert_str_eq(data, "xyz");
	free(data);
}
END_TEST

/* More files than the descriptor cache holds, written interleaved: every byte lands. */
START_TEST(test_many_files_interleaved)
{
	struct targetio *tio = targetio_create(datadir, NULL, NULL);
	struct errbuf err;
	enum { NFILES = 40, NBLOCKS = 20 };
	static char block[8192];

	make_dir("base/7");
	for (int b = 0; b < NBLOCKS; b++)
		for (int f = 0; f < NFILES; f++) {
			char path[64];

			memset(block, 'a' + (f + b) % 26, sizeof(block));
			snprintf(path, sizeof(path), "base/7/%d", 1000 + f);
			ok(targetio_write(tio, path, (uint64_t) b * sizeof(block), block,
					  sizeof(block), &err),
			   &err);
		}
	ck_assert_uint_eq(targetio_bytes_written(tio), (uint64_t) NFILES * NBLOCKS * 8192);
	ok(targetio_sync(tio, &err), &err);
	ok(targetio_sync(tio, &err), &err); /* nothing new: fine */
	targetio_free(tio);
	for (int f = 0; f < NFILES; f++) {
		char path[64], *data;
		size_t len;

		snprintf(path, sizeof(path), "base/7/%d", 1000 + f);
		data = read_rel(path, &len);
		ck_assert_uint_eq(len, NBLOCKS * 8192);
		for (int b = 0; b < NBLOCKS; b++)
			ck_assert_msg(data[b * 8192] == 'a' + (f + b) % 26 &&
					      data[b * 8192 + 8191] == 'a' + (f + b) % 26,
				      "%s block %d", path, b);
		free(data);
	}
}
END_TEST

START_TEST(test_remove_mkdir_symlink)
{
	struct targetio *tio = targetio_create(datadir, NULL, NULL);
	struct errbuf err;
	char buf[256];
	char *p;
	ssize_t n;

	ok(targetio_mkdir(tio, "base", &err), &err);
	ok(targetio_mkdir(tio, "base/5", &err), &err);
	ok(targetio_mkdir(tio, "base/5", &err), &err); /* already there: fine */
	ok(targetio_write(tio, "base/5/1", 0, "x", 1, &err), &err);
	fails(targetio_mkdir(tio, "base/5/1", &err), &err, "base/5/1"); /* a file is in the way */
	fails(targetio_mkdir(tio, "nope/deeper", &err), &err, "nope");

	/* a non-empty directory is not removed */
	fails(targetio_remove(tio, "base/5", FILE_TYPE_DIRECTORY, &err), &err, "base/5");
	ok(targetio_remove(tio, "base/5/1", FILE_TYPE_REGULAR, &err), &err);
	ck_assert(!exists_rel("base/5/1"));
	ok(targetio_remove(tio, "base/5/1", FILE_TYPE_REGULAR, &err), &err); /* missing: fine */
	ok(targetio_remove(tio, "gone/away/f", FILE_TYPE_REGULAR, &err), &err);
	ok(targetio_remove(tio, "base/5", FILE_TYPE_DIRECTORY, &err), &err);
	ck_assert(!exists_rel("base/5"));
	/* a stale type: a directory listed as a file, and the other way round */
	ok(targetio_mkdir(tio, "base/6", &err), &err);
	ok(targetio_remove(tio, "base/6", FILE_TYPE_REGULAR, &err), &err);
	ck_assert(!exists_rel("base/6"));
	ok(targetio_write(tio, "base/f", 0, "x", 1, &err), &err);
	ok(targetio_remove(tio, "base/f", FILE_TYPE_DIRECTORY, &err), &err);
	ck_assert(!exists_rel("base/f"));

	/* tablespace links: made, made again to the same place, refused to another, removed */
	ok(targetio_mkdir(tio, "pg_tblspc", &err), &err);
	ok(targetio_symlink(tio, "pg_tblspc/16400", outside, &err), &err);
	p = in_data("pg_tblspc/16400");
	n = readlink(p, buf, sizeof(buf) - 1);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_str_eq(buf, outside);
	ok(targetio_symlink(tio, "pg_tblspc/16400", outside, &err), &err);
	fails(targetio_symlink(tio, "pg_tblspc/16400", "/elsewhere", &err), &err, "16400");
	/* through it: a tablespace directory and a file in it */
	ok(targetio_mkdir(tio, "pg_tblspc/16400/PG_15_202209061", &err), &err);
	ok(targetio_write(tio, "pg_tblspc/16400/PG_15_202209061/f", 0, "ts", 2, &err), &err);
	ck_assert(exists_at(outside, "PG_15_202209061/f"));
	ok(targetio_remove(tio, "pg_tblspc/16400/PG_15_202209061/f", FILE_TYPE_REGULAR, &err), &err);
	ok(targetio_remove(tio, "pg_tblspc/16400/PG_15_202209061", FILE_TYPE_DIRECTORY, &err), &err);
	ok(targetio_remove(tio, "pg_tblspc/16400", FILE_TYPE_SYMLINK, &err), &err);
	ck_assert_int_eq(lstat(p, &(struct stat) { 0 }), -1);
	ck_assert(path_exists(outside)); /* the link went, not what it pointed to */
	free(p);
	/* links elsewhere are not made */
	fails(targetio_symlink(tio, "base/evil", outside, &err), &err, "base/evil");
	fails(targetio_symlink(tio, "pg_tblspc/1/2", outside, &err), &err, "pg_tblspc/1/2");
	ck_assert(!exists_rel("base/evil"));
	ok(targetio_sync(tio, &err), &err);
	targetio_free(tio);
}
END_TEST

START_TEST(test_refuses_escapes)
{
	struct targetio *tio = targetio_create(datadir, NULL, NULL);
	struct errbuf err;
	char *p, *victim;

	fails(targetio_write(tio, "../x", 0, "x", 1, &err), &err, "../x");
	fails(targetio_write(tio, "base/../../x", 0, "x", 1, &err), &err, "base/../../x");
	fails(targetio_write(tio, "/etc/passwd", 0, "x", 1, &err), &err, "/etc/passwd");
	fails(targetio_write(tio, "", 0, "x", 1, &err), &err, "refusing");
	fails(targetio_mkdir(tio, "../y", &err), &err, "../y");
	fails(targetio_remove(tio, "../outside", FILE_TYPE_DIRECTORY, &err), &err, "../outside");
	fails(targetio_truncate_whole(tio, "/tmp/x", &err), &err, "/tmp/x");
	fails(targetio_symlink(tio, "../link", "/", &err), &err, "../link");
	fails(targetio_write_file(tio, "../label", "x", 1, &err), &err, "../label");
	ck_assert(path_exists(outside));

	/* A directory link that points outside: not gone through. */
	p = in_data("base");
	ck_assert_int_eq(symlink(outside, p), 0);
	free(p);
	fails(targetio_write(tio, "base/1", 0, "x", 1, &err), &err, "symbolic link");
	fails(targetio_mkdir(tio, "base/2", &err), &err, "symbolic link");
	fails(targetio_truncate_whole(tio, "base/3", &err), &err, "symbolic link");
	fails(targetio_remove(tio, "base/4", FILE_TYPE_REGULAR, &err), &err, "symbolic link");
	victim = path_join(outside, "1");
	ck_assert(!path_exists(victim));
	free(victim);
	/* A file link that points outside: not written through, nor truncated. */
	victim = path_join(outside, "victim");
	make_file(victim, "precious");
	p = in_data("postgresql.conf");
	ck_assert_int_eq(symlink(victim, p), 0);
	free(p);
	fails(targetio_write(tio, "postgresql.conf", 0, "x", 1, &err), &err, "symbolic link");
	fails(targetio_truncate_whole(tio, "postgresql.conf", &err), &err, "symbolic link");
	fails(targetio_truncate(tio, "postgresql.conf", 0, &err), &err, "symbolic link");
	{
		char *data;
		size_t len;

		ck_assert_msg(read_small_file(victim, &data, &len, &err) == 0, "%s", err.msg);
		ck_assert_str_eq(data, "precious");
		free(data);
	}
	/* Removing the link itself is fine and leaves its target alone. */
	ok(targetio_remove(tio, "postgresql.conf", FILE_TYPE_REGULAR, &err), &err);
	ck_assert(path_exists(victim));
	free(victim);
	/* A link below pg_tblspc/<oid> is not a tablespace link. */
	make_dir("pg_tblspc/16400");
	p = in_data("pg_tblspc/16400/PG_15_202209061");
	ck_assert_int_eq(symlink(outside, p), 0);
	free(p);
	fails(targetio_write(tio, "pg_tblspc/16400/PG_15_202209061/x", 0, "x", 1, &err), &err,
	      "symbolic link");
	/* pg_wal as a link is gone through. */
	{
		char *walreal = path_join(tmp_root, "walreal");
		char *link = in_data("pg_wal");
		char *seg = path_join(walreal, "000000010000000000000001");

		ck_assert_msg(mkdir_p(walreal, 0700, &err) == 0, "%s", err.msg);
		ck_assert_int_eq(symlink(walreal, link), 0);
		ok(targetio_write(tio, "pg_wal/000000010000000000000001", 0, "w", 1, &err), &err);
		ck_assert(path_exists(seg));
		ok(targetio_remove(tio, "pg_wal/000000010000000000000001", FILE_TYPE_REGULAR, &err),
		   &err);
		ck_assert(!path_exists(seg));
		free(walreal);
		free(link);
		free(seg);
	}
	targetio_free(tio);
}
END_TEST

START_TEST(test_write_file)
{
	struct targetio *tio = targetio_create(datadir, NULL, NULL);
	struct errbuf err;
	char *data;
	size_t len;

	ok(targetio_write(tio, "backup_label", 0, "old contents that are long", 26, &err), &err);
	ok(targetio_write_file(tio, "backup_label", "new", 3, &err), &err);
	data = read_rel("backup_label", &len);
	ck_assert_str_eq(data, "new");
	free(data);
	ck_assert(!exists_rel("backup_label.segrecover.tmp"));
	/* the descriptor cached for the old file is not used for the new one */
	ok(targetio_write(tio, "backup_label", 3, "!", 1, &err), &err);
	data = read_rel("backup_label", &len);
	ck_assert_str_eq(data, "new!");
	free(data);
	ok(targetio_sync(tio, &err), &err);
	targetio_free(tio);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */

struct listed {
	char *path;
	enum file_type type;
	uint64_t size;
	char *link;
};

struct listing {
	struct listed items[64];
	size_t n;
};

static void collect(void *arg, const char *path, enum file_type type, uint64_t size,
		    const char *link)
{
	struct listing *l = arg;

	ck_assert_uint_lt(l->n, 64);
	l->items[l->n].path = xstrdup(path);
	l->items[l->n].type = type;
	l->items[l->n].size = size;
	l->items[l->n].link = link ? xstrdup(link) : NULL;
	l->n++;
}

static const struct listed *find(const struct listing *l, const char *path)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->items[i].path, path) == 0)
			return &l->items[i];
	return NULL;
}

static void expect_listed(const struct listing *l, const char *path, enum file_type type,
			  uint64_t size, const char *link)
{
	const struct listed *e = find(l, path);

	ck_assert_msg(e != NULL, "%s not listed", path);
	ck_assert_msg(e->type == type, "%s: type %d, expected %d", path, e->type, type);
	ck_assert_msg(e->size == size, "%s: size %llu, expected %llu", path,
		      (unsigned long long) e->size, (unsigned long long) size);
	if (link)
		ck_assert_msg(e->link && strcmp(e->link, link) == 0, "%s: link %s, expected %s",
			      path, e->link ? e->link : "NULL", link);
	else
		ck_assert_ptr_null(e->link);
}

static void free_listing(struct listing *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].path);
		free(l->items[i].link);
	}
	l->n = 0;
}

START_TEST(test_list_files)
{
	static struct listing l;
	struct errbuf err;
	char *walreal = path_join(tmp_root, "walreal");
	char *tsdir = path_join(tmp_root, "ts");
	char *p;

	make_dir("base/1");
	make_dir("global");
	make_dir("pg_tblspc");
	p = in_data("PG_VERSION");
	make_file(p, "15\n");
	free(p);
	p = in_data("base/1/1259");
	make_file(p, "12345678");
	free(p);
	/* pg_wal is a link to a directory elsewhere */
	ck_assert_msg(mkdir_p(walreal, 0700, &err) == 0, "%s", err.msg);
	make_at(walreal, "archive_status", NULL);
	make_at(walreal, "000000010000000000000001", "walwal");
	p = in_data("pg_wal");
	ck_assert_int_eq(symlink(walreal, p), 0);
	free(p);
	/* a tablespace */
	make_at(tsdir, "PG_15_202209061/5", NULL);
	make_at(tsdir, "PG_15_202209061/5/16401", "tsdata!");
	p = in_data("pg_tblspc/16400");
	ck_assert_int_eq(symlink(tsdir, p), 0);
	free(p);
	/* an ordinary link to a directory with contents: reported, not followed */
	make_at(outside, "secret", "s");
	p = in_data("global/linked");
	ck_assert_int_eq(symlink(outside, p), 0);
	free(p);
	/* a fifo: not part of a data directory, not reported */
	p = in_data("fifo");
	ck_assert_int_eq(mkfifo(p, 0600), 0);
	free(p);

	ck_assert_msg(targetio_list_files(datadir, collect, &l, &err) == 0, "%s", err.msg);
	expect_listed(&l, "PG_VERSION", FILE_TYPE_REGULAR, 3, NULL);
	expect_listed(&l, "base", FILE_TYPE_DIRECTORY, 0, NULL);
	expect_listed(&l, "base/1", FILE_TYPE_DIRECTORY, 0, NULL);
	expect_listed(&l, "base/1/1259", FILE_TYPE_REGULAR, 8, NULL);
	expect_listed(&l, "global", FILE_TYPE_DIRECTORY, 0, NULL);
	expect_listed(&l, "global/linked", FILE_TYPE_SYMLINK, 0, outside);
	ck_assert_ptr_null(find(&l, "global/linked/secret"));
	expect_listed(&l, "pg_wal", FILE_TYPE_DIRECTORY, 0, NULL);
	expect_listed(&l, "pg_wal/archive_status", FILE_TYPE_DIRECTORY, 0, NULL);
	expect_listed(&l, "pg_wal/000000010000000000000001", FILE_TYPE_REGULAR, 6, NULL);
	expect_listed(&l, "pg_tblspc", FILE_TYPE_DIRECTORY, 0, NULL);
	expect_listed(&l, "pg_tblspc/16400", FILE_TYPE_SYMLINK, 0, tsdir);
	expect_listed(&l, "pg_tblspc/16400/PG_15_202209061", FILE_TYPE_DIRECTORY, 0, NULL);
	expect_listed(&l, "pg_tblspc/16400/PG_15_202209061/5", FILE_TYPE_DIRECTORY, 0, NULL);
	expect_listed(&l, "pg_tblspc/16400/PG_15_202209061/5/16401", FILE_TYPE_REGULAR, 7, NULL);
	ck_assert_ptr_null(find(&l, "fifo"));
	ck_assert_uint_eq(l.n, 14);
	for (size_t i = 0; i < l.n; i++)
		ck_assert_msg(l.items[i].path[0] != '.' && l.items[i].path[0] != '/', "%s",
			      l.items[i].path);
	free_listing(&l);

	/* A data directory given with a trailing slash lists the same paths. */
	p = xasprintf("%s/", datadir);
	ck_assert_msg(targetio_list_files(p, collect, &l, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(l.n, 14);
	ck_assert_ptr_nonnull(find(&l, "base/1/1259"));
	free_listing(&l);
	free(p);

	/* A dangling tablespace link is an error naming it. */
	p = in_data("pg_tblspc/16500");
	ck_assert_int_eq(symlink("/nonexistent/ts", p), 0);
	free(p);
	ck_assert_int_eq(targetio_list_files(datadir, collect, &l, &err), -1);
	ck_assert_msg(strstr(err.msg, "pg_tblspc/16500") != NULL, "%s", err.msg);
	free_listing(&l);
	/* A missing directory too. */
	ck_assert_int_eq(targetio_list_files("/nonexistent/dir", collect, &l, &err), -1);
	ck_assert_msg(strstr(err.msg, "/nonexistent/dir") != NULL, "%s", err.msg);
	free(walreal);
	free(tsdir);
}
END_TEST

START_TEST(test_sync)
{
	struct targetio *tio = targetio_create(datadir, NULL, NULL);
	struct errbuf err;
	static char big[3 * 1024 * 1024];

	ok(targetio_mkdir(tio, "base", &err), &err);
	ok(targetio_mkdir(tio, "base/1", &err), &err);
	memset(big, 'z', sizeof(big));
	/* large ranges: writeback starts as they go */
	for (int i = 0; i < 4; i++)
		ok(targetio_write(tio, "base/1/big", (uint64_t) i * sizeof(big), big, sizeof(big),
				  &err),
		   &err);
	ok(targetio_write(tio, "base/1/small", 0, "s", 1, &err), &err);
	ok(targetio_write(tio, "base/1/doomed", 0, "d", 1, &err), &err);
	ok(targetio_remove(tio, "base/1/doomed", FILE_TYPE_REGULAR, &err), &err);
	ok(targetio_mkdir(tio, "base/tmpdir", &err), &err);
	ok(targetio_remove(tio, "base/tmpdir", FILE_TYPE_DIRECTORY, &err), &err);
	ok(targetio_sync(tio, &err), &err);
	/* after the sync, more of the same: fine */
	ok(targetio_truncate(tio, "base/1/big", 100, &err), &err);
	ok(targetio_sync(tio, &err), &err);
	targetio_free(tio);

	/* A file written, then removed behind our back, makes the sync fail naming it. */
	tio = targetio_create(datadir, NULL, NULL);
	for (int i = 0; i < 20; i++) { /* push it out of the descriptor cache */
		char path[32];

		snprintf(path, sizeof(path), "base/1/f%d", i);
		ok(targetio_write(tio, path, 0, "x", 1, &err), &err);
	}
	{
		char *p = in_data("base/1/f0");

		ck_assert_int_eq(unlink(p), 0);
		free(p);
	}
	fails(targetio_sync(tio, &err), &err, "base/1/f0");
	targetio_free(tio);

	/* A data directory that does not exist: the first operation says so. */
	tio = targetio_create("/nonexistent/data", NULL, NULL);
	fails(targetio_write(tio, "x", 0, "x", 1, &err), &err, "/nonexistent/data");
	targetio_free(tio);
}
END_TEST

static Suite *targetio_suite(void)
{
	Suite *s = suite_create("targetio");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_write_and_truncate);
	tcase_add_test(tc, test_many_files_interleaved);
	tcase_add_test(tc, test_remove_mkdir_symlink);
	tcase_add_test(tc, test_refuses_escapes);
	tcase_add_test(tc, test_write_file);
	tcase_add_test(tc, test_list_files);
	tcase_add_test(tc, test_sync);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(targetio_suite)
