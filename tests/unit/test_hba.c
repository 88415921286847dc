/* Unit tests of hba: the pg_hba.conf entries for a mirror and merging them into pg_hba.conf. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errbuf.h"
#include "fsutil.h"
#include "hba.h"
#include "strbuf.h"
#include "unit.h"
#include "xalloc.h"

/* How many lines of TEXT are exactly LINE. */
static int count_lines(const char *text, const char *line)
{
	size_t len = strlen(line);
	int n = 0;

	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t) (nl - p) : strlen(p);

		if (l == len && memcmp(p, line, len) == 0)
			n++;
		p += l + (nl ? 1 : 0);
	}
	return n;
}

static char *entries_for(const char *hostname, const char *address, const char *user,
			 bool use_hostnames)
{
	struct strbuf sb = STRBUF_INIT;
	struct errbuf err;

	strbuf_init(&sb, 0);
	errbuf_clear(&err);
	ck_assert_msg(hba_entries_for_mirror(hostname, address, user, use_hostnames, &sb, &err) ==
			      0,
		      "%s", err.msg);
	return strbuf_detach(&sb, NULL);
}

START_TEST(entries_for_ipv4)
{
	char *e = entries_for("sdw2", "127.0.0.1", "gpadmin", false);

	ck_assert_str_eq(e, "host all gpadmin 127.0.0.1/32 trust\n"
			    "host replication gpadmin 127.0.0.1/32 trust\n"
			    "host replication gpadmin samehost trust\n");
	free(e);
}
END_TEST

START_TEST(entries_for_ipv6)
{
	char *e = entries_for("sdw2", "::1", "gpadmin", false);

	ck_assert_str_eq(e, "host all gpadmin ::1/128 trust\n"
			    "host replication gpadmin ::1/128 trust\n"
			    "host replication gpadmin samehost trust\n");
	free(e);
	/* The bracketed form of a recovery configuration file works too. */
	e = entries_for(NULL, "[::1]", "gpadmin", false);
	ck_assert_int_eq(count_lines(e, "host all gpadmin ::1/128 trust"), 1);
	free(e);
}
END_TEST

START_TEST(entries_for_a_name_are_deduplicated)
{
	char *e = entries_for("localhost", "localhost", "gpadmin", false);
	const char *p;
	int lines = 0;

	ck_assert_int_eq(count_lines(e, "host all gpadmin 127.0.0.1/32 trust"), 1);
	ck_assert_int_eq(count_lines(e, "host replication gpadmin 127.0.0.1/32 trust"), 1);
	ck_assert_int_eq(count_lines(e, "host replication gpadmin samehost trust"), 1);
	/* No line twice (localhost may also resolve to ::1, and once per socket type). */
	for (p = e; *p; lines++) {
		const char *nl = strchr(p, '\n');
		char *line;

		ck_assert_ptr_nonnull(nl);
		line = xstrndup(p, (size_t) (nl - p));
		ck_assert_msg(count_lines(e, line) == 1, "twice: %s", line);
		ck_assert_msg(strncmp(line, "host all gpadmin ", 17) == 0 ||
				      strncmp(line, "host replication gpadmin ", 25) == 0,
			      "%s", line);
		free(line);
		p = nl + 1;
	}
	ck_assert_int_eq(lines % 2, 1);
	free(e);
}
END_TEST

START_TEST(entries_with_hostnames)
{
	char *e = entries_for("sdw2.example.com", "10.1.2.3", "gpadmin", true);

	ck_assert_str_eq(e, "host all gpadmin sdw2.example.com trust\n"
			    "host replication gpadmin sdw2.example.com trust\n"
			    "host replication gpadmin samehost trust\n");
	free(e);
}
END_TEST

START_TEST(entries_errors)
{
	struct strbuf sb = STRBUF_INIT;
	struct errbuf err;

	strbuf_init(&sb, 0);
	ck_assert_int_eq(hba_entries_for_mirror("x", "no-such-host.invalid", "gpadmin", false, &sb,
						&err),
			 -1);
	ck_assert_msg(strstr(err.msg, "\"no-such-host.invalid\"") != NULL, "%s", err.msg);
	ck_assert_int_eq(hba_entries_for_mirror(NULL, "10.0.0.1", "gpadmin", true, &sb, &err), -1);
	ck_assert_msg(strstr(err.msg, "10.0.0.1") != NULL, "%s", err.msg);
	ck_assert_int_eq(hba_entries_for_mirror("h", "127.0.0.1", "", false, &sb, &err), -1);
	ck_assert_int_eq(hba_entries_for_mirror("h", "127.0.0.1", "a\"b", false, &sb, &err), -1);
	ck_assert_uint_eq(sb.len, 0);
	strbuf_release(&sb);
}
END_TEST

START_TEST(entries_quote_special_user_names)
{
	char *e = entries_for("h", "127.0.0.1", "all", false);

	ck_assert_int_eq(count_lines(e, "host all \"all\" 127.0.0.1/32 trust"), 1);
	free(e);
	e = entries_for("h", "127.0.0.1", "Gp Admin", false);
	ck_assert_int_eq(count_lines(e, "host replication \"Gp Admin\" samehost trust"), 1);
	free(e);
}
END_TEST

static const char entries[] = "host all gpadmin 10.0.0.2/32 trust\n"
			      "host replication gpadmin 10.0.0.2/32 trust\n"
			      "host replication gpadmin samehost trust\n";

START_TEST(merge_adds_missing_entries_once)
{
	const char *old = "# TYPE DATABASE USER ADDRESS METHOD\n"
			  "local all all trust\n"
			  "host all all 127.0.0.1/32 trust";
	struct strbuf first = STRBUF_INIT, second = STRBUF_INIT;
	bool changed = false;

	strbuf_init(&first, 0);
	strbuf_init(&second, 0);
	hba_merge(old, entries, &first, &changed);
	ck_assert(changed);
	/* The old text byte for byte, a newline added at its end, then the marker and entries. */
	ck_assert_int_eq(strncmp(first.buf, old, strlen(old)), 0);
	ck_assert_str_eq(first.buf + strlen(old), "\n" HBA_MARKER "\n"
						  "host all gpadmin 10.0.0.2/32 trust\n"
						  "host replication gpadmin 10.0.0.2/32 trust\n"
						  "host replication gpadmin samehost trust\n");

	hba_merge(first.buf, entries, &second, &changed);
	ck_assert(!changed);
	ck_assert_str_eq(second.buf, first.buf);
	ck_assert_int_eq(count_lines(second.buf, HBA_MARKER), 1);
	strbuf_release(&first);
	strbuf_release(&second);
}
END_TEST

START_TEST(merge_ignores_whitespace_and_trailing_comments)
{
	const char *old = "local all all trust\r\n"
			  "  host\tall   gpadmin 10.0.0.2/32\t\ttrust  \r\n"
			  "host replication gpadmin 10.0.0.2/32 trust # added by hand\n"
			  "host    replication gpadmin samehost trust\n";
	struct strbuf out = STRBUF_INIT;
	bool changed = true;

	strbuf_init(&out, 0);
	hba_merge(old, entries, &out, &changed);
	ck_assert(!changed);
	ck_assert_str_eq(out.buf, old);
	strbuf_release(&out);
}
END_TEST

START_TEST(merge_commented_entry_does_not_count)
{
	const char *old = "local all all trust\n"
			  "#host all gpadmin 10.0.0.2/32 trust\n"
			  "  # host replication gpadmin 10.0.0.2/32 trust\n"
			  "host replication gpadmin samehost trust\n";
	struct strbuf out = STRBUF_INIT;
	bool changed = false;

	strbuf_init(&out, 0);
	hba_merge(old, entries, &out, &changed);
	ck_assert(changed);
	ck_assert_str_eq(out.buf, "local all all trust\n"
				  "#host all gpadmin 10.0.0.2/32 trust\n"
				  "  # host replication gpadmin 10.0.0.2/32 trust\n"
				  "host replication gpadmin samehost trust\n" HBA_MARKER "\n"
				  "host all gpadmin 10.0.0.2/32 trust\n"
				  "host replication gpadmin 10.0.0.2/32 trust\n");
	strbuf_release(&out);
}
END_TEST

START_TEST(merge_edge_cases)
{
	struct strbuf out = STRBUF_INIT;
	bool changed = false;

	/* Empty file: just the marker and the entries. */
	strbuf_init(&out, 0);
	hba_merge("", "host all u 10.0.0.9/32 trust\n", &out, &changed);
	ck_assert(changed);
	ck_assert_str_eq(out.buf, HBA_MARKER "\nhost all u 10.0.0.9/32 trust\n");
	strbuf_reset(&out);

	/* Nothing to add: the old text exactly, a final newline added. */
	hba_merge("local all all trust", "", &out, &changed);
	ck_assert(!changed);
	ck_assert_str_eq(out.buf, "local all all trust\n");
	strbuf_reset(&out);

	/* Entries given twice, or with blank lines and extra spaces, are added once. */
	hba_merge("local all all trust\n",
		  "host all u 10.0.0.9/32 trust\n\n  host  all u 10.0.0.9/32 trust  \n", &out,
		  &changed);
	ck_assert(changed);
	ck_assert_str_eq(out.buf, "local all all trust\n" HBA_MARKER "\n"
				  "host all u 10.0.0.9/32 trust\n");
	strbuf_release(&out);
}
END_TEST

START_TEST(update_file_keeps_mode)
{
	char dir[] = "/tmp/test_hba.XXXXXX";
	const char *old = "local all all trust\nhost all all 127.0.0.1/32 trust\n";
	struct errbuf err;
	struct stat st;
	bool changed = false;
	char *path, *text, *link, *missing;
	size_t len;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	path = path_join(dir, "pg_hba.conf");
	link = path_join(dir, "hba-link");
	missing = path_join(dir, "missing.conf");
	ck_assert(write_file_durable(path, old, strlen(old), 0600, &err) == 0);
	ck_assert_int_eq(chmod(path, 0600), 0);

	ck_assert_msg(hba_update_file(path, entries, &changed, &err) == 0, "%s", err.msg);
	ck_assert(changed);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(read_small_file(path, &text, &len, &err), 0);
	ck_assert_int_eq(strncmp(text, old, strlen(old)), 0);
	ck_assert_str_eq(text + strlen(old), HBA_MARKER "\n"
					     "host all gpadmin 10.0.0.2/32 trust\n"
					     "host replication gpadmin 10.0.0.2/32 trust\n"
					     "host replication gpadmin samehost trust\n");
	free(text);

	/* Again: nothing to add, nothing written. */
	ck_assert_msg(hba_update_file(path, entries, &changed, &err) == 0, "%s", err.msg);
	ck_assert(!changed);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);

	/* Through a symbolic link: the file it points to is updated, the link stays. */
	ck_assert_int_eq(symlink("pg_hba.conf", link), 0);
	ck_assert_msg(hba_update_file(link, "host all u 10.0.0.7/32 trust\n", &changed, &err) == 0,
		      "%s", err.msg);
	ck_assert(changed);
	ck_assert_int_eq(lstat(link, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	ck_assert_int_eq(read_small_file(path, &text, &len, &err), 0);
	ck_assert_int_eq(count_lines(text, "host all u 10.0.0.7/32 trust"), 1);
	free(text);

	ck_assert_int_eq(hba_update_file(missing, entries, &changed, &err), -1);
	ck_assert(!changed);
	ck_assert_msg(strstr(err.msg, missing) != NULL, "%s", err.msg);

	unlink(link);
	unlink(path);
	rmdir(dir);
	free(path);
	free(link);
	free(missing);
}
END_TEST

static Suite *hba_suite(void)
{
	Suite *s = suite_create("hba");
	TCase *tc = tcase_create("hba");

	tcase_add_test(tc, entries_for_ipv4);
	tcase_add_test(tc, entries_for_ipv6);
	tcase_add_test(tc, entries_for_a_name_are_deduplicated);
	tcase_add_test(tc, entries_with_hostnames);
	tcase_add_test(tc, entries_errors);
	tcase_add_test(tc, entries_quote_special_user_names);
	tcase_add_test(tc, merge_adds_missing_entries_once);
	tcase_add_test(tc, merge_ignores_whitespace_and_trailing_comments);
	tcase_add_test(tc, merge_commented_entry_does_not_count);
	tcase_add_test(tc, merge_edge_cases);
	tcase_add_test(tc, update_file_keeps_mode);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(hba_suite)
