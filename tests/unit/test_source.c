/*
 * The incremental strategy's source module against a real PostgreSQL 15 server (fixture
 * source.sh; the suite starts the server and stops it at the end): the session setup, the file
 * list, whole small files, ranges and whole files written into a temporary target (checked byte
 * for byte against the server's files), batching, quoting of odd path names, files removed
 * between queueing and fetching, and full_page_writes = off refused. As root, the suite
 * continues as the cluster owner.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec.h"
#include "fsutil.h"
#include "incremental/source.h"
#include "base/targetio.h"
#include "pgbin.h"
#include "pgconn.h"
#include "postmaster.h"
#include "privdrop.h"
#include "strbuf.h"
#include "unit.h"
#include "xalloc.h"

#define WEIRD_NAME "segrecover_test/we\"ird\\name, {x}"
#define BIG_NAME "segrecover_test/big"       /* 2.5 MB, not a multiple of any range size */
#define EXACT_NAME "segrecover_test/exact2m" /* exactly two SOURCE_MAX_CHUNKs */
#define BIG_SIZE (2560 * 1024 + 1000)

static char *root, *src_dir, *sock, *info_path, *big_rel, *ts_oid, *ts_location, *ts_rel;
static int port;

/* key=value from source.info */
static char *info(const char *key)
{
	char *text, *line, *save = NULL, *found = NULL;
	size_t len, klen = strlen(key);
	struct errbuf err;

	ck_assert_msg(read_small_file(info_path, &text, &len, &err) == 0, "%s", err.msg);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, key, klen) == 0 && line[klen] == '=')
			found = xstrdup(line + klen + 1);
	free(text);
	ck_assert_msg(found != NULL, "no %s in %s", key, info_path);
	return found;
}

/* Run a PostgreSQL program (we are the cluster owner by now). */
static void pg_tool(const char *const *argv)
{
	struct exec_options o = { .capture_stdout = true, .capture_stderr = true };
	struct strbuf out = STRBUF_INIT, errout = STRBUF_INIT;
	struct errbuf err;
	int status = -1;

	strbuf_init(&out, 0);
	strbuf_init(&errout, 0);
	ck_assert_msg(exec_run(&o, argv, &out, &errout, &status, &err) == 0, "%s", err.msg);
	ck_assert_msg(status == 0, "%s %s failed (%d): %s%s", argv[0], argv[1], status, out.buf,
		      errout.buf);
	strbuf_release(&out);
	strbuf_release(&errout);
}

static void pg_ctl(const char *action)
{
	char *prog = pgbin_path("pg_ctl");
	char *log = path_join(root, "src.log");
	const char *argv[] = { prog, "-D", src_dir, "-l", log, "-w", "-t", "60", "-m", "fast",
			       action, NULL };

	pg_tool(argv);
	free(prog);
	free(log);
}

static void write_src_file(const char *rel, const void *data, size_t len)
{
	char *p = path_join(src_dir, rel);
	struct errbuf err;

	ck_assert_msg(write_file_durable(p, data, len, 0600, &err) == 0, "%s", err.msg);
	free(p);
}

/* Deterministic, not repetitive bytes. */
static void fill_pattern(unsigned char *buf, size_t len, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (unsigned char) x;
	}
}

static void setup(void)
{
	struct errbuf err;
	char *p, *dir;
	unsigned char *buf;

	root = xasprintf("%s/source", unit_fixture_dir());
	info_path = path_join(root, "source.info");
	ck_assert_msg(path_exists(info_path), "fixture missing: %s (tests/unit/fixtures/source.sh)",
		      info_path);
	ck_assert_msg(become_cluster_owner(&err) == 0, "%s", err.msg);
	src_dir = path_join(root, "src");
	sock = info("sock");
	big_rel = info("big_rel");
	ts_oid = info("ts_oid");
	ts_location = info("ts_location");
	ts_rel = info("ts_rel");
	p = info("port");
	port = atoi(p);
	free(p);

	/* Files the tests read: an odd name, a 2.5 MB file, one of exactly 2 MiB. */
	dir = path_join(src_dir, "segrecover_test");
	remove_tree(dir, &err);
	ck_assert_msg(mkdir_p(dir, 0700, &err) == 0, "%s", err.msg);
	free(dir);
	write_src_file(WEIRD_NAME, "odd name\n", 9);
	buf = xmalloc(BIG_SIZE);
	fill_pattern(buf, BIG_SIZE, 1);
	write_src_file(BIG_NAME, buf, BIG_SIZE);
	write_src_file(EXACT_NAME, buf, 2 * SOURCE_MAX_CHUNK);
	free(buf);
	if (postmaster_running(src_dir, NULL))
		pg_ctl("stop");
	pg_ctl("start");
}

static void teardown(void)
{
	if (postmaster_running(src_dir, NULL))
		pg_ctl("stop");
}

/* ------------------------------------------------------------------------------------------ */

static char *tmp_target(void)
{
	char tmpl[] = "/tmp/segrecover-source-target.XXXXXX";

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	return xstrdup(tmpl);
}

static struct source *open_source(struct targetio *tio)
{
	struct source *s = NULL;
	struct errbuf err;

	ck_assert_msg(source_open(sock, port, tio, &s, &err) == 0, "%s", err.msg);
	ck_assert_ptr_nonnull(s);
	return s;
}

static char *read_file_at(const char *dir, const char *rel, size_t *len)
{
	char *p = path_join(dir, rel), *data;
	struct errbuf err;

	ck_assert_msg(read_small_file(p, &data, len, &err) == 0, "%s", err.msg);
	free(p);
	return data;
}

static void mkdirs(struct targetio *tio, const char *const *dirs)
{
	struct errbuf err;

	for (size_t i = 0; dirs[i]; i++)
		ck_assert_msg(targetio_mkdir(tio, dirs[i], &err) == 0, "%s", err.msg);
}

static char *query_value(PGconn *c, const char *sql)
{
	char *v = NULL;
	struct errbuf err;

	ck_assert_msg(pg_query_value(c, sql, 0, NULL, &v, &err) == 0, "%s", err.msg);
	ck_assert_ptr_nonnull(v);
	return v;
}

/* ------------------------------------------------------------------------------------------ */

START_TEST(test_session)
{
	struct source *s = open_source(NULL);
	PGconn *c = source_conn(s);
	struct errbuf err;
	char *v;
	lsn_t lsn = 0;

	v = query_value(c, "SHOW statement_timeout");
	ck_assert_str_eq(v, "0");
	free(v);
	v = query_value(c, "SHOW lock_timeout");
	ck_assert_str_eq(v, "0");
	free(v);
	v = query_value(c, "SHOW idle_in_transaction_session_timeout");
	ck_assert_str_eq(v, "0");
	free(v);
	v = query_value(c, "SHOW default_transaction_read_only");
	ck_assert_str_eq(v, "on");
	free(v);
	v = query_value(c, "SHOW jit");
	ck_assert_str_eq(v, "off");
	free(v);
	v = query_value(c, "SHOW search_path");
	ck_assert_str_eq(v, "");
	free(v);
	ck_assert_int_eq(pg_exec(c, "CREATE TABLE must_fail (i int)", 0, NULL, &err), -1);
	ck_assert_msg(strstr(err.msg, "read-only") != NULL, "%s", err.msg);
	ck_assert_msg(source_insert_lsn(s, &lsn, &err) == 0, "%s", err.msg);
	ck_assert_msg(lsn > 0x1000000, "insert LSN %X/%X", LSN_ARGS(lsn));
	source_close(s);
	source_close(NULL);

	/* A server that is not there: the error names host:port. */
	ck_assert_int_eq(source_open(sock, port + 1, NULL, &s, &err), -1);
	ck_assert_ptr_null(s);
	ck_assert_msg(strstr(err.msg, sock) != NULL && strstr(err.msg, "7693") != NULL, "%s",
		      err.msg);
}
END_TEST

struct listed {
	char *path;
	enum file_type type;
	uint64_t size;
	char *link;
};

struct listing {
	struct listed *items;
	size_t n, alloc;
};

static void collect(void *arg, const char *path, enum file_type type, uint64_t size,
		    const char *link)
{
	struct listing *l = arg;

	if (l->n == l->alloc) {
		l->alloc = l->alloc ? l->alloc * 2 : 256;
		l->items = xrealloc(l->items, l->alloc * sizeof(*l->items));
	}
	l->items[l->n++] = (struct listed) { xstrdup(path), type, size, link ? xstrdup(link) : NULL };
}

static const struct listed *find(const struct listing *l, const char *path)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->items[i].path, path) == 0)
			return &l->items[i];
	return NULL;
}

static void free_listing(struct listing *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].path);
		free(l->items[i].link);
	}
	free(l->items);
	memset(l, 0, sizeof(*l));
}

static void expect_file_like_disk(const struct listing *l, const char *rel)
{
	const struct listed *e = find(l, rel);
	char *p = path_join(src_dir, rel);
	struct stat st;

	ck_assert_msg(e != NULL, "%s not listed", rel);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_msg(e->type == FILE_TYPE_REGULAR, "%s: type %d", rel, e->type);
	ck_assert_msg(e->size == (uint64_t) st.st_size, "%s: listed %llu bytes, %lld on disk", rel,
		      (unsigned long long) e->size, (long long) st.st_size);
	free(p);
}

START_TEST(test_list_files)
{
	struct source *s = open_source(NULL);
	struct listing l = { 0 };
	struct errbuf err;
	const struct listed *e;
	char *p, *rel;
	size_t in_base1 = 0, on_disk = 0;
	DIR *d;
	struct dirent *de;

	ck_assert_msg(source_list_files_start(s, &err) == 0, "%s", err.msg);
	ck_assert_msg(source_list_files_finish(s, collect, &l, &err) == 0, "%s", err.msg);
	ck_assert_uint_gt(l.n, 900);
	expect_file_like_disk(&l, "PG_VERSION");
	expect_file_like_disk(&l, "global/pg_control");
	ck_assert_uint_eq(find(&l, "global/pg_control")->size, 8192);
	expect_file_like_disk(&l, big_rel);
	expect_file_like_disk(&l, WEIRD_NAME);
	expect_file_like_disk(&l, BIG_NAME);
	expect_file_like_disk(&l, ts_rel);
	ck_assert_int_eq(find(&l, "base")->type, FILE_TYPE_DIRECTORY);
	ck_assert_int_eq(find(&l, "base/1")->type, FILE_TYPE_DIRECTORY);
	ck_assert_int_eq(find(&l, "pg_wal")->type, FILE_TYPE_DIRECTORY);
	ck_assert_int_eq(find(&l, "pg_wal/archive_status")->type, FILE_TYPE_DIRECTORY);
	ck_assert_int_eq(find(&l, "segrecover_test")->type, FILE_TYPE_DIRECTORY);
	/* the tablespace link, with its target, and its contents under the link's path */
	p = xasprintf("pg_tblspc/%s", ts_oid);
	e = find(&l, p);
	ck_assert_msg(e != NULL, "%s not listed", p);
	ck_assert_int_eq(e->type, FILE_TYPE_SYMLINK);
	ck_assert_str_eq(e->link, ts_location);
	free(p);
	p = xasprintf("pg_tblspc/%s/PG_15_202209061", ts_oid);
	ck_assert_int_eq(find(&l, p)->type, FILE_TYPE_DIRECTORY);
	free(p);
	/* every file of base/1, with its size */
	for (size_t i = 0; i < l.n; i++) {
		ck_assert_msg(l.items[i].path[0] != '.' && l.items[i].path[0] != '/' &&
				      strstr(l.items[i].path, "//") == NULL,
			      "%s", l.items[i].path);
		if (strncmp(l.items[i].path, "base/1/", 7) == 0) {
			in_base1++;
			expect_file_like_disk(&l, l.items[i].path);
		}
	}
	p = path_join(src_dir, "base/1");
	d = opendir(p);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.') {
			on_disk++;
			rel = xasprintf("base/1/%s", de->d_name);
			ck_assert_msg(find(&l, rel) != NULL, "%s not listed", rel);
			free(rel);
		}
	closedir(d);
	free(p);
	ck_assert_uint_eq(in_base1, on_disk);
	ck_assert_uint_gt(in_base1, 200);
	free_listing(&l);
	source_close(s);
}
END_TEST

START_TEST(test_fetch_file)
{
	struct source *s = open_source(NULL);
	struct errbuf err;
	char *data, *disk;
	size_t len, dlen;

	ck_assert_msg(source_fetch_file(s, "PG_VERSION", &data, &len, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(len, 3);
	ck_assert_str_eq(data, "15\n");
	free(data);
	ck_assert_msg(source_fetch_file(s, "global/pg_control", &data, &len, &err) == 0, "%s",
		      err.msg);
	ck_assert_uint_eq(len, 8192);
	ck_assert_int_eq(data[len], '\0');
	disk = read_file_at(src_dir, "global/pg_control", &dlen);
	ck_assert_uint_eq(dlen, 8192);
	ck_assert(memcmp(data, disk, 16) == 0); /* system identifier, versions */
	free(disk);
	free(data);
	ck_assert_msg(source_fetch_file(s, WEIRD_NAME, &data, &len, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(data, "odd name\n");
	free(data);
	ck_assert_uint_eq(source_bytes_fetched(s), 3 + 8192 + 9);
	/* a missing file: an error naming it and the source */
	ck_assert_int_eq(source_fetch_file(s, "no/such/file", &data, &len, &err), -1);
	ck_assert_ptr_null(data);
	ck_assert_msg(strstr(err.msg, "no/such/file") != NULL && strstr(err.msg, sock) != NULL,
		      "%s", err.msg);
	/* the connection is still usable */
	ck_assert_msg(source_fetch_file(s, "PG_VERSION", &data, &len, &err) == 0, "%s", err.msg);
	free(data);
	source_close(s);
}
END_TEST

/* Ranges and whole files, checked against the server's files byte for byte. */
START_TEST(test_ranges_and_whole_files)
{
	static const char *const dirs[] = { "base", "base/5", "segrecover_test", NULL };
	char *target = tmp_target();
	struct targetio *tio = targetio_create(target, NULL, NULL);
	struct source *s = open_source(tio);
	struct errbuf err;
	char *src, *dst;
	size_t slen, dlen;
	struct stat st;
	char *p;
	uint64_t nblocks, expect_fetched;
	const uint64_t blocks[] = { 0, 1, 2, 10, 50, 51 }; /* 0-2 and 50-51 merge */

	mkdirs(tio, dirs);
	{
		/* the tablespace file's directories, as plain directories here */
		char *d = xstrdup(ts_rel);

		for (char *slash = strchr(d, '/'); slash; slash = strchr(slash + 1, '/')) {
			*slash = '\0';
			ck_assert_msg(targetio_mkdir(tio, d, &err) == 0, "%s", err.msg);
			*slash = '/';
		}
		free(d);
	}
	src = read_file_at(src_dir, big_rel, &slen);
	nblocks = slen / 8192;
	ck_assert_uint_gt(nblocks, 60);
	for (size_t i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++)
		ck_assert_msg(source_queue_range(s, big_rel, blocks[i] * 8192, 8192, &err) == 0,
			      "%s", err.msg);
	ck_assert_msg(source_queue_range(s, big_rel, (nblocks - 1) * 8192, 8192, &err) == 0, "%s",
		      err.msg);
	/* a range crossing the end of the file: a short chunk is fine */
	ck_assert_msg(source_queue_range(s, big_rel, (nblocks - 2) * 8192 + 100, 3 * 8192, &err) ==
			      0,
		      "%s", err.msg);
	ck_assert_msg(source_queue_file(s, WEIRD_NAME, 9, &err) == 0, "%s", err.msg);
	ck_assert_msg(source_queue_file(s, "PG_VERSION", 3, &err) == 0, "%s", err.msg);
	ck_assert_msg(source_queue_file(s, ts_rel, 8192, &err) == 0, "%s", err.msg);
	ck_assert_msg(source_flush(s, &err) == 0, "%s", err.msg);
	ck_assert_msg(source_flush(s, &err) == 0, "%s", err.msg); /* nothing left: fine */

	dst = read_file_at(target, big_rel, &dlen);
	ck_assert_uint_eq(dlen, slen);
	for (uint64_t b = 0; b < nblocks; b++) {
		bool wanted = b == nblocks - 1 || b == nblocks - 2;

		for (size_t i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++)
			wanted = wanted || blocks[i] == b;
		if (wanted) {
			size_t from = b == nblocks - 2 ? 100 : 0;

			ck_assert_msg(memcmp(src + b * 8192 + from, dst + b * 8192 + from,
					     8192 - from) == 0,
				      "block %llu differs", (unsigned long long) b);
		} else {
			static const char zero[8192];

			ck_assert_msg(memcmp(dst + b * 8192, zero, 8192) == 0,
				      "block %llu written but not asked for", (unsigned long long) b);
		}
	}
	free(dst);
	free(src);
	dst = read_file_at(target, WEIRD_NAME, &dlen);
	ck_assert_str_eq(dst, "odd name\n");
	free(dst);
	dst = read_file_at(target, "PG_VERSION", &dlen);
	ck_assert_str_eq(dst, "15\n");
	free(dst);
	/* a tablespace file lands under the target's pg_tblspc path (a directory here) */
	src = read_file_at(src_dir, ts_rel, &slen);
	dst = read_file_at(target, ts_rel, &dlen);
	ck_assert_uint_eq(dlen, slen);
	ck_assert(memcmp(src, dst, slen) == 0);
	free(src);
	free(dst);
	expect_fetched = 7 * 8192 + (2 * 8192 - 100) + 9 + 3 + slen;
	ck_assert_uint_eq(source_bytes_fetched(s), expect_fetched);
	ck_assert_uint_eq(targetio_bytes_written(tio), expect_fetched);
	p = path_join(target, "PG_VERSION");
	ck_assert_int_eq(stat(p, &st), 0);
	free(p);
	ck_assert_msg(targetio_sync(tio, &err) == 0, "%s", err.msg);
	source_close(s);
	targetio_free(tio);
	remove_tree(target, &err);
	free(target);
}
END_TEST

/* Whole files of several chunks: as listed, grown since, shrunk since, exactly two chunks. */
START_TEST(test_whole_file_chunks)
{
	static const char *const dirs[] = { "segrecover_test", "base", "base/5", NULL };
	char *target = tmp_target();
	struct targetio *tio = targetio_create(target, NULL, NULL);
	struct source *s = open_source(tio);
	struct errbuf err;
	char *src, *dst;
	size_t slen, dlen;
	uint64_t sent;
	int queries;

	mkdirs(tio, dirs);
	/* The target already holds longer junk: the copy replaces it whole. */
	{
		static char junk[3 * 1024 * 1024];

		memset(junk, 'j', sizeof(junk));
		ck_assert_msg(targetio_write(tio, BIG_NAME, 0, junk, sizeof(junk), &err) == 0, "%s",
			      err.msg);
	}
	sent = source_batches_sent(s);
	ck_assert_msg(source_queue_file(s, BIG_NAME, BIG_SIZE, &err) == 0, "%s", err.msg);
	ck_assert_msg(source_flush(s, &err) == 0, "%s", err.msg);
	queries = (int) (source_batches_sent(s) - sent);
	ck_assert_int_eq(queries, 1);
	src = read_file_at(src_dir, BIG_NAME, &slen);
	dst = read_file_at(target, BIG_NAME, &dlen);
	ck_assert_uint_eq(slen, BIG_SIZE);
	ck_assert_uint_eq(dlen, slen);
	ck_assert(memcmp(src, dst, slen) == 0);
	free(dst);

	/* Listed at 1 MiB, 2.5 MB by now: copied whole all the same. */
	ck_assert_msg(source_queue_file(s, BIG_NAME, SOURCE_MAX_CHUNK, &err) == 0, "%s", err.msg);
	ck_assert_msg(source_flush(s, &err) == 0, "%s", err.msg);
	dst = read_file_at(target, BIG_NAME, &dlen);
	ck_assert_uint_eq(dlen, slen);
	ck_assert(memcmp(src, dst, slen) == 0);
	free(dst);
	/* Listed at 0 bytes. */
	ck_assert_msg(source_queue_file(s, BIG_NAME, 0, &err) == 0, "%s", err.msg);
	ck_assert_msg(source_flush(s, &err) == 0, "%s", err.msg);
	dst = read_file_at(target, BIG_NAME, &dlen);
	ck_assert_uint_eq(dlen, slen);
	ck_assert(memcmp(src, dst, slen) == 0);
	free(dst);
	/* Listed at 5 MB, 2.5 MB by now: the target gets what there is. */
	ck_assert_msg(source_queue_file(s, BIG_NAME, 5 * 1024 * 1024, &err) == 0, "%s", err.msg);
	ck_assert_msg(source_flush(s, &err) == 0, "%s", err.msg);
	dst = read_file_at(target, BIG_NAME, &dlen);
	ck_assert_uint_eq(dlen, slen);
	ck_assert(memcmp(src, dst, slen) == 0);
	free(dst);
	/* Exactly two chunks: the last full chunk asks for more, which is empty. */
	ck_assert_msg(source_queue_file(s, EXACT_NAME, 2 * SOURCE_MAX_CHUNK, &err) == 0, "%s",
		      err.msg);
	ck_assert_msg(source_flush(s, &err) == 0, "%s", err.msg);
	dst = read_file_at(target, EXACT_NAME, &dlen);
	ck_assert_uint_eq(dlen, 2 * SOURCE_MAX_CHUNK);
	ck_assert(memcmp(src, dst, dlen) == 0);
	free(dst);
	free(src);
	/* The relation file, whole. */
	ck_assert_msg(source_queue_file(s, big_rel, 8192, &err) == 0, "%s", err.msg);
	ck_assert_msg(source_flush(s, &err) == 0, "%s", err.msg);
	src = read_file_at(src_dir, big_rel, &slen);
	dst = read_file_at(target, big_rel, &dlen);
	ck_assert_uint_eq(dlen, slen);
	ck_assert(memcmp(src, dst, slen) == 0);
	free(src);
	free(dst);
	source_close(s);
	targetio_free(tio);
	remove_tree(target, &err);
	free(target);
}
END_TEST

/*
 * Many ranges: shared out over the SOURCE_FETCHERS connections in batches of SOURCE_MIN_BATCH to
 * SOURCE_MAX_CHUNKS, adjacent ranges merged, all bytes right whatever order they arrive in.
 */
START_TEST(test_batching)
{
	static const char *const dirs[] = { "segrecover_test", "base", "base/5", NULL };
	char *target = tmp_target();
	struct targetio *tio = targetio_create(target, NULL, NULL);
	struct source *s = open_source(tio);
	struct errbuf err;
	char *src, *dst;
	size_t slen, dlen;
	uint64_t sent;
	int queries;
	const int nranges = 2500;

	mkdirs(tio, dirs);
	/* 2500 ranges of 100 bytes, 1000 bytes apart: no merging; one query per connection. */
	sent = source_batches_sent(s);
	for (int i = 0; i < nranges; i++)
		ck_assert_msg(source_queue_range(s, BIG_NAME, (uint64_t) i * 1000, 100, &err) == 0,
			      "%s", err.msg);
	ck_assert_msg(source_flush(s, &err) == 0, "%s", err.msg);
	queries = (int) (source_batches_sent(s) - sent);
	ck_assert_int_eq(queries, SOURCE_FETCHERS);
	src = read_file_at(src_dir, BIG_NAME, &slen);
	dst = read_file_at(target, BIG_NAME, &dlen);
	ck_assert_uint_eq(dlen, (size_t) (nranges - 1) * 1000 + 100);
	for (int i = 0; i < nranges; i++) {
		static const char zero[900];

		ck_assert_msg(memcmp(src + i * 1000, dst + i * 1000, 100) == 0, "range %d", i);
		if (i + 1 < nranges)
			ck_assert_msg(memcmp(dst + i * 1000 + 100, zero, 900) == 0, "gap %d", i);
	}
	free(dst);

	/* 5000 adjacent ranges of 500 bytes: merged into a few large ranges, one query (not
	 * merged, they would take five). */
	sent = source_batches_sent(s);
	for (int i = 0; i < 5000; i++)
		ck_assert_msg(source_queue_range(s, BIG_NAME, (uint64_t) i * 500, 500, &err) == 0,
			      "%s", err.msg);
	ck_assert_msg(source_flush(s, &err) == 0, "%s", err.msg);
	queries = (int) (source_batches_sent(s) - sent);
	ck_assert_int_eq(queries, 1);
	dst = read_file_at(target, BIG_NAME, &dlen);
	ck_assert_uint_eq(dlen, 5000 * 500);
	ck_assert(memcmp(src, dst, dlen) == 0);
	free(dst);

	/* Whole-file copies: 50 times the 2.5 MB file (21 ranges each) make 1050 ranges, one query
	 * per connection, and the file right at the end. */
	sent = source_batches_sent(s);
	for (int i = 0; i < 50; i++)
		ck_assert_msg(source_queue_file(s, BIG_NAME, BIG_SIZE, &err) == 0, "%s", err.msg);
	ck_assert_msg(source_flush(s, &err) == 0, "%s", err.msg);
	queries = (int) (source_batches_sent(s) - sent);
	ck_assert_int_eq(queries, SOURCE_FETCHERS);
	dst = read_file_at(target, BIG_NAME, &dlen);
	ck_assert_uint_eq(dlen, BIG_SIZE);
	ck_assert(memcmp(src, dst, dlen) == 0);
	free(dst);

	/* Every 8 KiB block of the relation file, one by one. */
	free(src);
	src = read_file_at(src_dir, big_rel, &slen);
	sent = source_batches_sent(s);
	for (size_t off = 0; off < slen; off += 8192)
		ck_assert_msg(source_queue_range(s, big_rel, off, 8192, &err) == 0, "%s", err.msg);
	ck_assert_msg(source_flush(s, &err) == 0, "%s", err.msg);
	queries = (int) (source_batches_sent(s) - sent);
	ck_assert_int_eq(queries, 1);
	dst = read_file_at(target, big_rel, &dlen);
	ck_assert_uint_eq(dlen, slen);
	ck_assert(memcmp(src, dst, slen) == 0);
	free(src);
	free(dst);
	source_close(s);
	targetio_free(tio);
	remove_tree(target, &err);
	free(target);
}
END_TEST

/* A file removed on the source between queueing and fetching is removed from the target. */
START_TEST(test_removed_meanwhile)
{
	static const char *const dirs[] = { "segrecover_test", NULL };
	char *target = tmp_target();
	struct targetio *tio = targetio_create(target, NULL, NULL);
	struct source *s = open_source(tio);
	struct errbuf err;
	char *p, *data;
	size_t len;

	mkdirs(tio, dirs);
	write_src_file("segrecover_test/doomed_whole", "soon gone", 9);
	write_src_file("segrecover_test/doomed_range", "soon gone too", 13);
	write_src_file("segrecover_test/survivor", "still here", 10);
	ck_assert_msg(targetio_write(tio, "segrecover_test/doomed_range", 0, "old bytes", 9, &err) ==
			      0,
		      "%s", err.msg);
	ck_assert_msg(source_queue_file(s, "segrecover_test/doomed_whole", 9, &err) == 0, "%s",
		      err.msg);
	ck_assert_msg(source_queue_range(s, "segrecover_test/doomed_range", 0, 13, &err) == 0, "%s",
		      err.msg);
	ck_assert_msg(source_queue_file(s, "segrecover_test/survivor", 10, &err) == 0, "%s",
		      err.msg);
	p = path_join(target, "segrecover_test/doomed_whole");
	ck_assert(path_exists(p)); /* truncated (made) at queue time */
	free(p);
	p = path_join(src_dir, "segrecover_test/doomed_whole");
	ck_assert_int_eq(unlink(p), 0);
	free(p);
	p = path_join(src_dir, "segrecover_test/doomed_range");
	ck_assert_int_eq(unlink(p), 0);
	free(p);
	ck_assert_msg(source_flush(s, &err) == 0, "%s", err.msg);
	p = path_join(target, "segrecover_test/doomed_whole");
	ck_assert(!path_exists(p));
	free(p);
	p = path_join(target, "segrecover_test/doomed_range");
	ck_assert(!path_exists(p));
	free(p);
	data = read_file_at(target, "segrecover_test/survivor", &len);
	ck_assert_str_eq(data, "still here");
	free(data);
	ck_assert_msg(targetio_sync(tio, &err) == 0, "%s", err.msg);
	source_close(s);
	targetio_free(tio);
	remove_tree(target, &err);
	free(target);
}
END_TEST

/* Paths that need quoting in an array literal, and refusals of unsafe ones by the target. */
START_TEST(test_odd_paths)
{
	static const char *const dirs[] = { "segrecover_test", NULL };
	char *target = tmp_target();
	struct targetio *tio = targetio_create(target, NULL, NULL);
	struct source *s = open_source(tio);
	struct errbuf err;
	char *data;
	size_t len;

	mkdirs(tio, dirs);
	ck_assert_msg(source_queue_range(s, WEIRD_NAME, 4, 5, &err) == 0, "%s", err.msg);
	ck_assert_msg(source_queue_range(s, "PG_VERSION", 0, 3, &err) == 0, "%s", err.msg);
	ck_assert_msg(source_queue_range(s, WEIRD_NAME, 0, 4, &err) == 0, "%s", err.msg);
	ck_assert_msg(source_flush(s, &err) == 0, "%s", err.msg);
	data = read_file_at(target, WEIRD_NAME, &len);
	ck_assert_str_eq(data, "odd name\n");
	free(data);
	data = read_file_at(target, "PG_VERSION", &len);
	ck_assert_str_eq(data, "15\n");
	free(data);
	/* Paths that would leave the data directory are refused. */
	ck_assert_int_eq(source_queue_range(s, "../PG_VERSION", 0, 3, &err), -1);
	ck_assert_msg(strstr(err.msg, "../PG_VERSION") != NULL, "%s", err.msg);
	ck_assert_int_eq(source_queue_file(s, "/etc/passwd", 3, &err), -1);
	ck_assert_msg(strstr(err.msg, "/etc/passwd") != NULL, "%s", err.msg);
	ck_assert_msg(source_flush(s, &err) == 0, "%s", err.msg);
	/* The connection is still usable afterwards. */
	ck_assert_msg(source_fetch_file(s, "PG_VERSION", &data, &len, &err) == 0, "%s", err.msg);
	free(data);
	source_close(s);
	targetio_free(tio);
	remove_tree(target, &err);
	free(target);
}
END_TEST

static void set_fpw(PGconn *c, const char *value)
{
	struct errbuf err;
	char *sql = xasprintf("ALTER SYSTEM SET full_page_writes = %s", value);
	char *v = NULL;

	ck_assert_msg(pg_exec(c, sql, 0, NULL, &err) == 0, "%s", err.msg);
	free(sql);
	ck_assert_msg(pg_exec(c, "SELECT pg_reload_conf()", 0, NULL, &err) == 0, "%s", err.msg);
	/* The reload is asynchronous: wait until a new session sees it. */
	for (int i = 0; i < 100; i++) {
		struct pgconn_params params = { .host = sock, .port = port };
		PGconn *c2 = pg_connect(&params, &err);

		ck_assert_msg(c2 != NULL, "%s", err.msg);
		free(v);
		v = query_value(c2, "SHOW full_page_writes");
		PQfinish(c2);
		if (strcmp(v, value) == 0)
			break;
		usleep(100 * 1000);
	}
	ck_assert_str_eq(v, value);
	free(v);
}

START_TEST(test_full_page_writes_off)
{
	struct pgconn_params params = { .host = sock, .port = port };
	struct errbuf err, open_err;
	PGconn *c = pg_connect(&params, &err);
	struct source *s = NULL;
	int rc;

	ck_assert_msg(c != NULL, "%s", err.msg);
	set_fpw(c, "off");
	rc = source_open(sock, port, NULL, &s, &open_err);
	set_fpw(c, "on"); /* before any assertion, so that the server is left as it was */
	ck_assert_msg(pg_exec(c, "ALTER SYSTEM RESET full_page_writes", 0, NULL, &err) == 0, "%s",
		      err.msg);
	PQfinish(c);
	ck_assert_int_eq(rc, -1);
	ck_assert_ptr_null(s);
	ck_assert_msg(strstr(open_err.msg, "full_page_writes") != NULL &&
			      strstr(open_err.msg, "off") != NULL && strstr(open_err.msg, sock) != NULL,
		      "%s", open_err.msg);
	/* on again: accepted */
	s = open_source(NULL);
	source_close(s);
}
END_TEST

static Suite *source_suite(void)
{
	Suite *s = suite_create("source");
	TCase *tc = tcase_create("server");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_session);
	tcase_add_test(tc, test_list_files);
	tcase_add_test(tc, test_fetch_file);
	tcase_add_test(tc, test_ranges_and_whole_files);
	tcase_add_test(tc, test_whole_file_chunks);
	tcase_add_test(tc, test_batching);
	tcase_add_test(tc, test_removed_meanwhile);
	tcase_add_test(tc, test_odd_paths);
	tcase_add_test(tc, test_full_page_writes_off);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(source_suite)
