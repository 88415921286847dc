/*
 * Unit tests of the compressed copy (sender and base/zstream) through a real pipe and child
 * process: the ranges and whole files asked for arrive byte for byte, adjacent ranges go as one
 * request, a file gone from the source goes from the target, the stream is smaller than the
 * data; a path outside the data directory, a helper that stops half way and an unknown codec
 * are errors.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/targetio.h"
#include "base/wire.h"
#include "base/zstream.h"
#include "fsutil.h"
#include "fakehelper.h"
#include "incremental/sender.h"
#include "unit.h"
#include "xalloc.h"

#define BLK 8192

static char root[] = "/tmp/sender-test-XXXXXX";
static char *srcdir, *dstdir;
/* The real helper. */
static int real_helper(const char *const *args, int in_fd, int out_fd)
{
	struct errbuf err;

	return sender_helper(srcdir, args, in_fd, out_fd, &err);
}

/* Reads the requests, answers the first one only, and ends the stream. */
static int stopping_helper(const char *const *args, int in_fd, int out_fd)
{
	struct zwriter *z;
	struct wire_in in;
	struct errbuf err;
	unsigned char hdr[WIRE_FRAME_HEADER];
	const unsigned char *p;
	size_t len;
	char type = 0;

	wire_in_init(&in, in_fd, "the target");
	while (type != 'E')
		if (wire_next(&in, &type, &p, &len, &err) != 0)
			return -1;
	if (zwriter_open(args[1], zstream_fd_sink, (void *) (intptr_t) out_fd, &z, &err) != 0)
		return -1;
	wire_put_header(hdr, 'N', 0);
	zwriter_write(z, hdr, sizeof(hdr), &err);
	return zwriter_close(z, &err);
}

static void write_file(const char *dir, const char *rel, const unsigned char *data, size_t len)
{
	char *path = path_join(dir, rel);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t) len);
	close(fd);
	free(path);
}

static unsigned char *read_file(const char *dir, const char *rel, size_t *len)
{
	char *path = path_join(dir, rel);
	struct stat st;
	unsigned char *buf;
	int fd = open(path, O_RDONLY);

	free(path);
	if (fd < 0)
		return NULL;
	ck_assert_int_eq(fstat(fd, &st), 0);
	buf = xmalloc((size_t) st.st_size + 1);
	ck_assert_int_eq(read(fd, buf, (size_t) st.st_size), st.st_size);
	close(fd);
	*len = (size_t) st.st_size;
	return buf;
}

/* Page-like data: a header that differs per block, then mostly blanks (as pgbench's rows). */
static unsigned char *pages(size_t nblocks, unsigned seed)
{
	unsigned char *p = xmalloc(nblocks * BLK);

	memset(p, ' ', nblocks * BLK);
	for (size_t b = 0; b < nblocks; b++)
		for (size_t i = 0; i < 64; i++)
			p[b * BLK + i] = (unsigned char) ((b * 131 + i * 7 + seed) & 0xff);
	return p;
}

static void make_dirs(void)
{
	static const char *const sub[] = { "base", "base/5" };

	strcpy(root, "/tmp/sender-test-XXXXXX");
	ck_assert(mkdtemp(root) != NULL);
	srcdir = path_join(root, "src");
	dstdir = path_join(root, "dst");
	ck_assert_int_eq(mkdir(srcdir, 0700), 0);
	ck_assert_int_eq(mkdir(dstdir, 0700), 0);
	for (size_t i = 0; i < 2; i++) {
		char *a = path_join(srcdir, sub[i]), *b = path_join(dstdir, sub[i]);

		ck_assert_int_eq(mkdir(a, 0700), 0);
		ck_assert_int_eq(mkdir(b, 0700), 0);
		free(a);
		free(b);
	}
}

static void remove_dirs(void)
{
	ck_assert_int_eq(system("rm -rf /tmp/sender-test-*"), 0);
	free(srcdir);
	free(dstdir);
}

START_TEST(test_ranges_and_whole_files_arrive_compressed)
{
	struct recovery r = { .host = &fake_helper_host, .source_dbid = 3, .source_host = "h", .source_port = 1,
			      .compression = "lz4" };
	struct targetio *tio;
	struct sender s;
	struct errbuf err;
	unsigned char *src = pages(400, 1), *old = pages(400, 2), *grown = pages(300, 3), *got;
	size_t len;

	make_dirs();
	fake_helper_body = real_helper;
	write_file(srcdir, "base/5/16384", src, 400 * BLK);
	write_file(dstdir, "base/5/16384", old, 400 * BLK);
	write_file(srcdir, "base/5/16385", grown, 300 * BLK);
	write_file(dstdir, "base/5/99999", old, BLK); /* gone from the source */
	tio = targetio_create(dstdir, NULL, NULL);
	ck_assert_msg(sender_start(&r, tio, &s, &err) == 0, "%s", err.msg);
	/* Blocks 0..9 one by one (one request), block 100, and a tail past the end (short). */
	for (uint64_t b = 0; b < 10; b++)
		ck_assert_msg(sender_queue(&s, "base/5/16384", b * BLK, BLK, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(sender_queue(&s, "base/5/16384", 100 * BLK, BLK, &err), 0);
	ck_assert_int_eq(sender_queue(&s, "base/5/16384", 399 * BLK, 4 * BLK, &err), 0);
	/* Listed at 100 blocks, grown to 300 since: copied whole. */
	ck_assert_int_eq(targetio_truncate_whole(tio, "base/5/16385", &err), 0);
	ck_assert_int_eq(sender_queue(&s, "base/5/16385", 0, SENDER_WHOLE, &err), 0);
	ck_assert_int_eq(sender_queue(&s, "base/5/99999", 0, BLK, &err), 0);
	ck_assert_msg(sender_finish(&r, &s, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(targetio_sync(tio, &err), 0);
	targetio_free(tio);

	ck_assert_uint_eq(s.requests, 5);
	ck_assert_uint_eq(s.raw_bytes, (10 + 1 + 1 + 300) * BLK);
	ck_assert_uint_lt(s.wire_bytes, s.raw_bytes / 4);
	got = read_file(dstdir, "base/5/16384", &len);
	ck_assert_uint_eq(len, 400 * BLK);
	ck_assert(memcmp(got, src, 10 * BLK) == 0);
	ck_assert(memcmp(got + 10 * BLK, old + 10 * BLK, 90 * BLK) == 0); /* not asked for */
	ck_assert(memcmp(got + 100 * BLK, src + 100 * BLK, BLK) == 0);
	ck_assert(memcmp(got + 399 * BLK, src + 399 * BLK, BLK) == 0);
	free(got);
	got = read_file(dstdir, "base/5/16385", &len);
	ck_assert_uint_eq(len, 300 * BLK);
	ck_assert(memcmp(got, grown, len) == 0);
	free(got);
	ck_assert(read_file(dstdir, "base/5/99999", &len) == NULL);
	free(src);
	free(old);
	free(grown);
	remove_dirs();
}
END_TEST

START_TEST(test_paths_outside_the_data_directory_are_refused)
{
	const char *hostile[] = { "../../etc/passwd", "/etc/passwd", "base/../../x" };
	const char *args[] = { SENDER_HELPER_ARG, "zstd", NULL };

	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		struct recovery r = { .host = &fake_helper_host, .source_dbid = 3, .source_host = "h",
				      .source_port = 1, .compression = "zstd" };
		unsigned char frame[WIRE_FRAME_HEADER + 16 + 64];
		size_t plen = strlen(hostile[i]);
		struct targetio *tio;
		struct sender s;
		struct errbuf err;
		int in[2], out;

		make_dirs();
		fake_helper_body = real_helper;
		/* Refused on the target's side before anything is sent... */
		tio = targetio_create(dstdir, NULL, NULL);
		ck_assert_int_eq(sender_start(&r, tio, &s, &err), 0);
		ck_assert_int_eq(sender_queue(&s, hostile[i], 0, BLK, &err), -1);
		ck_assert_msg(strstr(err.msg, "refusing") != NULL, "%s", err.msg);
		sender_abort(&r, &s);
		targetio_free(tio);
		/* ...and by the helper, whatever the other side sends. */
		wire_put_header(frame, 'R', (uint32_t) (16 + plen));
		wire_put_u64(frame + WIRE_FRAME_HEADER, 0);
		wire_put_u64(frame + WIRE_FRAME_HEADER + 8, BLK);
		memcpy(frame + WIRE_FRAME_HEADER + 16, hostile[i], plen);
		ck_assert_int_eq(pipe(in), 0);
		ck_assert_int_eq(write(in[1], frame, WIRE_FRAME_HEADER + 16 + plen),
				 (ssize_t) (WIRE_FRAME_HEADER + 16 + plen));
		wire_put_header(frame, 'E', 0);
		ck_assert_int_eq(write(in[1], frame, WIRE_FRAME_HEADER), WIRE_FRAME_HEADER);
		close(in[1]);
		out = open("/dev/null", O_WRONLY);
		ck_assert_int_eq(sender_helper(srcdir, args, in[0], out, &err), -1);
		ck_assert_msg(strstr(err.msg, "refuses") != NULL, "%s", err.msg);
		close(in[0]);
		close(out);
		remove_dirs();
	}
}
END_TEST

START_TEST(test_a_helper_that_stops_half_way_is_an_error)
{
	struct recovery r = { .host = &fake_helper_host, .source_dbid = 3, .source_host = "h", .source_port = 1,
			      .compression = "lz4" };
	unsigned char *src = pages(4, 1);
	struct targetio *tio;
	struct sender s;
	struct errbuf err;

	make_dirs();
	fake_helper_body = stopping_helper;
	write_file(srcdir, "base/5/16384", src, 4 * BLK);
	tio = targetio_create(dstdir, NULL, NULL);
	ck_assert_int_eq(sender_start(&r, tio, &s, &err), 0);
	ck_assert_int_eq(sender_queue(&s, "base/5/16384", 0, BLK, &err), 0);
	ck_assert_int_eq(sender_queue(&s, "base/5/16384", 2 * BLK, BLK, &err), 0);
	ck_assert_int_eq(sender_finish(&r, &s, &err), -1);
	ck_assert_msg(strstr(err.msg, "source dbid 3") != NULL && strstr(err.msg, "ended") != NULL,
		      "%s", err.msg);
	targetio_free(tio);
	free(src);
	remove_dirs();
}
END_TEST

START_TEST(test_unknown_codecs_are_refused)
{
	const char *args[] = { SENDER_HELPER_ARG, "gzip", NULL };
	struct recovery r = { .host = &fake_helper_host, .compression = "gzip" };
	struct sender s;
	struct errbuf err;

	ck_assert_int_eq(sender_helper("/tmp", args, -1, -1, &err), -1);
	ck_assert_msg(strstr(err.msg, "gzip") != NULL, "%s", err.msg);
	ck_assert_int_eq(sender_start(&r, NULL, &s, &err), -1);
	ck_assert_int_eq(zstream_check_codec("zstd", &err), 0);
	ck_assert_int_eq(zstream_check_codec(NULL, &err), -1);
}
END_TEST

static Suite *sender_suite(void)
{
	Suite *s = suite_create("sender");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_ranges_and_whole_files_arrive_compressed);
	tcase_add_test(tc, test_paths_outside_the_data_directory_are_refused);
	tcase_add_test(tc, test_a_helper_that_stops_half_way_is_an_error);
	tcase_add_test(tc, test_unknown_codecs_are_refused);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(sender_suite)
