/*
 * Unit tests of the read-ahead helper (prefetch) through a real pipe and child process: the
 * ranges hinted are read into the page cache of the file they name, and a path outside the data
 * directory is refused whatever the other side sends.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "fakehelper.h"
#include "incremental/prefetch.h"
#include "unit.h"
#include "xalloc.h"

#define FILE_BYTES (8u << 20)

/* In the build directory: on the disk the data directories use (a tmpfs /tmp cannot evict). */
static char datadir[] = "build/prefetch-test-XXXXXX";

static int real_helper(const char *const *args, int in_fd, int out_fd)
{
	struct errbuf err;

	return prefetch_helper(datadir, args, in_fd, out_fd, &err);
}

static char *make_file(void)
{
	char *dir, *sub, *path, *buf = xmalloc(1u << 20);
	int fd;

	ck_assert(mkdtemp(datadir) != NULL);
	dir = path_join(datadir, "base");
	sub = path_join(dir, "5");
	path = path_join(sub, "16384");
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	memset(buf, 'x', 1u << 20);
	for (unsigned i = 0; i < FILE_BYTES >> 20; i++)
		ck_assert_int_eq(write(fd, buf, 1u << 20), 1 << 20);
	ck_assert_int_eq(fsync(fd), 0);
	/* Out of the page cache: clean pages go at once. */
	ck_assert_int_eq(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
	close(fd);
	free(buf);
	free(dir);
	free(sub);
	return path;
}

/* Pages of [off, off + len) of PATH in the page cache. */
static size_t resident_pages(const char *path, size_t off, size_t len)
{
	long page = sysconf(_SC_PAGESIZE);
	int fd = open(path, O_RDONLY);
	unsigned char *vec = xmalloc(len / (size_t) page + 1);
	void *map;
	size_t n = 0;

	ck_assert_int_ge(fd, 0);
	map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, (off_t) off);
	ck_assert(map != MAP_FAILED);
	ck_assert_int_eq(mincore(map, len, vec), 0);
	for (size_t i = 0; i < len / (size_t) page; i++)
		n += vec[i] & 1;
	munmap(map, len);
	close(fd);
	free(vec);
	return n;
}

static void remove_fixture(void)
{
	char *path = path_join(datadir, "base/5/16384"), *sub = path_join(datadir, "base/5"),
	     *dir = path_join(datadir, "base");

	unlink(path);
	rmdir(sub);
	rmdir(dir);
	rmdir(datadir);
	free(path);
	free(sub);
	free(dir);
}

START_TEST(test_hinted_ranges_are_read_ahead)
{
	struct recovery r = { .host = &fake_helper_host, .source_dbid = 3 };
	struct prefetch p;
	struct errbuf err;
	uint64_t advised = 0;
	char *path = make_file();
	size_t second = 4u << 20, len = 1u << 20, pages = len / (size_t) sysconf(_SC_PAGESIZE);
	size_t resident = 0;

	ck_assert_uint_lt(resident_pages(path, second, len), pages / 2);
	fake_helper_body = real_helper;
	ck_assert_msg(prefetch_start(&r, &p, &err) == 0, "%s", err.msg);
	prefetch_hint(&p, "base/5/16384", second, len);
	prefetch_hint(&p, "base/5/16384", 0, 8192);
	/* A file that vanished since it was listed is no error: the copy says what to do. */
	prefetch_hint(&p, "base/5/99999", 0, 8192);
	ck_assert_uint_eq(p.hinted, 3);
	ck_assert_msg(prefetch_finish(&r, &p, &advised, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(advised, len + 8192 + 8192);
	/* Read-ahead completes in the background: within a second here. */
	for (int i = 0; i < 100 && resident < pages; i++) {
		resident = resident_pages(path, second, len);
		if (resident < pages)
			nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
	}
	ck_assert_uint_eq(resident, pages);
	/* Only what was asked for (and the kernel's own readahead window is not 2 MB). */
	ck_assert_uint_lt(resident_pages(path, 6u << 20, 2u << 20), (2u << 20) / (size_t) sysconf(_SC_PAGESIZE));
	remove_fixture();
	free(path);
}
END_TEST

START_TEST(test_paths_outside_the_data_directory_are_refused)
{
	const char *hostile[] = { "../../etc/passwd", "/etc/passwd", "base/../../x" };

	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		struct recovery r = { .host = &fake_helper_host, .source_dbid = 3 };
		struct prefetch p;
		struct errbuf err;
		uint64_t advised = 0;
		char *path = make_file();

		fake_helper_body = real_helper;
		ck_assert_msg(prefetch_start(&r, &p, &err) == 0, "%s", err.msg);
		prefetch_hint(&p, hostile[i], 0, 4096);
		ck_assert_int_eq(prefetch_finish(&r, &p, &advised, &err), -1);
		ck_assert_uint_eq(advised, 0);
		remove_fixture();
		free(path);
		strcpy(datadir, "build/prefetch-test-XXXXXX");
	}
}
END_TEST

START_TEST(test_the_helper_takes_only_its_argument)
{
	const char *bad[] = { "prefetch", "more", NULL };
	struct errbuf err;

	ck_assert_int_eq(prefetch_helper("/tmp", bad, -1, -1, &err), -1);
	ck_assert_msg(strstr(err.msg, "\"prefetch\"") != NULL, "%s", err.msg);
}
END_TEST

static Suite *prefetch_suite(void)
{
	Suite *s = suite_create("prefetch");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_hinted_ranges_are_read_ahead);
	tcase_add_test(tc, test_paths_outside_the_data_directory_are_refused);
	tcase_add_test(tc, test_the_helper_takes_only_its_argument);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(prefetch_suite)
