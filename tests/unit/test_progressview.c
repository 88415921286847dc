/*
 * Unit tests of progressview's texts: a copying row with its ETA, the total line of every copy, and
 * one unit system with the plan and the summary.
 */
#include <string.h>

#include "driver/dispatch.h"
#include "driver/progressview.h"
#include "unit.h"
#include "units.h"

#define MiB (UINT64_C(1024) * 1024)

START_TEST(eta_format)
{
	char buf[32];

	pview_format_eta(0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "0:00");
	pview_format_eta(65.4, buf, sizeof(buf));
	ck_assert_str_eq(buf, "1:05");
	pview_format_eta(3600 * 12 + 3, buf, sizeof(buf));
	ck_assert_str_eq(buf, "12:00:03");
	pview_format_eta(-5, buf, sizeof(buf));
	ck_assert_str_eq(buf, "0:00");
}
END_TEST

static void copying(struct run_row *r, uint64_t done, uint64_t total, double started)
{
	memset(r, 0, sizeof(*r));
	r->state = RUN_COPYING;
	snprintf(r->phase, sizeof(r->phase), "copy");
	r->done = done;
	r->total = total;
	r->t_copy_start = started;
}

START_TEST(row_text_has_an_eta)
{
	struct run_row r;
	char buf[256];

	/* 100 MB of 300 MB in 10 s: 10 MB/s, 20 s to go. */
	copying(&r, 100 * MiB, 300 * MiB, 100.0);
	pview_row_text(&r, 110.0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "102400/307200 kB (33%), 10.0 MB/s, ETA 0:20");
	/* done: no ETA */
	copying(&r, 300 * MiB, 300 * MiB, 100.0);
	pview_row_text(&r, 110.0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "307200/307200 kB (100%), 30.0 MB/s");
}
END_TEST

START_TEST(total_of_every_copy)
{
	struct run_row rows[3];
	char buf[256];

	copying(&rows[0], 100 * MiB, 200 * MiB, 100.0);
	copying(&rows[1], 50 * MiB, 100 * MiB, 105.0);
	memset(&rows[2], 0, sizeof(rows[2]));
	rows[2].state = RUN_PENDING;
	/* 150 MB of 300 MB since t=100, now 110: 15 MB/s, 10 s to go. */
	ck_assert(pview_total_text(rows, 3, 110.0, buf, sizeof(buf)));
	ck_assert_str_eq(buf, "total: 153600/307200 kB (50%), 15.0 MB/s, ETA 0:10");
	/* nothing knows its total yet */
	rows[0].total = rows[1].total = 0;
	ck_assert(!pview_total_text(rows, 3, 110.0, buf, sizeof(buf)));
}
END_TEST

/* The plan's and the summary's sizes read in the progress lines' units (a kB of 1024 bytes). */
START_TEST(summary_and_progress_share_units)
{
	struct run_row r;
	char row[256], summary[32];

	/* The summary used to say 495.0 MB (powers of 1000) next to a row of 483366 kB. */
	copying(&r, 483366 * UINT64_C(1024), 483366 * UINT64_C(1024), 100.0);
	pview_row_text(&r, 110.0, row, sizeof(row));
	ck_assert_str_eq(row, "483366/483366 kB (100%), 47.2 MB/s");
	units_format_bytes(r.done, summary, sizeof(summary));
	ck_assert_str_eq(summary, "472.0 MB");
	units_format_bytes(1023 * UINT64_C(1024), summary, sizeof(summary));
	ck_assert_str_eq(summary, "1023 kB");
	units_format_bytes(1, summary, sizeof(summary));
	ck_assert_str_eq(summary, "1 kB");
	units_format_bytes(MiB, summary, sizeof(summary));
	ck_assert_str_eq(summary, "1.0 MB");
	units_format_bytes(1536 * MiB, summary, sizeof(summary));
	ck_assert_str_eq(summary, "1.50 GB");
	ck_assert_uint_eq(units_whole_mb(2 * MiB - 1), 1);
}
END_TEST

static Suite *progressview_suite(void)
{
	Suite *s = suite_create("progressview");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, eta_format);
	tcase_add_test(tc, row_text_has_an_eta);
	tcase_add_test(tc, total_of_every_copy);
	tcase_add_test(tc, summary_and_progress_share_units);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(progressview_suite)
