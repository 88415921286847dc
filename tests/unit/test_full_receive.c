/*
 * Unit tests of the full strategy's COPY demultiplexer (strategies/full/receive.c): BASE_BACKUP
 * streams crafted message by message ('n', 'd', 'p', 'm' as PostgreSQL 15 sends them), fed
 * through the same code path as the libpq stream.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "full/receive.h"
#include "full/syncer.h"
#include "strbuf.h"
#include "unit.h"
#include "xalloc.h"

/* ------------------------------------------------------------------------------------------ */
/* A stream of CopyData messages in memory */

#define MAX_MSGS 40000

struct stream {
	struct strbuf msg[MAX_MSGS];
	size_t n, next;
	const char *fail_with; /* after the last message: fail like a lost connection */
	uint64_t data_bytes;   /* 'd' payload bytes, what full_receive must count */
};

static struct strbuf *add_msg(struct stream *s, char type)
{
	struct strbuf *m;

	ck_assert_uint_lt(s->n, MAX_MSGS);
	m = &s->msg[s->n++];
	strbuf_init(m, 64);
	strbuf_addch(m, type);
	return m;
}

static void msg_n(struct stream *s, const char *name, const char *location)
{
	struct strbuf *m = add_msg(s, 'n');

	strbuf_add(m, name, strlen(name) + 1);
	strbuf_add(m, location, strlen(location) + 1);
}

static void msg_p(struct stream *s, uint64_t done)
{
	struct strbuf *m = add_msg(s, 'p');

	for (int i = 7; i >= 0; i--)
		strbuf_addch(m, (char) (done >> (8 * i)));
}

static void msg_d(struct stream *s, const char *data, size_t len, size_t chunk)
{
	for (size_t off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;

		strbuf_add(add_msg(s, 'd'), data + off, n);
		s->data_bytes += n;
	}
}

static void stream_free(struct stream *s)
{
	for (size_t i = 0; i < s->n; i++)
		strbuf_release(&s->msg[i]);
}

static int stream_next(void *ctx, const char **buf, size_t *len, struct errbuf *err)
{
	struct stream *s = ctx;

	if (s->next == s->n) {
		if (s->fail_with)
			return errbuf_set(err, "%s", s->fail_with);
		return 0;
	}
	*buf = s->msg[s->next].buf;
	*len = s->msg[s->next].len;
	s->next++;
	return 1;
}

/* ------------------------------------------------------------------------------------------ */
/* Tar archives */

/*
 * The server compression the archives below are made with (their names end in .tar.lz4 or
 * .tar.zst), and the one receive() asks full_receive to expect: NULL for plain tar.
 */
static const char *made_with, *received_as;

static const char *suffix_of(const char *compression)
{
	if (compression == NULL)
		return ".tar";
	return strcmp(compression, "zstd") == 0 ? ".tar.zst" : ".tar.lz4";
}

struct member {
	const char *name;
	char type; /* 'f', 'd', 'l' */
	const char *data;
	const char *link;
};

static la_ssize_t to_strbuf(struct archive *a, void *ctx, const void *buf, size_t len)
{
	(void) a;
	strbuf_add(ctx, buf, len);
	return (la_ssize_t) len;
}

static void tar(const struct member *m, size_t n, struct strbuf *out)
{
	struct archive *a = archive_write_new();

	strbuf_init(out, 8192);
	archive_write_set_format_ustar(a);
	if (made_with && strcmp(made_with, "lz4") == 0)
		ck_assert_int_eq(archive_write_add_filter_lz4(a), ARCHIVE_OK);
	else if (made_with)
		ck_assert_int_eq(archive_write_add_filter_zstd(a), ARCHIVE_OK);
	archive_write_set_bytes_per_block(a, 0);
	ck_assert_int_eq(archive_write_open(a, out, NULL, to_strbuf, NULL), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();

		archive_entry_set_pathname(e, m[i].name);
		archive_entry_set_perm(e, m[i].type == 'f' ? 0600 : 0700);
		if (m[i].type == 'd') {
			archive_entry_set_filetype(e, AE_IFDIR);
		} else if (m[i].type == 'l') {
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_symlink(e, m[i].link);
		} else {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_size(e, (la_int64_t) strlen(m[i].data));
		}
		ck_assert_int_eq(archive_write_header(a, e), ARCHIVE_OK);
		if (m[i].type == 'f')
			archive_write_data(a, m[i].data, strlen(m[i].data));
		archive_entry_free(e);
	}
	ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

static const struct member ts_members[] = {
	{ "PG_15_202209061/", 'd', NULL, NULL },
	{ "PG_15_202209061/5/", 'd', NULL, NULL },
	{ "PG_15_202209061/5/16386", 'f', "tablespace relation", NULL },
};

static const struct member base_members[] = {
	{ "backup_label", 'f', "START WAL LOCATION: 0/2000028\n", NULL },
	{ "pg_tblspc/", 'd', NULL, NULL },
	{ "pg_tblspc/16385/", 'l', NULL, "/src/ts/2" },
	{ "pg_wal/", 'd', NULL, NULL },
	{ "./pg_wal/archive_status", 'd', NULL, NULL },
	{ "global/", 'd', NULL, NULL },
	{ "global/pg_control", 'f', "control", NULL },
};

static const char manifest_text[] = "{ \"PostgreSQL-Backup-Manifest-Version\": 1 }\n";

/* A whole stream as the server sends it: tablespace first, base.tar last, then the manifest. */
static void normal_stream(struct stream *s, size_t chunk, bool with_manifest)
{
	struct strbuf t;
	char name[32];

	memset(s, 0, sizeof(*s));
	snprintf(name, sizeof(name), "16385%s", suffix_of(made_with));
	msg_n(s, name, "/src/ts/2");
	tar(ts_members, 3, &t);
	msg_d(s, t.buf, t.len, chunk);
	strbuf_release(&t);
	msg_p(s, 4096);
	snprintf(name, sizeof(name), "base%s", suffix_of(made_with));
	msg_n(s, name, "");
	tar(base_members, sizeof(base_members) / sizeof(base_members[0]), &t);
	msg_d(s, t.buf, t.len, chunk);
	strbuf_release(&t);
	msg_p(s, 20480);
	if (!with_manifest)
		return;
	add_msg(s, 'm');
	msg_d(s, manifest_text, strlen(manifest_text), 10);
}

/* ------------------------------------------------------------------------------------------ */

struct scratch {
	char *tmp, *target, *ts;
	struct tablespace tsp;
};

static void scratch_new(struct scratch *s)
{
	char tmpl[] = "/tmp/segrecover-receive.XXXXXX";

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	s->tmp = xstrdup(tmpl);
	s->target = path_join(s->tmp, "target");
	s->ts = path_join(s->tmp, "ts3");
	ck_assert_int_eq(mkdir(s->target, 0700), 0);
	ck_assert_int_eq(mkdir(s->ts, 0700), 0);
	s->tsp = (struct tablespace){ .oid = 16385, .source_location = "/src/ts/2",
					   .target_location = s->ts };
}

static void scratch_free(struct scratch *s)
{
	struct errbuf err;

	ck_assert_msg(remove_tree(s->tmp, &err) == 0, "%s", err.msg);
	free(s->tmp);
	free(s->target);
	free(s->ts);
}

struct progress_seen {
	uint64_t last_received, last_server;
	unsigned calls;
};

static void on_progress(void *ctx, uint64_t received, uint64_t server_done)
{
	struct progress_seen *p = ctx;

	ck_assert_uint_ge(received, p->last_received);
	p->last_received = received;
	p->last_server = server_done;
	p->calls++;
}

static int receive(struct scratch *sc, struct stream *s, struct full_receive_result *res,
		   struct progress_seen *seen, struct errbuf *err)
{
	struct full_syncer *syncer = full_syncer_new(2);
	struct full_copy_source src = { .next = stream_next, .ctx = s };
	struct full_receive_opts o = {
		.target = sc->target,
		.tablespaces = &sc->tsp,
		.ntablespaces = 1,
		.log_directory = "log",
		.syncer = syncer,
		.compression = received_as,
		.progress = on_progress,
		.ctx = seen,
	};
	struct errbuf serr;
	int rc = full_receive(&o, &src, res, err);

	if (full_syncer_finish(syncer, &serr) != 0 && rc == 0) {
		*err = serr;
		rc = -1;
	}
	full_syncer_free(syncer);
	return rc;
}

START_TEST(whole_stream)
{
	static const size_t chunks[] = { 1, 513, 32769 };
	struct scratch sc;

	for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
		struct stream *s = xcalloc(1, sizeof(*s));
		struct full_receive_result res;
		struct progress_seen seen = { 0 };
		struct errbuf err;
		char *p, *data, link[4096];
		size_t len;
		ssize_t n;

		scratch_new(&sc);
		normal_stream(s, chunks[c], true);
		ck_assert_msg(receive(&sc, s, &res, &seen, &err) == 0, "chunk %zu: %s", chunks[c],
			      err.msg);
		ck_assert_uint_eq(res.archives, 2);
		ck_assert(res.manifest);
		ck_assert_uint_eq(res.bytes, s->data_bytes);
		ck_assert_uint_eq(res.server_done, 20480);
		ck_assert_uint_eq(seen.last_received, s->data_bytes);
		ck_assert_uint_eq(seen.last_server, 20480);
		ck_assert_uint_eq(res.extract.files, 3);
		ck_assert_uint_eq(res.extract.links, 1);

		p = path_join(sc.ts, "PG_15_202209061/5/16386");
		ck_assert_msg(read_small_file(p, &data, &len, &err) == 0, "%s", err.msg);
		ck_assert_str_eq(data, "tablespace relation");
		free(data);
		free(p);
		p = path_join(sc.target, "pg_tblspc/16385");
		n = readlink(p, link, sizeof(link) - 1);
		ck_assert_int_gt(n, 0);
		link[n] = '\0';
		ck_assert_str_eq(link, sc.ts);
		free(p);
		p = path_join(sc.target, "pg_wal/archive_status");
		ck_assert(path_exists(p));
		free(p);

		/* The manifest stays .tmp until committed after the final sync. */
		p = path_join(sc.target, FULL_MANIFEST);
		ck_assert(!path_exists(p));
		ck_assert_msg(full_manifest_commit(sc.target, &err) == 0, "%s", err.msg);
		ck_assert_msg(read_small_file(p, &data, &len, &err) == 0, "%s", err.msg);
		ck_assert_str_eq(data, manifest_text);
		free(data);
		free(p);
		p = path_join(sc.target, FULL_MANIFEST_TMP);
		ck_assert(!path_exists(p));
		free(p);
		stream_free(s);
		free(s);
		scratch_free(&sc);
	}
}
END_TEST

/* Run a damaged stream; the error must contain WANT. */
static void expect_failure(struct stream *s, const char *want)
{
	struct scratch sc;
	struct full_receive_result res;
	struct progress_seen seen = { 0 };
	struct errbuf err;

	scratch_new(&sc);
	errbuf_clear(&err);
	ck_assert_msg(receive(&sc, s, &res, &seen, &err) != 0, "accepted a stream that should fail "
							       "with \"%s\"", want);
	ck_assert_msg(strstr(err.msg, want) != NULL, "expected \"%s\" in: %s", want, err.msg);
	stream_free(s);
	scratch_free(&sc);
}

START_TEST(damaged_streams)
{
	struct stream *s = xcalloc(1, sizeof(*s));
	struct strbuf t;
	size_t cut;

	/* Data before any archive. */
	msg_d(s, "x", 1, 1);
	expect_failure(s, "before any archive");

	/* Names that are not base.tar or <oid>.tar. */
	memset(s, 0, sizeof(*s));
	msg_n(s, "base.tar.gz", "");
	expect_failure(s, "base.tar.gz");
	memset(s, 0, sizeof(*s));
	msg_n(s, "../x.tar", "");
	expect_failure(s, "refused");
	memset(s, 0, sizeof(*s));
	msg_n(s, "99999.tar", "/src/ts/9");
	expect_failure(s, "did not announce");
	memset(s, 0, sizeof(*s));
	msg_n(s, "16385.tar", "/elsewhere");
	expect_failure(s, "/elsewhere");

	/* A malformed 'n' (no location) and a short 'p'. */
	memset(s, 0, sizeof(*s));
	strbuf_add(add_msg(s, 'n'), "base.tar", 8);
	expect_failure(s, "malformed");
	memset(s, 0, sizeof(*s));
	strbuf_add(add_msg(s, 'p'), "1234", 4);
	expect_failure(s, "malformed progress");

	/* An unknown message type inside an archive. */
	memset(s, 0, sizeof(*s));
	msg_n(s, "16385.tar", "/src/ts/2");
	add_msg(s, 'x');
	expect_failure(s, "unexpected message type");

	/* The stream ends in the middle of base.tar (the COPY ended early). */
	memset(s, 0, sizeof(*s));
	msg_n(s, "16385.tar", "/src/ts/2");
	tar(ts_members, 3, &t);
	msg_d(s, t.buf, t.len, 512);
	strbuf_release(&t);
	msg_n(s, "base.tar", "");
	tar(base_members, 3, &t);
	cut = t.len / 2;
	msg_d(s, t.buf, cut, 512);
	strbuf_release(&t);
	expect_failure(s, "base.tar");

	/* The same, with the connection failing: its message comes through. */
	memset(s, 0, sizeof(*s));
	msg_n(s, "base.tar", "");
	tar(base_members, 1, &t);
	msg_d(s, t.buf, 700, 512);
	strbuf_release(&t);
	s->fail_with = "lost the connection while receiving the backup: server closed the connection";
	expect_failure(s, "server closed the connection");

	/* A tablespace archive after base.tar, and a stream without some archive. */
	memset(s, 0, sizeof(*s));
	normal_stream(s, 4096, false);
	msg_n(s, "16385.tar", "/src/ts/2");
	expect_failure(s, "must come last");

	memset(s, 0, sizeof(*s));
	msg_n(s, "base.tar", "");
	tar(base_members, 1, &t);
	msg_d(s, t.buf, t.len, 4096);
	strbuf_release(&t);
	expect_failure(s, "without the archive of tablespace 16385");

	memset(s, 0, sizeof(*s));
	expect_failure(s, "without base.tar");

	/* A manifest before base.tar, and a message after the manifest. */
	memset(s, 0, sizeof(*s));
	add_msg(s, 'm');
	expect_failure(s, "before base.tar");
	memset(s, 0, sizeof(*s));
	normal_stream(s, 4096, true);
	msg_n(s, "base.tar", "");
	expect_failure(s, "after the backup manifest");
	free(s);
}
END_TEST

/* Server compression: lz4 (_i 0) and zstd (_i 1), decompressed by libarchive on the way. */
START_TEST(compressed_streams)
{
	const char *method = _i == 0 ? "lz4" : "zstd";
	struct stream *s = xcalloc(1, sizeof(*s));
	struct full_receive_result res;
	struct progress_seen seen = { 0 };
	struct scratch sc;
	struct errbuf err;
	struct strbuf t;
	char *p, *data, name[32];
	size_t len;

	made_with = received_as = method;
	scratch_new(&sc);
	normal_stream(s, 1000, true);
	ck_assert_msg(receive(&sc, s, &res, &seen, &err) == 0, "%s: %s", method, err.msg);
	ck_assert_uint_eq(res.archives, 2);
	ck_assert_uint_eq(res.bytes, s->data_bytes);
	ck_assert_uint_eq(res.extract.files, 3);
	ck_assert_uint_eq(res.extract.links, 1);
	p = path_join(sc.ts, "PG_15_202209061/5/16386");
	ck_assert_msg(read_small_file(p, &data, &len, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(data, "tablespace relation");
	free(data);
	free(p);
	p = path_join(sc.target, "global/pg_control");
	ck_assert_msg(read_small_file(p, &data, &len, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(data, "control");
	free(data);
	free(p);
	stream_free(s);
	scratch_free(&sc);

	/* Plain archives where compressed ones were asked for, and the other way round. */
	made_with = NULL;
	memset(s, 0, sizeof(*s));
	normal_stream(s, 1000, true);
	snprintf(name, sizeof(name), "expected base%s", suffix_of(method));
	expect_failure(s, name);
	made_with = method;
	received_as = NULL;
	memset(s, 0, sizeof(*s));
	normal_stream(s, 1000, true);
	expect_failure(s, "no compression was asked for");

	/* A damaged compressed archive, and one cut short: never taken for a whole one. */
	received_as = method;
	snprintf(name, sizeof(name), "base%s", suffix_of(method));
	memset(s, 0, sizeof(*s));
	msg_n(s, name, "");
	tar(base_members, sizeof(base_members) / sizeof(base_members[0]), &t);
	t.buf[t.len / 2] ^= 0x5a;
	t.buf[t.len / 2 + 1] ^= 0xa5;
	msg_d(s, t.buf, t.len, 100);
	strbuf_release(&t);
	expect_failure(s, name);
	memset(s, 0, sizeof(*s));
	msg_n(s, name, "");
	tar(base_members, sizeof(base_members) / sizeof(base_members[0]), &t);
	msg_d(s, t.buf, t.len / 2, 100);
	strbuf_release(&t);
	expect_failure(s, name);
	made_with = received_as = NULL;
	free(s);
}
END_TEST

static Suite *full_receive_suite(void)
{
	Suite *s = suite_create("full_receive");
	TCase *tc = tcase_create("receive");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, whole_stream);
	tcase_add_test(tc, damaged_streams);
	tcase_add_loop_test(tc, compressed_streams, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(full_receive_suite)
