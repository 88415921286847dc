/*
 * Unit tests of timeline: history files (real ones from the wal fixture, and crafted text), the
 * common ancestor and divergence point of two histories, WAL file names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timeline.h"
#include "unit.h"
#include "xalloc.h"

static lsn_t lsn_of(const char *text)
{
	unsigned hi, lo;

	ck_assert_msg(sscanf(text, "%X/%X", &hi, &lo) == 2, "not an LSN: %s", text);
	return ((lsn_t) hi << 32) | lo;
}

static void parse_ok(const char *text, uint32_t tli, struct timeline_history *h)
{
	struct errbuf err;

	ck_assert_msg(timeline_history_parse(text, strlen(text), tli, "test.history", h, &err) == 0,
		      "%s", err.msg);
}

/* Parsing must fail, and the message must contain each of the given pieces. */
static void parse_fails(const char *text, uint32_t tli, const char *want1, const char *want2)
{
	struct timeline_history h = { NULL, 0 };
	struct errbuf err;

	ck_assert_int_eq(timeline_history_parse(text, strlen(text), tli, "test.history", &h, &err),
			 -1);
	ck_assert_msg(strstr(err.msg, want1) != NULL, "\"%s\" lacks \"%s\"", err.msg, want1);
	if (want2)
		ck_assert_msg(strstr(err.msg, want2) != NULL, "\"%s\" lacks \"%s\"", err.msg,
			      want2);
	ck_assert_ptr_null(h.entries);
}

static void expect_entry(const struct timeline_history *h, size_t i, uint32_t tli, lsn_t begin,
			 lsn_t end)
{
	ck_assert_uint_lt(i, h->count);
	ck_assert_uint_eq(h->entries[i].tli, tli);
	ck_assert_msg(h->entries[i].begin == begin, "entry %zu begins at %X/%X, expected %X/%X", i,
		      LSN_ARGS(h->entries[i].begin), LSN_ARGS(begin));
	ck_assert_msg(h->entries[i].end == end, "entry %zu ends at %X/%X, expected %X/%X", i,
		      LSN_ARGS(h->entries[i].end), LSN_ARGS(end));
}

/* The switch point of line LINE (1-based, non-comment) of a fixture's history file, read plainly. */
static lsn_t fixture_switch_point(const char *cluster, uint32_t tli, int line)
{
	char *path = xasprintf("%s/wal/%s/pg_wal/%08X.history", unit_fixture_dir(), cluster, tli);
	FILE *f = fopen(path, "r");
	char buf[256], lsn[64];
	unsigned parent;
	int n = 0;

	ck_assert_msg(f != NULL, "missing fixture %s: run tests/unit/fixtures/wal.sh", path);
	while (fgets(buf, sizeof(buf), f)) {
		if (sscanf(buf, "%u %63s", &parent, lsn) == 2 && ++n == line) {
			fclose(f);
			free(path);
			return lsn_of(lsn);
		}
	}
	fclose(f);
	ck_abort_msg("%s has no line %d", path, line);
	return 0;
}

static void load_fixture_history(const char *cluster, uint32_t tli, struct timeline_history *h)
{
	char *dir = xasprintf("%s/wal/%s/pg_wal", unit_fixture_dir(), cluster);
	struct errbuf err;

	ck_assert_msg(timeline_history_load(dir, tli, h, &err) == 0, "%s", err.msg);
	free(dir);
}

START_TEST(parses_real_history_files)
{
	struct timeline_history b, c;
	lsn_t x1 = fixture_switch_point("b", 2, 1), x2 = fixture_switch_point("c", 3, 2);

	load_fixture_history("b", 2, &b);
	ck_assert_uint_eq(b.count, 2);
	expect_entry(&b, 0, 1, LSN_INVALID, x1);
	expect_entry(&b, 1, 2, x1, LSN_INVALID);
	ck_assert_uint_eq(timeline_history_tli(&b), 2);

	/* c's file repeats b's line and adds its own (the server copies the parent's file). */
	load_fixture_history("c", 3, &c);
	ck_assert_uint_eq(c.count, 3);
	ck_assert_uint_eq(fixture_switch_point("c", 3, 1), x1);
	expect_entry(&c, 0, 1, LSN_INVALID, x1);
	expect_entry(&c, 1, 2, x1, x2);
	expect_entry(&c, 2, 3, x2, LSN_INVALID);
	ck_assert_uint_gt(x2, x1);
	timeline_history_release(&b);
	timeline_history_release(&c);
}
END_TEST

START_TEST(timeline_one_has_no_file)
{
	struct timeline_history h;
	struct errbuf err;

	timeline_history_init_first(&h);
	ck_assert_uint_eq(h.count, 1);
	expect_entry(&h, 0, 1, LSN_INVALID, LSN_INVALID);
	timeline_history_release(&h);
	ck_assert_ptr_null(h.entries);
	/* Loading timeline 1 from anywhere gives the same, without reading a file. */
	ck_assert_int_eq(timeline_history_load("/nonexistent", 1, &h, &err), 0);
	ck_assert_uint_eq(h.count, 1);
	timeline_history_release(&h);
	/* Any other timeline needs its file. */
	ck_assert_int_eq(timeline_history_load("/nonexistent", 7, &h, &err), -1);
	ck_assert_msg(strstr(err.msg, "/nonexistent/00000007.history"), "%s", err.msg);
}
END_TEST

START_TEST(parses_comments_blank_lines_and_reasons)
{
	struct timeline_history h, copy;

	parse_ok("# a comment\n"
		 "\n"
		 "1\t0/3000158\tno recovery target specified\n"
		 "   \t\n"
		 "  # indented comment\n"
		 "2\t0/5000000\tat restore point \"before upgrade\"\r\n"
		 "4 1/A0 \n"
		 "6\tFF/FFFFFFF8",
		 7, &h);
	ck_assert_uint_eq(h.count, 5);
	expect_entry(&h, 0, 1, LSN_INVALID, 0x3000158);
	expect_entry(&h, 1, 2, 0x3000158, 0x5000000);
	expect_entry(&h, 2, 4, 0x5000000, 0x1000000A0ULL);
	expect_entry(&h, 3, 6, 0x1000000A0ULL, 0xFFFFFFFFF8ULL);
	expect_entry(&h, 4, 7, 0xFFFFFFFFF8ULL, LSN_INVALID);
	timeline_history_copy(&copy, &h);
	timeline_history_release(&h);
	expect_entry(&copy, 4, 7, 0xFFFFFFFFF8ULL, LSN_INVALID);
	timeline_history_release(&copy);

	/* An empty file (or only comments): just the file's own timeline. */
	parse_ok("# nothing\n", 5, &h);
	ck_assert_uint_eq(h.count, 1);
	expect_entry(&h, 0, 5, LSN_INVALID, LSN_INVALID);
	timeline_history_release(&h);
}
END_TEST

START_TEST(refuses_bad_history_files)
{
	/* Timelines out of order, with the line number (comments and blank lines count). */
	parse_fails("1\t0/100\treason\n# c\n\n3\t0/200\n2\t0/300\n", 5, "line 5", "increasing");
	parse_fails("2\t0/100\n2\t0/200\n", 5, "line 2", "increasing");
	/* A parent timeline not below the file's own. */
	parse_fails("1\t0/100\n3\t0/200\n", 3, "line 2", "less than");
	/* Malformed switch points. */
	parse_fails("1\t0/XYZ\n", 2, "line 1", "switch point");
	parse_fails("1\t0-100\n", 2, "line 1", "switch point");
	parse_fails("1\t0/\n", 2, "line 1", "switch point");
	parse_fails("1\n", 2, "line 1", "switch point");
	parse_fails("\n\n1\t123456789/0\n", 2, "line 3", "switch point");
	parse_fails("1\t0/100x\n", 2, "line 1", "switch point");
	/* No timeline ID. */
	parse_fails("x\t0/100\n", 2, "line 1", "timeline ID");
	parse_fails("1x\t0/100\n", 2, "line 1", "timeline ID");
	parse_fails("99999999999\t0/100\n", 2, "line 1", "out of range");
	/* Switch points going back, or invalid. */
	parse_fails("1\t0/300\n2\t0/200\n", 3, "line 2", "0/200");
	parse_fails("1\t0/0\n", 2, "line 1", "switch point");
	/* Timeline 0 does not exist. */
	parse_fails("", 0, "timeline 0", NULL);
	parse_fails("0\t0/100\n", 2, "line 1", "increasing");
	/* The file name is in the message. */
	parse_fails("1\t0/XYZ\n", 2, "test.history", NULL);
}
END_TEST

static void divergence(const struct timeline_history *source, const struct timeline_history *target,
		       size_t index, uint32_t tli, lsn_t lsn)
{
	struct timeline_divergence d;
	struct errbuf err;

	ck_assert_msg(timeline_find_common_ancestor(source, target, &d, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(d.index, index);
	ck_assert_uint_eq(d.tli, tli);
	ck_assert_msg(d.lsn == lsn, "divergence at %X/%X, expected %X/%X", LSN_ARGS(d.lsn),
		      LSN_ARGS(lsn));
}

START_TEST(finds_common_ancestor_and_divergence)
{
	struct timeline_history one, b, c, other, same_number, no_one;
	struct timeline_divergence d;
	struct errbuf err;
	lsn_t x1 = fixture_switch_point("b", 2, 1), x2 = fixture_switch_point("c", 3, 2);

	timeline_history_init_first(&one);
	load_fixture_history("b", 2, &b);
	load_fixture_history("c", 3, &c);

	/* Same timeline on both sides: no divergence. */
	divergence(&one, &one, 0, 1, LSN_INVALID);
	divergence(&c, &c, 2, 3, LSN_INVALID);

	/* The target is an ancestor (a stayed on timeline 1; b was promoted from it). */
	divergence(&b, &one, 0, 1, x1);
	divergence(&one, &b, 0, 1, x1);

	/* The source is two levels ahead: c (1 -> 2 -> 3) against b (1 -> 2), and against a. */
	divergence(&c, &b, 1, 2, x2);
	divergence(&c, &one, 0, 1, x1);

	/* Both branched from timeline 1, at different points: the earlier switch is where. */
	parse_ok("1\t0/1000000\tother branch\n", 3, &other);
	divergence(&b, &other, 0, 1, x1 < 0x1000000 ? x1 : 0x1000000);
	divergence(&other, &b, 0, 1, x1 < 0x1000000 ? x1 : 0x1000000);

	/* Both promoted to "timeline 2" on their own: same number, other begin, not common. */
	parse_ok("1\t0/2000\n", 2, &same_number);
	divergence(&b, &same_number, 0, 1, x1 < 0x2000 ? x1 : 0x2000);

	/* No common timeline at all. */
	parse_ok("2\t0/1000\n", 3, &no_one);
	ck_assert_int_eq(timeline_find_common_ancestor(&no_one, &one, &d, &err), -1);
	ck_assert_msg(strstr(err.msg, "common ancestor"), "%s", err.msg);

	timeline_history_release(&one);
	timeline_history_release(&b);
	timeline_history_release(&c);
	timeline_history_release(&other);
	timeline_history_release(&same_number);
	timeline_history_release(&no_one);
}
END_TEST

START_TEST(maps_lsns_and_segments_to_timelines)
{
	struct timeline_history c, boundary;
	lsn_t x1 = fixture_switch_point("b", 2, 1), x2 = fixture_switch_point("c", 3, 2);
	uint32_t mb = 1u << 20;

	load_fixture_history("c", 3, &c);
	ck_assert_uint_eq(timeline_tli_of_lsn(&c, 0), 1);
	ck_assert_uint_eq(timeline_tli_of_lsn(&c, x1 - 1), 1);
	ck_assert_uint_eq(timeline_tli_of_lsn(&c, x1), 2);
	ck_assert_uint_eq(timeline_tli_of_lsn(&c, x2 - 1), 2);
	ck_assert_uint_eq(timeline_tli_of_lsn(&c, x2), 3);
	ck_assert_uint_eq(timeline_tli_of_lsn(&c, UINT64_MAX), 3);

	/* The segment of a switch point is read from the new timeline's file. */
	ck_assert_uint_eq(timeline_tli_of_segment(&c, x1 / mb - 1, mb), 1);
	ck_assert_uint_eq(timeline_tli_of_segment(&c, x1 / mb, mb), x1 / mb == x2 / mb ? 3 : 2);
	ck_assert_uint_eq(timeline_tli_of_segment(&c, x2 / mb, mb), 3);
	ck_assert_uint_eq(timeline_tli_of_segment(&c, x2 / mb + 100, mb), 3);

	/* A switch exactly at a segment boundary leaves the segment before it on the old timeline. */
	parse_ok("1\t0/3000000\n", 2, &boundary);
	ck_assert_uint_eq(timeline_tli_of_segment(&boundary, 2, 16 * mb), 1);
	ck_assert_uint_eq(timeline_tli_of_segment(&boundary, 3, 16 * mb), 2);
	ck_assert_uint_eq(timeline_tli_of_segment(&boundary, 0x2F, mb), 1);
	ck_assert_uint_eq(timeline_tli_of_segment(&boundary, 0x30, mb), 2);
	ck_assert_uint_eq(timeline_tli_of_lsn(&boundary, 0x2FFFFFF), 1);
	ck_assert_uint_eq(timeline_tli_of_lsn(&boundary, 0x3000000), 2);
	timeline_history_release(&boundary);
	timeline_history_release(&c);
}
END_TEST

START_TEST(formats_and_parses_wal_file_names)
{
	char name[WAL_FILE_NAME_LEN + 1];
	uint32_t tli, mb = 1u << 20;
	uint64_t segno;

	/* 16 MB: 256 segments per 4 GB. */
	wal_file_name(name, 1, 3, 16 * mb);
	ck_assert_str_eq(name, "000000010000000000000003");
	wal_file_name(name, 2, 0x1FF, 16 * mb);
	ck_assert_str_eq(name, "0000000200000001000000FF");
	wal_file_name(name, 0xABCDEF12, 0x100, 16 * mb);
	ck_assert_str_eq(name, "ABCDEF120000000100000000");
	/* 1 MB: 4096 per 4 GB. */
	wal_file_name(name, 2, 0x1C, mb);
	ck_assert_str_eq(name, "00000002000000000000001C");
	wal_file_name(name, 1, 0x1234, mb);
	ck_assert_str_eq(name, "000000010000000100000234");
	/* 1 GB: 4 per 4 GB. */
	wal_file_name(name, 1, 9, 1024 * mb);
	ck_assert_str_eq(name, "000000010000000200000001");

	ck_assert(wal_file_name_parse("0000000200000001000000FF", 16 * mb, &tli, &segno));
	ck_assert_uint_eq(tli, 2);
	ck_assert_uint_eq(segno, 0x1FF);
	ck_assert(wal_file_name_parse("000000010000000100000234", mb, &tli, &segno));
	ck_assert_uint_eq(segno, 0x1234);
	/* The same low part is a valid 1 MB name but not a 16 MB one. */
	ck_assert(wal_file_name_parse("000000010000000000000100", mb, &tli, &segno));
	ck_assert_uint_eq(segno, 0x100);
	ck_assert(!wal_file_name_parse("000000010000000000000100", 16 * mb, &tli, &segno));
	/* Not segment names. */
	ck_assert(!wal_file_name_parse("00000002.history", mb, &tli, &segno));
	ck_assert(!wal_file_name_parse("00000001000000000000001C.partial", mb, &tli, &segno));
	ck_assert(!wal_file_name_parse("00000001000000000000001c", mb, &tli, &segno));
	ck_assert(!wal_file_name_parse("00000001000000000000001", mb, &tli, &segno));
	ck_assert(!wal_file_name_parse("000000000000000000000001", mb, &tli, &segno));
	ck_assert(!wal_file_name_parse("00000001000000000000000G", mb, &tli, &segno));
	ck_assert(!wal_file_name_parse("000000010000000000000001", 3 * mb, &tli, &segno));

	/* Round trip over sizes and positions. */
	for (uint32_t size = mb; size != 0 && size <= 1024 * mb; size *= 2) {
		uint64_t s;

		for (s = 0; s < 100000; s += 997) {
			wal_file_name(name, 5, s, size);
			ck_assert(wal_file_name_parse(name, size, &tli, &segno));
			ck_assert_uint_eq(tli, 5);
			ck_assert_uint_eq(segno, s);
		}
	}
	ck_assert(wal_seg_size_valid(mb));
	ck_assert(wal_seg_size_valid(1024 * mb));
	ck_assert(!wal_seg_size_valid(mb / 2));
	ck_assert(!wal_seg_size_valid(2048 * mb));
	ck_assert(!wal_seg_size_valid(3 * mb));
	ck_assert(!wal_seg_size_valid(0));
}
END_TEST

static Suite *timeline_suite(void)
{
	Suite *s = suite_create("timeline");
	TCase *tc = tcase_create("timeline");

	tcase_add_test(tc, parses_real_history_files);
	tcase_add_test(tc, timeline_one_has_no_file);
	tcase_add_test(tc, parses_comments_blank_lines_and_reasons);
	tcase_add_test(tc, refuses_bad_history_files);
	tcase_add_test(tc, finds_common_ancestor_and_divergence);
	tcase_add_test(tc, maps_lsns_and_segments_to_timelines);
	tcase_add_test(tc, formats_and_parses_wal_file_names);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(timeline_suite)
