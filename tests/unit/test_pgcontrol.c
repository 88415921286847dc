/* Unit tests of pgcontrol against control files written by a real PostgreSQL 15 server. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "pgcontrol.h"
#include "unit.h"
#include "xalloc.h"

/* The value after "LABEL:" in pg_controldata's output. */
static char *controldata_field(const char *report_path, const char *label)
{
	char *text = NULL, *line, *save = NULL, *found = NULL;
	size_t len;
	struct errbuf err;

	ck_assert_msg(read_small_file(report_path, &text, &len, &err) == 0, "%s", err.msg);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t n = strlen(label);

		if (strncmp(line, label, n) == 0 && line[n] == ':') {
			char *v = line + n + 1;

			while (*v == ' ')
				v++;
			found = xstrdup(v);
			break;
		}
	}
	free(text);
	ck_assert_msg(found != NULL, "no \"%s\" in %s", label, report_path);
	return found;
}

static void expect_lsn(const char *report, const char *label, lsn_t value)
{
	char *want = controldata_field(report, label);
	char got[32];

	snprintf(got, sizeof(got), LSN_FMT, LSN_ARGS(value));
	ck_assert_str_eq(got, want);
	free(want);
}

static void expect_uint(const char *report, const char *label, unsigned long long value)
{
	char *want = controldata_field(report, label);

	ck_assert_uint_eq(strtoull(want, NULL, 10), value);
	free(want);
}

static void check_against_report(const char *name, const char *state_text)
{
	char *bin = xasprintf("%s/pgcontrol/%s.pg_control", unit_fixture_dir(), name);
	char *report = xasprintf("%s/pgcontrol/%s.txt", unit_fixture_dir(), name);
	char *data = NULL, *state;
	size_t len;
	struct pgcontrol ctl;
	struct errbuf err;

	ck_assert_msg(read_small_file(bin, &data, &len, &err) == 0, "%s", err.msg);
	ck_assert_msg(pgcontrol_parse(data, len, &ctl, &err) == 0, "%s", err.msg);
	expect_uint(report, "Database system identifier", ctl.system_identifier);
	expect_uint(report, "pg_control version number", ctl.pg_control_version);
	expect_uint(report, "Catalog version number", ctl.catalog_version_no);
	expect_lsn(report, "Latest checkpoint location", ctl.checkpoint);
	expect_lsn(report, "Latest checkpoint's REDO location", ctl.redo);
	expect_uint(report, "Latest checkpoint's TimeLineID", ctl.timeline);
	expect_lsn(report, "Minimum recovery ending location", ctl.min_recovery_point);
	expect_uint(report, "Bytes per WAL segment", ctl.xlog_seg_size);
	expect_uint(report, "Data page checksum version", ctl.data_checksum_version);
	expect_uint(report, "Database block size", ctl.blcksz);
	state = controldata_field(report, "Database cluster state");
	ck_assert_str_eq(state, state_text);
	ck_assert_str_eq(pgcontrol_state_name(ctl.state), state_text);
	free(state);
	state = controldata_field(report, "wal_log_hints setting");
	ck_assert_int_eq(ctl.wal_log_hints, strcmp(state, "on") == 0);
	free(state);
	free(data);
	free(bin);
	free(report);
}

START_TEST(parses_shut_down_control_file)
{
	check_against_report("shutdown", "shut down");
}
END_TEST

START_TEST(parses_running_control_file)
{
	struct pgcontrol ctl;
	struct errbuf err;
	char *dir = xasprintf("%s/pgcontrol/running", unit_fixture_dir());

	check_against_report("running", "in production");
	ck_assert_msg(pgcontrol_read(dir, &ctl, &err) == 0, "%s", err.msg);
	ck_assert(!pgcontrol_is_shut_down(&ctl));
	free(dir);
}
END_TEST

START_TEST(rejects_damaged_files)
{
	char *bin = xasprintf("%s/pgcontrol/shutdown.pg_control", unit_fixture_dir());
	char *data = NULL;
	size_t len;
	struct pgcontrol ctl;
	struct errbuf err;

	ck_assert(read_small_file(bin, &data, &len, &err) == 0);
	ck_assert_int_eq(pgcontrol_parse(data, len - 1, &ctl, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "8191 bytes"));
	data[40] ^= 0x01; /* a bit of the checkpoint's redo pointer */
	ck_assert_int_eq(pgcontrol_parse(data, len, &ctl, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "CRC mismatch"));
	free(data);
	free(bin);
	ck_assert_int_eq(pgcontrol_read("/nonexistent-dir", &ctl, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent-dir/global/pg_control"));
}
END_TEST

START_TEST(rewrite_round_trips_and_pg_controldata_agrees)
{
	char tmpl[] = "/tmp/test_pgcontrol.XXXXXX";
	char *dir = mkdtemp(tmpl);
	char *global = path_join(dir, "global");
	char *src = xasprintf("%s/pgcontrol/running.pg_control", unit_fixture_dir());
	char *dst = path_join(global, "pg_control");
	char *data = NULL, *cmd, *report;
	size_t len;
	struct pgcontrol ctl, back;
	struct errbuf err;
	const char *pgbin = getenv("PGBIN");

	ck_assert(mkdir(global, 0700) == 0);
	ck_assert(read_small_file(src, &data, &len, &err) == 0);
	ck_assert(write_file_durable(dst, data, len, 0600, &err) == 0);
	ck_assert(pgcontrol_read(dir, &ctl, &err) == 0);
	ctl.state = DB_IN_ARCHIVE_RECOVERY;
	ctl.min_recovery_point = 0x123456789AULL;
	ctl.min_recovery_point_tli = 7;
	ck_assert_msg(pgcontrol_write(dir, &ctl, &err) == 0, "%s", err.msg);
	ck_assert_msg(pgcontrol_read(dir, &back, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(back.state, DB_IN_ARCHIVE_RECOVERY);
	ck_assert_uint_eq(back.min_recovery_point, 0x123456789AULL);
	ck_assert_uint_eq(back.min_recovery_point_tli, 7);
	ck_assert_uint_eq(back.system_identifier, ctl.system_identifier);
	ck_assert_uint_eq(back.checkpoint, ctl.checkpoint);

	/* The server's own reader must accept the rewritten file (CRC and layout). */
	report = path_join(dir, "report.txt");
	cmd = xasprintf("'%s/pg_controldata' '%s' > '%s' 2>&1", pgbin ? pgbin : "/usr/lib/postgresql/15/bin",
			dir, report);
	ck_assert_int_eq(system(cmd), 0);
	expect_lsn(report, "Minimum recovery ending location", 0x123456789AULL);
	expect_uint(report, "Min recovery ending loc's timeline", 7);
	{
		char *state = controldata_field(report, "Database cluster state");

		ck_assert_str_eq(state, "in archive recovery");
		free(state);
	}
	ck_assert(remove_tree(dir, &err) == 0);
	free(cmd);
	free(report);
	free(data);
	free(src);
	free(dst);
	free(global);
}
END_TEST

static Suite *pgcontrol_suite(void)
{
	Suite *s = suite_create("pgcontrol");
	TCase *tc = tcase_create("pgcontrol");

	tcase_add_test(tc, parses_shut_down_control_file);
	tcase_add_test(tc, parses_running_control_file);
	tcase_add_test(tc, rejects_damaged_files);
	tcase_add_test(tc, rewrite_round_trips_and_pg_controldata_agrees);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(pgcontrol_suite)
