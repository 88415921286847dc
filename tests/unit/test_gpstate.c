/* Unit tests of gpstate's pure parts: table layout, recovery progress lines, LSN arithmetic. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpstate/probe.h"
#include "gpstate/table.h"
#include "proto/progressfile.h"
#include "unit.h"

/* ---- state_table ---- */

static char *render(struct state_table *t, size_t row)
{
	size_t widths[32];

	state_table_widths(t, widths, 32);
	return state_table_render_row(t, row, widths);
}

START_TEST(table_columns_align)
{
	struct state_table t;
	char *a, *b;

	state_table_init(&t);
	state_table_row(&t, false, "Segment", "Port", "Status");
	state_table_row(&t, false, "127.0.0.1", "7804", "Down in configuration");
	a = render(&t, 0);
	b = render(&t, 1);
	/* Every cell but the last is padded to its column width plus three spaces; info rows are
	 * indented by three spaces. */
	ck_assert_str_eq(a, "   Segment     Port   Status");
	ck_assert_str_eq(b, "   127.0.0.1   7804   Down in configuration");
	free(a);
	free(b);
	state_table_free(&t);
}
END_TEST

START_TEST(table_warning_rows)
{
	struct state_table t;
	char *info, *warn;

	state_table_init(&t);
	state_table_kv(&t, false, "Total mirror segments", "%d", 2);
	state_table_kv(&t, true, "Total number postmaster processes missing", "%d", 1);
	ck_assert(state_table_has_warnings(&t));
	info = render(&t, 0);
	warn = render(&t, 1);
	/* A warning row is not indented (the [WARNING] tag is three characters longer than [INFO])
	 * and ends with an arrow after the padded value. */
	ck_assert_str_eq(info, "   Total mirror segments                       = 2");
	ck_assert_str_eq(warn, "Total number postmaster processes missing   = 1   <<<<<<<<");
	free(info);
	free(warn);
	state_table_free(&t);
}
END_TEST

START_TEST(table_last_cell_does_not_widen)
{
	struct state_table t;
	size_t widths[32];
	size_t ncols;
	char *warn;

	state_table_init(&t);
	state_table_kv(&t, false, "Error", "%s", "a very long message that is the last cell of its row");
	state_table_kv(&t, true, "PID", "%s", "Not found");
	ncols = state_table_widths(&t, widths, 32);
	ck_assert_uint_eq(ncols, 3);
	ck_assert_uint_eq(widths[0], strlen("Error"));
	ck_assert_uint_eq(widths[1], strlen("= Not found"));
	warn = render(&t, 1);
	ck_assert_str_eq(warn, "PID     = Not found   <<<<<<<<");
	free(warn);
	state_table_free(&t);
}
END_TEST

START_TEST(table_separator_and_empty_cells)
{
	struct state_table t;
	char *sep, *row;

	state_table_init(&t);
	state_table_separator(&t);
	state_table_row(&t, false, "a", "", "");
	sep = render(&t, 0);
	row = render(&t, 1);
	ck_assert_str_eq(sep, STATE_TABLE_SEPARATOR);
	ck_assert_str_eq(row, "   a"); /* no trailing blanks */
	free(sep);
	free(row);
	state_table_free(&t);
	/* A freed table can be used again. */
	state_table_row(&t, false, "x");
	ck_assert_uint_eq(t.nrows, 1);
	state_table_free(&t);
}
END_TEST

/* ---- state_progress ---- */

START_TEST(progress_basebackup_line)
{
	struct progress_entry p;

	ck_assert(progressfile_parse_line("full:4:1164848/1371715 kB (84%), 1/2 tablespaces (...)",
					    &p));
	ck_assert_int_eq(p.dbid, 4);
	ck_assert_str_eq(p.type, "full");
	ck_assert_int_eq(p.completed_kb, 1164848);
	ck_assert_int_eq(p.total_kb, 1371715);
	ck_assert_int_eq(p.percent, 84);
	ck_assert_int_eq(p.sent_kb, -1);
}
END_TEST

START_TEST(progress_differential_line_says_what_it_sent)
{
	struct progress_entry p;

	ck_assert(progressfile_parse_line("differential:5:40960/1613000 kB (2%), 310.2 MB/s, 812 kB sent",
					    &p));
	ck_assert_str_eq(p.type, "differential");
	ck_assert_int_eq(p.completed_kb, 40960);
	ck_assert_int_eq(p.percent, 2);
	ck_assert_int_eq(p.sent_kb, 812);
}
END_TEST

START_TEST(progress_text_before_numbers)
{
	struct progress_entry p;

	ck_assert(progressfile_parse_line("incremental:12:copied 164848/1371715 kB (12%)", &p));
	ck_assert_int_eq(p.dbid, 12);
	ck_assert_str_eq(p.type, "incremental");
	ck_assert_int_eq(p.completed_kb, 164848);
	ck_assert_int_eq(p.percent, 12);
}
END_TEST

START_TEST(progress_lines_without_kb_progress)
{
	struct progress_entry p;

	ck_assert(!progressfile_parse_line("full:4:waiting for checkpoint", &p));
	ck_assert(!progressfile_parse_line(
		"differential:5: 1,036,923,510  99%   39.90MB/s    0:00:24 (xfr#1, to-chk=0/1)", &p));
	ck_assert(!progressfile_parse_line("full:4:1164848/1371715 MB (84%)", &p));
	ck_assert(!progressfile_parse_line("full:4:1164848/1371715 kB (84)", &p));
	ck_assert(!progressfile_parse_line("full:x:1/2 kB (50%)", &p));
	ck_assert(!progressfile_parse_line("full:0:1/2 kB (50%)", &p));
	ck_assert(!progressfile_parse_line(":4:1/2 kB (50%)", &p));
	ck_assert(!progressfile_parse_line("Full:4:1/2 kB (50%)", &p));
	ck_assert(!progressfile_parse_line("full4:1/2 kB (50%)", &p));
	ck_assert(!progressfile_parse_line("", &p));
}
END_TEST

START_TEST(progress_find_skips_partial_numbers)
{
	long long done, total;
	int pct;

	/* "1/2 tablespaces" must not stop the search before the real match. */
	ck_assert(progressfile_find("x 1/2 tablespaces 10/20 kB (50%)", &done, &total, &pct));
	ck_assert_int_eq(done, 10);
	ck_assert_int_eq(total, 20);
	ck_assert_int_eq(pct, 50);
	ck_assert(!progressfile_find("10/20 kB (%)", &done, &total, &pct));
}
END_TEST

START_TEST(progress_read_file)
{
	char dir[] = "/tmp/test_gpstate.XXXXXX";
	char *path;
	FILE *f;
	struct progress_entry *e = NULL;
	size_t n = 0;
	struct errbuf err;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	path = malloc(strlen(dir) + 32);
	sprintf(path, "%s/recovery_progress.file", dir);
	/* A missing file means no segment is being copied. */
	ck_assert_int_eq(progressfile_read(path, &e, &n, &err), 0);
	ck_assert_uint_eq(n, 0);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("full:4:100/200 kB (50%)\n"
	      "incremental:5:no numbers yet\n"
	      "differential:6:3/4 kB (75%)\r\n"
	      "full:4:150/200 kB (75%)\n",
	      f);
	fclose(f);
	ck_assert_int_eq(progressfile_read(path, &e, &n, &err), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(e[0].dbid, 4);
	ck_assert_int_eq(e[0].completed_kb, 150); /* the newest line for a dbid wins */
	ck_assert_int_eq(e[1].dbid, 6);
	ck_assert_str_eq(e[1].type, "differential");
	free(e);
	unlink(path);
	rmdir(dir);
	free(path);
}
END_TEST

/* ---- state_probe helpers ---- */

START_TEST(lsn_diff)
{
	ck_assert_int_eq(state_lsn_diff("0/3000100", "0/3000000"), 256);
	ck_assert_int_eq(state_lsn_diff("1/0", "0/FFFFFFFF"), 1);
	ck_assert_int_eq(state_lsn_diff("0/3000000", "0/3000000"), 0);
	ck_assert_int_eq(state_lsn_diff("0/3000000", "0/3000100"), -1);
	ck_assert_int_eq(state_lsn_diff("", "0/3000000"), -1);
	ck_assert_int_eq(state_lsn_diff(NULL, "0/3000000"), -1);
}
END_TEST

START_TEST(host_check_output)
{
	struct instance_probe p;

	memset(&p, 0, sizeof(p));
	state_probe_parse_host_check("nofile\n", &p);
	ck_assert(!p.pidfile_found);
	ck_assert(!p.process_found);

	state_probe_parse_host_check("pid 4242\ncomm postgres\n", &p);
	ck_assert(p.pidfile_found);
	ck_assert_int_eq(p.pidfile_pid, 4242);
	ck_assert(p.process_found);

	/* A recycled PID that is not a postgres process. */
	state_probe_parse_host_check("pid 4242\ncomm bash\n", &p);
	ck_assert(p.pidfile_found);
	ck_assert(!p.process_found);

	/* The PID lives no more: ps prints nothing. */
	state_probe_parse_host_check("pid 4242\n", &p);
	ck_assert(p.pidfile_found);
	ck_assert_int_eq(p.pidfile_pid, 4242);
	ck_assert(!p.process_found);

	/* A single-user backend writes a negative PID. */
	state_probe_parse_host_check("pid -77\ncomm postgres\n", &p);
	ck_assert_int_eq(p.pidfile_pid, 77);
	ck_assert(p.process_found);
}
END_TEST

static Suite *gpstate_suite(void)
{
	Suite *s = suite_create("gpstate");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, table_columns_align);
	tcase_add_test(tc, table_warning_rows);
	tcase_add_test(tc, table_last_cell_does_not_widen);
	tcase_add_test(tc, table_separator_and_empty_cells);
	tcase_add_test(tc, progress_basebackup_line);
	tcase_add_test(tc, progress_differential_line_says_what_it_sent);
	tcase_add_test(tc, progress_text_before_numbers);
	tcase_add_test(tc, progress_lines_without_kb_progress);
	tcase_add_test(tc, progress_find_skips_partial_numbers);
	tcase_add_test(tc, progress_read_file);
	tcase_add_test(tc, lsn_diff);
	tcase_add_test(tc, host_check_output);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(gpstate_suite)
