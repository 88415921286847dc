/*
 * Unit tests of the full strategy's tar extraction (strategies/full/extract.c): archives built
 * here with libarchive's writer, fed from memory in chunks of every size, unpacked by our writer
 * (openat from the root, O_NOFOLLOW; archive_write_disk was measured no faster and is gone);
 * what must be refused is refused, with the
 * member named, and nothing lands outside the root.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "full/extract.h"
#include "full/syncer.h"
#include "full/tablespace.h"
#include "strbuf.h"
#include "targetmark.h"
#include "unit.h"
#include "xalloc.h"

/* ------------------------------------------------------------------------------------------ */
/* Building archives */

struct member {
	const char *name;
	char type;          /* 'f' file, 'd' directory, 'l' symlink, 'h' hard link, 'c' char device */
	unsigned mode;
	const char *data;   /* file contents (NULL: len bytes of a pattern) */
	size_t len;
	const char *link;   /* symlink or hard link target */
};

static la_ssize_t to_strbuf(struct archive *a, void *ctx, const void *buf, size_t len)
{
	(void) a;
	strbuf_add(ctx, buf, len);
	return (la_ssize_t) len;
}

static unsigned char pattern_byte(size_t i)
{
	return (unsigned char) ((i * 2654435761u) >> 13);
}

/* A ustar archive of the members, in memory, ended by its two zero blocks (as the server does). */
static void build_tar(const struct member *m, size_t n, struct strbuf *out)
{
	struct archive *a = archive_write_new();

	strbuf_init(out, 1 << 16);
	ck_assert_int_eq(archive_write_set_format_ustar(a), ARCHIVE_OK);
	ck_assert_int_eq(archive_write_set_bytes_per_block(a, 0), ARCHIVE_OK);
	ck_assert_int_eq(archive_write_open(a, out, NULL, to_strbuf, NULL), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();

		archive_entry_set_pathname(e, m[i].name);
		archive_entry_set_perm(e, m[i].mode ? m[i].mode : 0600);
		switch (m[i].type) {
		case 'd':
			archive_entry_set_filetype(e, AE_IFDIR);
			break;
		case 'l':
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_symlink(e, m[i].link);
			break;
		case 'h':
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_hardlink(e, m[i].link);
			break;
		case 'c':
			archive_entry_set_filetype(e, AE_IFCHR);
			archive_entry_set_rdev(e, 0x0103);
			break;
		default:
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_size(e, (la_int64_t) m[i].len);
		}
		ck_assert_msg(archive_write_header(a, e) == ARCHIVE_OK, "%s: %s", m[i].name,
			      archive_error_string(a));
		if (m[i].type == 'f' && m[i].len > 0) {
			if (m[i].data) {
				ck_assert_int_eq(archive_write_data(a, m[i].data, m[i].len),
						 (la_ssize_t) m[i].len);
			} else {
				unsigned char *buf = xmalloc(m[i].len);

				for (size_t k = 0; k < m[i].len; k++)
					buf[k] = pattern_byte(k);
				ck_assert_int_eq(archive_write_data(a, buf, m[i].len),
						 (la_ssize_t) m[i].len);
				free(buf);
			}
		}
		archive_entry_free(e);
	}
	ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

/* ------------------------------------------------------------------------------------------ */
/* Feeding them from memory */

struct memsrc {
	const char *buf;
	size_t len, pos, chunk;
	unsigned calls;
};

static ssize_t mem_read(void *ctx, const void **buf, struct errbuf *err)
{
	struct memsrc *m = ctx;
	size_t n = m->len - m->pos;

	(void) err;
	if (n > m->chunk)
		n = m->chunk;
	*buf = m->buf + m->pos;
	m->pos += n;
	m->calls++;
	return (ssize_t) n;
}

/* ------------------------------------------------------------------------------------------ */
/* A scratch area: TMP/root is extracted into, TMP/outside must stay empty */

struct scratch {
	char *tmp, *root, *outside, *ts;
};

static void scratch_new(struct scratch *s)
{
	char tmpl[] = "/tmp/segrecover-extract.XXXXXX";

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	s->tmp = xstrdup(tmpl);
	s->root = path_join(s->tmp, "root");
	s->outside = path_join(s->tmp, "outside");
	s->ts = path_join(s->tmp, "ts");
	ck_assert_int_eq(mkdir(s->root, 0700), 0);
	ck_assert_int_eq(mkdir(s->outside, 0700), 0);
}

static void scratch_free(struct scratch *s)
{
	struct errbuf err;

	ck_assert_msg(remove_tree(s->tmp, &err) == 0, "%s", err.msg);
	free(s->tmp);
	free(s->root);
	free(s->outside);
	free(s->ts);
}

static void assert_outside_untouched(const struct scratch *s)
{
	DIR *d = opendir(s->tmp);
	struct dirent *de;

	ck_assert_msg(dir_is_empty(s->outside), "something was written into %s", s->outside);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		ck_assert_msg(strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
				      strcmp(de->d_name, "root") == 0 ||
				      strcmp(de->d_name, "outside") == 0 || strcmp(de->d_name, "ts") == 0,
			      "unexpected %s/%s: written outside the root", s->tmp, de->d_name);
	closedir(d);
}

/* Loop tests pass _i: the one writer there is, named in messages. */
static const char *const writer_names[] = { "direct" };

/* Extract MEMBERS into s->root, in chunks of CHUNK bytes. */
static int extract_with(const struct scratch *s, const struct member *m, size_t n,
			size_t chunk, bool main_archive, const struct tablespace *ts,
			size_t nts, struct full_extract_stats *st, struct errbuf *err)
{
	struct strbuf tar;
	struct memsrc src = { 0 };
	struct full_syncer *syncer = full_syncer_new(2);
	struct full_extract_opts o = {
		.root = s->root,
		.archive = main_archive ? "base.tar" : "16385.tar",
		.main_archive = main_archive,
		.tablespaces = ts,
		.ntablespaces = nts,
		.log_directory = "log",
		.syncer = syncer,
	};
	struct errbuf serr;
	int rc;

	build_tar(m, n, &tar);
	src.buf = tar.buf;
	src.len = tar.len;
	src.chunk = chunk;
	memset(st, 0, sizeof(*st));
	rc = full_extract(&o, mem_read, &src, st, err);
	if (full_syncer_finish(syncer, &serr) != 0 && rc == 0) {
		*err = serr;
		rc = -1;
	}
	full_syncer_free(syncer);
	strbuf_release(&tar);
	return rc;
}

static void assert_refused(const struct scratch *s, int w, const struct member *m, size_t n,
			   const char *member, const char *why)
{
	struct full_extract_stats st;
	struct errbuf err;
	char quoted[512];

	errbuf_clear(&err);
	ck_assert_msg(extract_with(s, m, n, 512, true, NULL, 0, &st, &err) != 0,
		      "%s writer accepted member %s", writer_names[w], member);
	if (getenv("UNIT_VERBOSE"))
		fprintf(stderr, "%s writer: %s\n", writer_names[w], err.msg);
	snprintf(quoted, sizeof(quoted), "member \"%s\"", member);
	ck_assert_msg(strstr(err.msg, quoted) != NULL, "%s writer: the error does not name %s: %s",
		      writer_names[w], quoted, err.msg);
	ck_assert_msg(strstr(err.msg, "base.tar") != NULL, "no archive name in: %s", err.msg);
	if (why)
		ck_assert_msg(strstr(err.msg, why) != NULL, "%s writer: expected \"%s\" in: %s",
			      writer_names[w], why, err.msg);
	assert_outside_untouched(s);
}

static char *slurp(const char *path, size_t *len)
{
	char *data;
	struct errbuf err;

	ck_assert_msg(read_small_file(path, &data, len, &err) == 0, "%s", err.msg);
	return data;
}

static unsigned mode_of(const char *path)
{
	struct stat st;

	ck_assert_msg(lstat(path, &st) == 0, "%s missing", path);
	return st.st_mode & 07777;
}

/* ------------------------------------------------------------------------------------------ */
/* Tests */

START_TEST(normal_members_with_modes)
{
	static const struct member m[] = {
		{ "backup_label", 'f', 0600, "START WAL LOCATION: 0/2000028\n", 30, NULL },
		{ "base/", 'd', 0700, NULL, 0, NULL },
		{ "base/1/", 'd', 0750, NULL, 0, NULL },
		{ "base/1/1259", 'f', 0640, "relation", 8, NULL },
		{ "base/1/empty", 'f', 0600, NULL, 0, NULL },
		{ "pg_wal/", 'd', 0700, NULL, 0, NULL },
		{ "./pg_wal/archive_status", 'd', 0700, NULL, 0, NULL },
		{ "pg_wal/archive_status/000000010000000000000002.done", 'f', 0600, NULL, 0, NULL },
		{ "log/", 'd', 0700, NULL, 0, NULL },
		{ "log/postgresql.log", 'f', 0600, "secret log", 10, NULL },
		{ "global/pg_control", 'f', 0600, NULL, 8192, NULL }, /* parent not sent first */
	};
	struct scratch s;
	struct full_extract_stats st;
	struct errbuf err;
	char *p, *data;
	size_t len;

	scratch_new(&s);
	ck_assert_msg(extract_with(&s, m, sizeof(m) / sizeof(m[0]), 100, true, NULL, 0, &st,
				   &err) == 0,
		      "%s: %s", writer_names[_i], err.msg);
	p = path_join(s.root, "backup_label");
	data = slurp(p, &len);
	ck_assert_uint_eq(len, 30);
	ck_assert_mem_eq(data, "START WAL LOCATION: 0/2000028\n", 30);
	ck_assert_uint_eq(mode_of(p), 0600);
	free(data);
	free(p);
	p = path_join(s.root, "base/1");
	ck_assert_uint_eq(mode_of(p), 0750);
	free(p);
	p = path_join(s.root, "base/1/1259");
	ck_assert_uint_eq(mode_of(p), 0640);
	data = slurp(p, &len);
	ck_assert_uint_eq(len, 8);
	free(data);
	free(p);
	p = path_join(s.root, "base/1/empty");
	data = slurp(p, &len);
	ck_assert_uint_eq(len, 0);
	free(data);
	free(p);
	p = path_join(s.root, "pg_wal/archive_status/000000010000000000000002.done");
	ck_assert(path_exists(p));
	free(p);
	p = path_join(s.root, "global/pg_control");
	data = slurp(p, &len);
	ck_assert_uint_eq(len, 8192);
	for (size_t k = 0; k < len; k++)
		ck_assert_uint_eq((unsigned char) data[k], pattern_byte(k));
	free(data);
	free(p);
	/* The log directory is kept, its contents are not copied to a mirror. */
	p = path_join(s.root, "log");
	ck_assert(path_exists(p));
	ck_assert(dir_is_empty(p));
	free(p);
	ck_assert_uint_eq(st.files, 5);
	ck_assert_uint_eq(st.skipped, 1);
	assert_outside_untouched(&s);
	scratch_free(&s);
}
END_TEST

START_TEST(large_file_in_odd_chunks)
{
	/* 9 MB + 123 bytes: more than two writeback chunks, every tar block split differently. */
	static const size_t sizes[] = { 9 * 1024 * 1024 + 123, 1, 511, 512, 513 };
	struct member m[5];
	static const size_t chunks[] = { 1, 7, 4099, 32769, 1 << 20 };
	struct scratch s;

	for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
		struct full_extract_stats st;
		struct errbuf err;
		static char names[5][32];

		for (size_t i = 0; i < 5; i++) {
			snprintf(names[i], sizeof(names[i]), "f%zu", i);
			m[i] = (struct member){ names[i], 'f', 0600, NULL,
						/* chunk 1 on 9 MB takes long: keep it for the small ones */
						(chunks[c] == 1 && i == 0) ? 70000 : sizes[i], NULL };
		}
		scratch_new(&s);
		ck_assert_msg(extract_with(&s, m, 5, chunks[c], true, NULL, 0, &st, &err) == 0,
			      "%s, chunk %zu: %s", writer_names[_i], chunks[c], err.msg);
		for (size_t i = 0; i < 5; i++) {
			char *p = path_join(s.root, names[i]);
			size_t len;
			char *data = slurp(p, &len);

			ck_assert_uint_eq(len, m[i].len);
			for (size_t k = 0; k < len; k++)
				if ((unsigned char) data[k] != pattern_byte(k))
					ck_abort_msg("%s byte %zu differs (chunk %zu)", names[i], k,
						     chunks[c]);
			free(data);
			free(p);
		}
		ck_assert_uint_eq(st.file_bytes, m[0].len + 1 + 511 + 512 + 513);
		scratch_free(&s);
	}
}
END_TEST

START_TEST(refuses_dotdot)
{
	struct member m[] = { { "PG_VERSION", 'f', 0600, "15\n", 3, NULL },
			      { "../escape", 'f', 0600, "x", 1, NULL } };
	struct scratch s;
	char *p;

	scratch_new(&s);
	assert_refused(&s, _i, m, 2, "../escape", "..");
	p = path_join(s.tmp, "escape");
	ck_assert(!path_exists(p));
	free(p);
	scratch_free(&s);
}
END_TEST

START_TEST(refuses_absolute_path)
{
	struct scratch s;
	struct member m[1];
	char *abs;

	scratch_new(&s);
	abs = path_join(s.outside, "abs");
	m[0] = (struct member){ abs, 'f', 0600, "x", 1, NULL };
	assert_refused(&s, _i, m, 1, abs, "absolute");
	ck_assert(!path_exists(abs));
	free(abs);
	scratch_free(&s);
}
END_TEST

START_TEST(refuses_inner_dotdot)
{
	struct member m[] = { { "a/", 'd', 0700, NULL, 0, NULL },
			      { "a/../../b", 'f', 0600, "x", 1, NULL } };
	struct scratch s;
	char *p;

	scratch_new(&s);
	assert_refused(&s, _i, m, 2, "a/../../b", "..");
	p = path_join(s.tmp, "b");
	ck_assert(!path_exists(p));
	free(p);
	scratch_free(&s);
}
END_TEST

START_TEST(refuses_escaping_symlink)
{
	struct scratch s;
	struct member m[2];

	scratch_new(&s);
	/* A link out of the root, then a file through it. */
	m[0] = (struct member){ "evil", 'l', 0777, NULL, 0, s.outside };
	m[1] = (struct member){ "evil/x", 'f', 0600, "x", 1, NULL };
	assert_refused(&s, _i, m, 2, "evil", "only pg_tblspc/<oid> links");
	m[0] = (struct member){ "up", 'l', 0777, NULL, 0, "../.." };
	assert_refused(&s, _i, m, 1, "up", "symbolic link");
	scratch_free(&s);
}
END_TEST

START_TEST(refuses_writing_through_a_symlink_on_disk)
{
	struct scratch s;
	struct member m[] = { { "sneaky/x", 'f', 0600, "x", 1, NULL } };
	struct member m2[] = { { "PG_VERSION", 'f', 0600, "15\n", 3, NULL } };
	char *link, *victim, *data;
	size_t len;
	int fd;

	scratch_new(&s);
	link = path_join(s.root, "sneaky");
	ck_assert_int_eq(symlink(s.outside, link), 0);
	assert_refused(&s, _i, m, 1, "sneaky/x", NULL);
	free(link);

	/* A member whose name is a link on disk is not written through it either. */
	victim = path_join(s.tmp, "ts");
	fd = open(victim, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "victim", 6), 6);
	close(fd);
	link = path_join(s.root, "PG_VERSION");
	ck_assert_int_eq(symlink(victim, link), 0);
	assert_refused(&s, _i, m2, 1, "PG_VERSION", NULL);
	data = slurp(victim, &len);
	ck_assert_uint_eq(len, 6);
	ck_assert_mem_eq(data, "victim", 6);
	free(data);
	free(link);
	free(victim);
	scratch_free(&s);
}
END_TEST

START_TEST(refuses_other_symlinks)
{
	struct scratch s;
	struct tablespace ts = { .oid = 16385, .source_location = "/src/ts/2" };
	struct member m[1];
	struct full_extract_stats st;
	struct errbuf err;

	scratch_new(&s);
	ts.target_location = s.ts;
	/* Not a tablespace link, though it points where a tablespace is. */
	m[0] = (struct member){ "pg_wal", 'l', 0777, NULL, 0, "/src/ts/2" };
	ck_assert(extract_with(&s, m, 1, 512, true, &ts, 1, &st, &err) != 0);
	ck_assert_msg(strstr(err.msg, "member \"pg_wal\"") != NULL, "%s", err.msg);
	/* A tablespace that the server did not announce. */
	m[0] = (struct member){ "pg_tblspc/99999/", 'l', 0777, NULL, 0, "/src/ts/2" };
	ck_assert(extract_with(&s, m, 1, 512, true, &ts, 1, &st, &err) != 0);
	ck_assert_msg(strstr(err.msg, "member \"pg_tblspc/99999/\"") != NULL, "%s", err.msg);
	/* The right name, pointing elsewhere than the server said. */
	m[0] = (struct member){ "pg_tblspc/16385/", 'l', 0777, NULL, 0, "/etc" };
	ck_assert(extract_with(&s, m, 1, 512, true, &ts, 1, &st, &err) != 0);
	ck_assert_msg(strstr(err.msg, "member \"pg_tblspc/16385/\"") != NULL &&
			      strstr(err.msg, "/src/ts/2") != NULL,
		      "%s", err.msg);
	/* A tablespace archive has no link at all. */
	m[0] = (struct member){ "PG_15_202209061/l", 'l', 0777, NULL, 0, "/src/ts/2" };
	ck_assert(extract_with(&s, m, 1, 512, false, &ts, 1, &st, &err) != 0);
	ck_assert_msg(strstr(err.msg, "16385.tar") != NULL &&
			      strstr(err.msg, "member \"PG_15_202209061/l\"") != NULL,
		      "%s", err.msg);
	ck_assert(!path_exists(s.ts));
	assert_outside_untouched(&s);
	scratch_free(&s);
}
END_TEST

START_TEST(tablespace_link_mapped_and_not_written_through)
{
	struct scratch s;
	struct tablespace ts = { .oid = 16385, .source_location = "/src/ts/2/" };
	struct member m[] = {
		{ "pg_tblspc/", 'd', 0700, NULL, 0, NULL },
		{ "pg_tblspc/16385/", 'l', 0777, NULL, 0, "/src/ts/2" }, /* as the server names it */
		{ "pg_tblspc/16385/PG_15_202209061/evil", 'f', 0600, "x", 1, NULL },
	};
	struct full_extract_stats st;
	struct errbuf err;
	char *link, target[4096];
	ssize_t n;

	scratch_new(&s);
	ck_assert_int_eq(mkdir(s.ts, 0700), 0);
	ts.target_location = s.ts;
	ck_assert_msg(extract_with(&s, m, 2, 512, true, &ts, 1, &st, &err) == 0, "%s: %s",
		      writer_names[_i], err.msg);
	link = path_join(s.root, "pg_tblspc/16385");
	n = readlink(link, target, sizeof(target) - 1);
	ck_assert_int_gt(n, 0);
	target[n] = '\0';
	ck_assert_str_eq(target, s.ts);
	ck_assert_uint_eq(st.links, 1);
	/* The same link made beforehand (full_tablespace_prepare) is fine; another one is not. */
	ck_assert_msg(extract_with(&s, m, 2, 512, true, &ts, 1, &st, &err) == 0, "%s: %s",
		      writer_names[_i], err.msg);
	ck_assert_int_eq(unlink(link), 0);
	ck_assert_int_eq(symlink(s.outside, link), 0);
	ck_assert(extract_with(&s, m, 2, 512, true, &ts, 1, &st, &err) != 0);
	ck_assert_msg(strstr(err.msg, "pg_tblspc/16385") != NULL, "%s", err.msg);
	ck_assert_int_eq(unlink(link), 0);
	free(link);

	/* The same archive with a member below the link: refused, nothing in the tablespace. */
	ck_assert(extract_with(&s, m, 3, 512, true, &ts, 1, &st, &err) != 0);
	ck_assert_msg(strstr(err.msg, "member \"pg_tblspc/16385/PG_15_202209061/evil\"") != NULL,
		      "%s", err.msg);
	ck_assert(dir_is_empty(s.ts));
	assert_outside_untouched(&s);
	scratch_free(&s);
}
END_TEST

START_TEST(refuses_hard_links_and_devices)
{
	struct scratch s;
	struct member m[] = { { "PG_VERSION", 'f', 0600, "15\n", 3, NULL },
			      { "hard", 'h', 0600, NULL, 0, "PG_VERSION" } };
	struct member dev[] = { { "tty", 'c', 0600, NULL, 0, NULL } };

	scratch_new(&s);
	assert_refused(&s, _i, m, 2, "hard", "hard link");
	assert_refused(&s, _i, dev, 1, "tty", "character device");
	scratch_free(&s);
}
END_TEST

START_TEST(lock_and_signal_files_kept)
{
	struct scratch s;
	struct member m[] = {
		{ "segrecover.lock", 'f', 0600, "theirs", 6, NULL },
		{ "standby.signal", 'f', 0600, "theirs", 6, NULL },
		{ "recovery.signal", 'f', 0600, "", 0, NULL },
		{ "PG_VERSION", 'f', 0600, "15\n", 3, NULL },
		/* What Greenplum keeps off mirrors */
		{ "db_dumps/", 'd', 0700, NULL, 0, NULL },
		{ "db_dumps/20260101/dump.gz", 'f', 0600, "dump", 4, NULL },
		{ "promote", 'f', 0600, "", 0, NULL },
		{ "db_dumps_not/", 'd', 0700, NULL, 0, NULL },
	};
	struct full_extract_stats st;
	struct errbuf err;
	char *lock = NULL, *signal = NULL, *data;
	size_t len;
	int fd;

	scratch_new(&s);
	lock = path_join(s.root, TARGET_LOCK_FILE);
	signal = path_join(s.root, "standby.signal");
	fd = open(lock, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_eq(write(fd, "mine", 4), 4);
	close(fd);
	fd = open(signal, O_CREAT | O_WRONLY, 0600);
	close(fd);
	ck_assert_msg(extract_with(&s, m, sizeof(m) / sizeof(m[0]), 512, true, NULL, 0, &st,
				   &err) == 0,
		      "%s", err.msg);
	data = slurp(lock, &len);
	ck_assert_uint_eq(len, 4);
	ck_assert_mem_eq(data, "mine", 4);
	free(data);
	data = slurp(signal, &len);
	ck_assert_uint_eq(len, 0);
	free(data);
	free(lock);
	free(signal);
	signal = path_join(s.root, "recovery.signal");
	ck_assert(!path_exists(signal));
	free(signal);
	signal = path_join(s.root, "db_dumps");
	ck_assert(!path_exists(signal));
	free(signal);
	signal = path_join(s.root, "promote");
	ck_assert(!path_exists(signal));
	free(signal);
	signal = path_join(s.root, "db_dumps_not");
	ck_assert(path_exists(signal));
	free(signal);
	ck_assert_uint_eq(st.skipped, 6);
	ck_assert_uint_eq(st.files, 1);
	scratch_free(&s);
}
END_TEST

START_TEST(tablespace_archive_into_its_root)
{
	struct scratch s;
	struct member m[] = {
		{ "PG_15_202209061/", 'd', 0700, NULL, 0, NULL },
		{ "PG_15_202209061/5/", 'd', 0700, NULL, 0, NULL },
		{ "PG_15_202209061/5/16386", 'f', 0600, NULL, 20000, NULL },
		/* Not the main archive: a file named like the lock is an ordinary member here. */
		{ "segrecover.lock", 'f', 0600, "x", 1, NULL },
	};
	struct full_extract_stats st;
	struct errbuf err;
	char *p;

	scratch_new(&s);
	free(s.root);
	s.root = xstrdup(s.ts);
	ck_assert_int_eq(mkdir(s.ts, 0700), 0);
	ck_assert_msg(extract_with(&s, m, 4, 32769, false, NULL, 0, &st, &err) == 0, "%s",
		      err.msg);
	p = path_join(s.ts, "PG_15_202209061/5/16386");
	ck_assert(path_exists(p));
	free(p);
	ck_assert_uint_eq(st.files, 2);
	scratch_free(&s);
}
END_TEST

START_TEST(damaged_archives_fail)
{
	struct scratch s;
	struct member m[] = { { "base/", 'd', 0700, NULL, 0, NULL },
			      { "base/big", 'f', 0600, NULL, 100000, NULL } };
	struct strbuf tar;
	struct memsrc src = { 0 };
	struct full_syncer *syncer;
	struct full_extract_opts o = { .archive = "base.tar", .main_archive = true };
	struct full_extract_stats st = { 0 };
	struct errbuf err;
	char *junk;

	scratch_new(&s);
	o.root = s.root;
	build_tar(m, 2, &tar);

	/* Cut in the middle of the file: the stream ends early (the source died). */
	syncer = full_syncer_new(1);
	o.syncer = syncer;
	src = (struct memsrc){ .buf = tar.buf, .len = 50000, .chunk = 32768 };
	ck_assert(full_extract(&o, mem_read, &src, &st, &err) != 0);
	ck_assert_msg(strstr(err.msg, "base.tar") != NULL, "%s", err.msg);
	full_syncer_free(syncer);

	/* Cut exactly after a member: libarchive alone would call that a whole archive. */
	syncer = full_syncer_new(1);
	o.syncer = syncer;
	src = (struct memsrc){ .buf = tar.buf, .len = 512, .chunk = 512 };
	ck_assert(full_extract(&o, mem_read, &src, &st, &err) != 0);
	ck_assert_msg(strstr(err.msg, "cut short") != NULL && strstr(err.msg, "base/") != NULL,
		      "%s", err.msg);
	full_syncer_free(syncer);

	/* Data after the end-of-archive blocks. */
	junk = xmalloc(tar.len + 512);
	memcpy(junk, tar.buf, tar.len);
	memset(junk + tar.len, 'J', 512);
	remove_tree(s.root, &err);
	mkdir(s.root, 0700);
	syncer = full_syncer_new(1);
	o.syncer = syncer;
	src = (struct memsrc){ .buf = junk, .len = tar.len + 512, .chunk = 700 };
	ck_assert(full_extract(&o, mem_read, &src, &st, &err) != 0);
	ck_assert_msg(strstr(err.msg, "after the end") != NULL, "%s", err.msg);
	full_syncer_free(syncer);

	/* Not a tar at all. */
	memset(junk, 'x', 4096);
	syncer = full_syncer_new(0);
	o.syncer = syncer;
	src = (struct memsrc){ .buf = junk, .len = 4096, .chunk = 4096 };
	ck_assert(full_extract(&o, mem_read, &src, &st, &err) != 0);
	ck_assert_msg(strstr(err.msg, "base.tar") != NULL, "%s", err.msg);
	full_syncer_free(syncer);
	free(junk);
	strbuf_release(&tar);
	assert_outside_untouched(&s);
	scratch_free(&s);
}
END_TEST

/* A source that fails after LIMIT bytes, as a lost connection does. */
struct failing {
	struct memsrc mem;
	size_t limit;
};

static ssize_t failing_read(void *ctx, const void **buf, struct errbuf *err)
{
	struct failing *f = ctx;

	if (f->mem.pos >= f->limit)
		return errbuf_set(err, "lost the connection while receiving the backup: boom");
	return mem_read(&f->mem, buf, err);
}

START_TEST(read_errors_pass_through)
{
	struct scratch s;
	struct member m[] = { { "base/", 'd', 0700, NULL, 0, NULL },
			      { "base/big", 'f', 0600, NULL, 300000, NULL } };
	struct full_syncer *syncer = full_syncer_new(1);
	struct full_extract_opts o = { .archive = "base.tar", .main_archive = true };
	struct strbuf tar;
	struct errbuf err;
	struct memsrc empty = { .buf = NULL, .len = 0, .chunk = 1 };
	struct failing f;

	scratch_new(&s);
	o.root = s.root;
	o.syncer = syncer;
	build_tar(m, 2, &tar);
	f = (struct failing){ .mem = { .buf = tar.buf, .len = tar.len, .chunk = 32768 },
			      .limit = 100000 };
	ck_assert(full_extract(&o, failing_read, &f, NULL, &err) != 0);
	ck_assert_msg(strstr(err.msg, "boom") != NULL && strstr(err.msg, "base.tar") != NULL,
		      "%s", err.msg);
	/* An empty stream is not an archive. */
	ck_assert(full_extract(&o, mem_read, &empty, NULL, &err) != 0);
	full_syncer_free(syncer);
	strbuf_release(&tar);
	scratch_free(&s);
}
END_TEST

START_TEST(normalize_member_names)
{
	static const struct {
		const char *in, *out;
	} ok[] = {
		{ "base/1/1259", "base/1/1259" },
		{ "./pg_wal/archive_status", "pg_wal/archive_status" },
		{ "pg_tblspc/16385/", "pg_tblspc/16385" },
		{ "pg_wal/", "pg_wal" },
		{ "..hidden", "..hidden" },
		{ "a/b..", "a/b.." },
	};
	static const char *const bad[] = {
		"", "/", "/etc/passwd", "..", "../x", "a/..", "a/../b", "a/../../b", "./", ".",
		"a//b", "a/./b", ".//etc", "./../x",
	};
	char out[256];
	struct errbuf err;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ck_assert_msg(full_normalize_member(ok[i].in, out, sizeof(out), &err) == 0, "%s: %s",
			      ok[i].in, err.msg);
		ck_assert_str_eq(out, ok[i].out);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(full_normalize_member(bad[i], out, sizeof(out), &err) != 0,
			      "\"%s\" accepted as \"%s\"", bad[i], out);
	ck_assert(full_normalize_member("abcdefgh", out, 4, &err) != 0);
}
END_TEST

START_TEST(tablespace_mapping_rule)
{
	char *t = NULL;
	struct errbuf err;

	/* Greenplum's per-dbid layout: the source dbid suffix becomes the target's. */
	ck_assert_int_eq(tablespace_map("/data/ts1/2", 16385, 2, 5, true, &t, &err), 0);
	ck_assert_str_eq(t, "/data/ts1/5");
	free(t);
	ck_assert_int_eq(tablespace_map("/data/ts1/12/", 16385, 12, 7, true, &t, &err), 0);
	ck_assert_str_eq(t, "/data/ts1/7");
	free(t);
	/* "/data/ts12" does not end in "/2". */
	ck_assert_int_ne(tablespace_map("/data/ts12", 16385, 2, 5, true, &t, &err), 0);
	ck_assert_ptr_null(t);
	ck_assert_msg(strstr(err.msg, "primary's tablespace") != NULL, "%s", err.msg);
	ck_assert_msg(strstr(err.msg, "16385") != NULL, "%s", err.msg);
	/* Another host: the same path is the mirror's own. */
	ck_assert_int_eq(tablespace_map("/data/ts12", 16385, 2, 5, false, &t, &err), 0);
	ck_assert_str_eq(t, "/data/ts12");
	free(t);
	/* A relative location (in-place tablespace) cannot be mapped. */
	ck_assert_int_ne(tablespace_map("pg_tblspc/16385", 16385, 2, 5, false, &t, &err), 0);
	ck_assert(tablespace_same_location("/a/b/", "/a/b"));
	ck_assert_int_eq(path_relation("/a/b/c", "/a/b/"), PATH_INSIDE);
	ck_assert_int_eq(path_relation("/a/b", "/a/b"), PATH_SAME);
	ck_assert_int_eq(path_relation("/a/bc", "/a/b"), PATH_UNRELATED);
	ck_assert_int_eq(path_relation("/a", "/a/b"), PATH_CONTAINS);
	{
		struct tablespace in_src = { .oid = 1, .target_location = "/p/data/ts/3" };
		struct tablespace fine = { .oid = 1, .target_location = "/ts/3" };

		/* Inside the source's data directory on this host: never. */
		ck_assert_int_ne(tablespace_check_place(&in_src, "/m/data", "/p/data", true, &err),
				 0);
		ck_assert_msg(strstr(err.msg, "/p/data") != NULL, "%s", err.msg);
		ck_assert_int_eq(tablespace_check_place(&in_src, "/m/data", "/p/data", false,
							     &err), 0);
		/* Inside the target's data directory: never. */
		ck_assert_int_ne(tablespace_check_place(&in_src, "/p/data/", NULL, false, &err),
				 0);
		ck_assert_int_eq(tablespace_check_place(&fine, "/m/data", "/p/data", true, &err),
				 0);
	}
	ck_assert(!tablespace_same_location("/a/b", "/a/bc"));
}
END_TEST

START_TEST(tablespace_directory_must_be_empty)
{
	struct scratch s;
	struct tablespace ts = { .oid = 16385 };
	struct full_syncer *syncer = full_syncer_new(1);
	struct errbuf err;
	char *deep, *file, *link, dest[4096];
	ssize_t n;
	int fd;

	scratch_new(&s);
	deep = path_join(s.ts, "x/3");
	ts.target_location = deep;
	ck_assert_msg(full_tablespace_prepare(&ts, s.root, syncer, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(mode_of(deep), 0700);
	/* Linked from the data directory before any data comes: a killed copy stays ours. */
	link = path_join(s.root, "pg_tblspc/16385");
	n = readlink(link, dest, sizeof(dest) - 1);
	ck_assert_int_gt(n, 0);
	dest[n] = '\0';
	ck_assert_str_eq(dest, deep);
	ck_assert_int_eq(unlink(link), 0);
	ck_assert_int_eq(symlink(s.outside, link), 0);
	ck_assert(full_tablespace_prepare(&ts, s.root, syncer, &err) != 0);
	ck_assert_msg(strstr(err.msg, link) != NULL, "%s", err.msg);
	ck_assert_int_eq(unlink(link), 0);
	free(link);
	ck_assert_msg(full_syncer_finish(syncer, &err) == 0, "%s", err.msg);
	file = path_join(deep, "PG_15_202209061");
	fd = open(file, O_CREAT | O_WRONLY, 0600);
	close(fd);
	ck_assert(full_tablespace_prepare(&ts, s.root, syncer, &err) != 0);
	ck_assert_msg(strstr(err.msg, "not empty") != NULL && strstr(err.msg, deep) != NULL, "%s",
		      err.msg);
	full_syncer_free(syncer);
	free(file);
	free(deep);
	scratch_free(&s);
}
END_TEST

START_TEST(syncer_reports_failures)
{
	struct full_syncer *syncer = full_syncer_new(_i);
	struct errbuf err;
	struct full_syncer_stats st;

	/* A file whose fsync fails (a character device: EINVAL) is an error, with the path named. */
	(void) full_syncer_file(syncer, open("/dev/null", O_WRONLY | O_CLOEXEC), "/dev/null as a file",
				&err);
	full_syncer_dir(syncer, "/tmp");
	ck_assert(full_syncer_finish(syncer, &err) != 0);
	ck_assert_msg(strstr(err.msg, "/dev/null as a file") != NULL, "%s", err.msg);
	full_syncer_get_stats(syncer, &st);
	ck_assert_uint_eq(st.files, 1);
	full_syncer_free(syncer);
}
END_TEST

static Suite *extract_suite(void)
{
	Suite *s = suite_create("extract");
	TCase *tc = tcase_create("extract");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, normal_members_with_modes, 0, 1);
	tcase_add_loop_test(tc, large_file_in_odd_chunks, 0, 1);
	tcase_add_loop_test(tc, refuses_dotdot, 0, 1);
	tcase_add_loop_test(tc, refuses_absolute_path, 0, 1);
	tcase_add_loop_test(tc, refuses_inner_dotdot, 0, 1);
	tcase_add_loop_test(tc, refuses_escaping_symlink, 0, 1);
	tcase_add_loop_test(tc, refuses_writing_through_a_symlink_on_disk, 0, 1);
	tcase_add_loop_test(tc, refuses_other_symlinks, 0, 1);
	tcase_add_loop_test(tc, tablespace_link_mapped_and_not_written_through, 0, 1);
	tcase_add_loop_test(tc, refuses_hard_links_and_devices, 0, 1);
	tcase_add_loop_test(tc, lock_and_signal_files_kept, 0, 1);
	tcase_add_loop_test(tc, tablespace_archive_into_its_root, 0, 1);
	tcase_add_loop_test(tc, damaged_archives_fail, 0, 1);
	tcase_add_loop_test(tc, read_errors_pass_through, 0, 1);
	tcase_add_test(tc, normalize_member_names);
	tcase_add_test(tc, tablespace_mapping_rule);
	tcase_add_test(tc, tablespace_directory_must_be_empty);
	tcase_add_loop_test(tc, syncer_reports_failures, 0, 3);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(extract_suite)
