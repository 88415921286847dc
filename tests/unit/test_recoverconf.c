/* Unit tests of recoverconf: the gprecoverseg -i / -o recovery configuration file. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver/recoverconf.h"
#include "errbuf.h"
#include "fsutil.h"
#include "segment.h"
#include "strbuf.h"
#include "targetguard.h"
#include "unit.h"
#include "xalloc.h"

#define FILE_NAME "recover.conf"

/* Parse TEXT, expect failure with exactly MSG, and an empty result. */
static void expect_error(const char *text, const char *msg)
{
	struct recoverconf conf = { (void *) 1, 99 };
	struct errbuf err;

	errbuf_clear(&err);
	ck_assert_msg(recoverconf_parse(text, FILE_NAME, &conf, &err) == -1,
		      "accepted: \"%s\"", text);
	ck_assert_str_eq(err.msg, msg);
	ck_assert_ptr_null(conf.entries);
	ck_assert_uint_eq(conf.nentries, 0);
	recoverconf_free(&conf);
}

static void parse_ok(const char *text, struct recoverconf *conf)
{
	struct errbuf err;

	errbuf_clear(&err);
	ck_assert_msg(recoverconf_parse(text, FILE_NAME, conf, &err) == 0, "\"%s\": %s", text,
		      err.msg);
}

static void check_location(const struct recoverconf_location *loc, const char *hostname,
			   const char *address, int port, const char *datadir)
{
	if (hostname)
		ck_assert_str_eq(loc->hostname, hostname);
	else
		ck_assert_ptr_null(loc->hostname);
	ck_assert_str_eq(loc->address, address);
	ck_assert_int_eq(loc->port, port);
	ck_assert_str_eq(loc->datadir, datadir);
}

START_TEST(group_count_is_checked)
{
	expect_error("sdw1|50001|/data/m0 sdw2|50001|/data/m0 sdw3|50001|/data/m0",
		     "line 1 of file " FILE_NAME ": expected 1 or 2 groups but found 3");
	expect_error("# header\n\nsdw1|50001|/data/m0\n  sdw1|50002|/data/m1 a b c d\n",
		     "line 4 of file " FILE_NAME ": expected 1 or 2 groups but found 5");
}
END_TEST

START_TEST(part_counts_are_checked)
{
	expect_error("sdw1|50001", "line 1 of file " FILE_NAME
		     ": expected 3 or 4 parts on failed segment group, obtained 2");
	expect_error("sdw1|50001|/data/m0\nsdw1|sdw1|50001|/data/m1|extra",
		     "line 2 of file " FILE_NAME
		     ": expected 3 or 4 parts on failed segment group, obtained 5");
	expect_error("a|b|c|50001|/data/m0|f", "line 1 of file " FILE_NAME
		     ": expected 3 or 4 parts on failed segment group, obtained 6");
	expect_error("sdw1|50001|/data/m0 sdw2|50001", "line 1 of file " FILE_NAME
		     ": expected 3 or 4 parts on new segment group, obtained 2");
	expect_error("sdw1|50001|/data/m0 a|b|c|50001|/data/m0",
		     "line 1 of file " FILE_NAME
		     ": expected 3 or 4 parts on new segment group, obtained 5");
	/* Counts after the type field. */
	expect_error("F|sdw1|50001", "line 1 of file " FILE_NAME
		     ": expected 3 or 4 parts on failed segment group after the recovery type F, "
		     "obtained 2");
	expect_error("I|a|b|c|50001|/data/m0", "line 1 of file " FILE_NAME
		     ": expected 3 or 4 parts on failed segment group after the recovery type I, "
		     "obtained 5");
}
END_TEST

START_TEST(part_counts_must_be_equal)
{
	expect_error("sdw1|sdw1-1|50001|/data/m0 sdw2|50001|/data/m0",
		     "line 1 of file " FILE_NAME ": expected equal parts, either 3 or 4 on both "
		     "segment group, obtained 4 on group1 and 3 on group2");
	expect_error("sdw1|50001|/data/m0 sdw2|sdw2-1|50001|/data/m0",
		     "line 1 of file " FILE_NAME ": expected equal parts, either 3 or 4 on both "
		     "segment group, obtained 3 on group1 and 4 on group2");
	/* The type field does not count. */
	expect_error("F|sdw1|sdw1-1|50001|/data/m0 sdw2|50001|/data/m0",
		     "line 1 of file " FILE_NAME ": expected equal parts, either 3 or 4 on both "
		     "segment group, obtained 4 on group1 and 3 on group2");
}
END_TEST

START_TEST(ports_are_checked)
{
	expect_error("sdw1|0|/data/m0", "line 1 of file " FILE_NAME
		     ": invalid port '0' on failed segment group: expected an integer from 1 to "
		     "65535");
	expect_error("sdw1|65536|/data/m0", "line 1 of file " FILE_NAME
		     ": invalid port '65536' on failed segment group: expected an integer from 1 "
		     "to 65535");
	expect_error("sdw1|abc|/data/m0", "line 1 of file " FILE_NAME
		     ": invalid port 'abc' on failed segment group: expected an integer from 1 to "
		     "65535");
	expect_error("sdw1|-5|/data/m0", "line 1 of file " FILE_NAME
		     ": invalid port '-5' on failed segment group: expected an integer from 1 to "
		     "65535");
	expect_error("sdw1|5000x|/data/m0", "line 1 of file " FILE_NAME
		     ": invalid port '5000x' on failed segment group: expected an integer from 1 "
		     "to 65535");
	expect_error("sdw1|50001|/data/m0 sdw2|99999999999|/data/m0",
		     "line 1 of file " FILE_NAME ": invalid port '99999999999' on new segment "
		     "group: expected an integer from 1 to 65535");
}
END_TEST

START_TEST(datadir_must_be_absolute)
{
	expect_error("sdw1|50001|data/m0", "line 1 of file " FILE_NAME
		     ": data directory 'data/m0' on failed segment group is invalid; it must be a "
		     "full path");
	expect_error("sdw1|50001|/data/m0 sdw2|50001|./m0", "line 1 of file " FILE_NAME
		     ": data directory './m0' on new segment group is invalid; it must be a full "
		     "path");
}
END_TEST

START_TEST(empty_fields_are_rejected)
{
	expect_error("|50001|/data/m0",
		     "line 1 of file " FILE_NAME ": empty address on failed segment group");
	expect_error("sdw1||/data/m0",
		     "line 1 of file " FILE_NAME ": empty port on failed segment group");
	expect_error("sdw1|50001|",
		     "line 1 of file " FILE_NAME ": empty data directory on failed segment group");
	expect_error("|sdw1|50001|/data/m0",
		     "line 1 of file " FILE_NAME ": empty hostname on failed segment group");
	expect_error("sdw1|50001|/data/m0 sdw2||/data/m0",
		     "line 1 of file " FILE_NAME ": empty port on new segment group");
	expect_error("||", "line 1 of file " FILE_NAME ": empty address on failed segment group");
}
END_TEST

START_TEST(lower_case_types)
{
	/* Greenplum accepts i|, d| and f| as well; another lone lower-case letter is a host name. */
	struct recoverconf conf;
	struct errbuf err;
	static const char text[] = "i|sdw1|50001|/data/m0\nd|sdw1|50002|/data/m1\n"
				   "f|sdw1|50003|/data/m2\nx|sdw1|50004|/data/m3\n";

	ck_assert_int_eq(recoverconf_parse(text, FILE_NAME, &conf, &err), 0);
	ck_assert_int_eq(conf.nentries, 4);
	ck_assert_int_eq(conf.entries[0].type, 'I');
	ck_assert_int_eq(conf.entries[1].type, 'D');
	ck_assert_int_eq(conf.entries[2].type, 'F');
	ck_assert_int_eq(conf.entries[3].type, 0);
	ck_assert_str_eq(conf.entries[3].failed.hostname, "x");
	recoverconf_free(&conf);
}
END_TEST

START_TEST(types_are_checked)
{
	expect_error("sdw1|50001|/data/m0 F|sdw2|50001|/data/m0",
		     "line 1 of file " FILE_NAME ": a recovery type ('F|') is only allowed at the "
		     "start of the line, before the failed segment group");
	expect_error("X|sdw1|50001|/data/m0",
		     "line 1 of file " FILE_NAME ": unknown recovery type 'X': expected I "
		     "(incremental), D (differential) or F (full)");
	expect_error("# ok\nX|sdw1|sdw1|50001|/data/m0",
		     "line 2 of file " FILE_NAME ": unknown recovery type 'X': expected I "
		     "(incremental), D (differential) or F (full)");
}
END_TEST

START_TEST(comments_blank_lines_crlf_and_spaces)
{
	struct recoverconf conf;

	parse_ok("# a comment\n"
		 "\n"
		 "   # an indented comment\n"
		 "\t\n"
		 "sdw1|50001|/data/m0   \r\n"
		 "  sdw1|50002|/data/m1\tsdw3|50002|/data/r1\r\n"
		 "sdw2|50001|/data/m2",
		 &conf);
	ck_assert_uint_eq(conf.nentries, 3);
	ck_assert_int_eq(conf.entries[0].line, 5);
	check_location(&conf.entries[0].failed, NULL, "sdw1", 50001, "/data/m0");
	ck_assert(!conf.entries[0].has_target);
	ck_assert_int_eq(conf.entries[1].line, 6);
	check_location(&conf.entries[1].failed, NULL, "sdw1", 50002, "/data/m1");
	ck_assert(conf.entries[1].has_target);
	check_location(&conf.entries[1].target, NULL, "sdw3", 50002, "/data/r1");
	ck_assert_int_eq(conf.entries[2].line, 7);
	check_location(&conf.entries[2].failed, NULL, "sdw2", 50001, "/data/m2");
	recoverconf_free(&conf);
	ck_assert_ptr_null(conf.entries);

	parse_ok("", &conf);
	ck_assert_uint_eq(conf.nentries, 0);
	recoverconf_free(&conf);
	parse_ok("# only comments\n\n", &conf);
	ck_assert_uint_eq(conf.nentries, 0);
	recoverconf_free(&conf);
}
END_TEST

START_TEST(line_forms_and_types)
{
	struct recoverconf conf;

	parse_ok("sdw1|50001|/data/m0\n"
		 "sdw1|sdw1-1|50002|/data/m1\n"
		 "sdw1|50003|/data/m2 sdw4|50003|/data/r2\n"
		 "sdw1|sdw1-1|50004|/data/m3 sdw4|sdw4-1|50004|/data/r3\n"
		 "I|sdw2|50001|/data/m4\n"
		 "D|sdw2|sdw2-1|50002|/data/m5\n"
		 "F|sdw2|50003|/data/m6/\n"
		 "F|sdw2|sdw2-1|50004|/data/m7 sdw5|sdw5-1|50004|/data//r7/\n",
		 &conf);
	ck_assert_uint_eq(conf.nentries, 8);

	ck_assert_int_eq(conf.entries[0].type, 0);
	check_location(&conf.entries[0].failed, NULL, "sdw1", 50001, "/data/m0");
	ck_assert(!conf.entries[0].has_target);

	ck_assert_int_eq(conf.entries[1].type, 0);
	check_location(&conf.entries[1].failed, "sdw1", "sdw1-1", 50002, "/data/m1");

	check_location(&conf.entries[2].failed, NULL, "sdw1", 50003, "/data/m2");
	ck_assert(conf.entries[2].has_target);
	check_location(&conf.entries[2].target, NULL, "sdw4", 50003, "/data/r2");

	check_location(&conf.entries[3].failed, "sdw1", "sdw1-1", 50004, "/data/m3");
	check_location(&conf.entries[3].target, "sdw4", "sdw4-1", 50004, "/data/r3");

	ck_assert_int_eq(conf.entries[4].type, 'I');
	check_location(&conf.entries[4].failed, NULL, "sdw2", 50001, "/data/m4");
	ck_assert_int_eq(conf.entries[5].type, 'D');
	check_location(&conf.entries[5].failed, "sdw2", "sdw2-1", 50002, "/data/m5");
	ck_assert_int_eq(conf.entries[6].type, 'F');
	check_location(&conf.entries[6].failed, NULL, "sdw2", 50003, "/data/m6");
	ck_assert_int_eq(conf.entries[7].type, 'F');
	check_location(&conf.entries[7].failed, "sdw2", "sdw2-1", 50004, "/data/m7");
	ck_assert(conf.entries[7].has_target);
	check_location(&conf.entries[7].target, "sdw5", "sdw5-1", 50004, "/data/r7");
	ck_assert_int_eq(conf.entries[7].line, 8);
	recoverconf_free(&conf);
}
END_TEST

START_TEST(datadirs_are_normalised)
{
	struct recoverconf conf;

	parse_ok("sdw1|50001|/data/x/\n"
		 "sdw1|50002|/data//y///\n"
		 "sdw1|50003|/data/./a/../z\n"
		 "sdw1|50004|/\n",
		 &conf);
	ck_assert_str_eq(conf.entries[0].failed.datadir, "/data/x");
	ck_assert_str_eq(conf.entries[1].failed.datadir, "/data/y");
	ck_assert_str_eq(conf.entries[2].failed.datadir, "/data/z");
	ck_assert_str_eq(conf.entries[3].failed.datadir, "/");
	recoverconf_free(&conf);

	/* "/data/x/" and "/data/x" are the same directory. */
	expect_error("sdw1|50001|/data/x/\nsdw1|50001|/data/x",
		     "config file lines 1 and 2 conflict: Cannot recover the same failed segment "
		     "sdw1 and data directory /data/x twice.");
}
END_TEST

START_TEST(the_same_failed_segment_twice)
{
	expect_error("sdw1|20000|/mirror/gpseg0\n"
		     "sdw1|20000|/mirror/gpseg0 sdw1|20000|/mirror/gpseg0",
		     "config file lines 1 and 2 conflict: Cannot recover the same failed segment "
		     "sdw1 and data directory /mirror/gpseg0 twice.");
	expect_error("sdw1|20000|/mirror/gpseg0\n"
		     "sdw2|20000|/mirror/gpseg1\n"
		     "# c\n"
		     "sdw1|20001|/mirror/gpseg0",
		     "config file lines 1 and 4 conflict: Cannot recover the same failed segment "
		     "sdw1 and data directory /mirror/gpseg0 twice.");
}
END_TEST

START_TEST(in_place_segment_used_as_a_target)
{
	/* Greenplum's order: the target first, then the in-place line. */
	expect_error("sdw1|20000|/mirror/gpseg0 sdw2|20000|/mirror/gpseg5\n"
		     "sdw2|20000|/mirror/gpseg5",
		     "config file lines 1 and 2 conflict: Cannot recover segment sdw2 with data "
		     "directory /mirror/gpseg5 in place if it is used as a recovery segment.");
	/* And the other way round. */
	expect_error("sdw2|20000|/mirror/gpseg5\n"
		     "sdw1|20000|/mirror/gpseg0 sdw2|20001|/mirror/gpseg5",
		     "config file lines 1 and 2 conflict: Cannot recover segment sdw2 with data "
		     "directory /mirror/gpseg5 in place if it is used as a recovery segment.");
}
END_TEST

START_TEST(the_same_target_twice)
{
	expect_error("sdw1|20000|/mirror/gpseg0 sdw3|20001|/mirror/gpseg5\n"
		     "sdw2|20000|/mirror/gpseg1 sdw3|20002|/mirror/gpseg5",
		     "config file lines 1 and 2 conflict: Cannot recover to the same segment sdw3 "
		     "and data directory /mirror/gpseg5 twice.");
}
END_TEST

START_TEST(format_line)
{
	struct segment failed = { .dbid = 3, .content = 1, .port = 7003, .hostname = "h1",
				  .address = "sdw1", .datadir = "/data/m1" };
	struct segment target = { .dbid = 3, .content = 1, .port = 7103, .hostname = "h4",
				  .address = "sdw4", .datadir = "/data/r1" };
	struct segment v6 = { .dbid = 4, .content = 2, .port = 7004, .hostname = "h1",
			      .address = "fe80::1", .datadir = "/data/m2" };
	struct strbuf sb = STRBUF_INIT;

	strbuf_init(&sb, 0);
	recoverconf_format_line(&sb, &failed, NULL);
	ck_assert_str_eq(sb.buf, "sdw1|7003|/data/m1");
	strbuf_reset(&sb);
	recoverconf_format_line(&sb, &failed, &target);
	ck_assert_str_eq(sb.buf, "sdw1|7003|/data/m1 sdw4|7103|/data/r1");
	strbuf_reset(&sb);
	recoverconf_format_line(&sb, &v6, &failed);
	ck_assert_str_eq(sb.buf, "[fe80::1]|7004|/data/m2 sdw1|7003|/data/m1");
	strbuf_release(&sb);
}
END_TEST

START_TEST(format_round_trips_through_the_parser)
{
	struct segment segs[] = {
		{ .port = 7002, .hostname = "h1", .address = "10.0.0.1", .datadir = "/d/gpseg0" },
		{ .port = 7003, .hostname = "h1", .address = "sdw1-1", .datadir = "/d/gpseg1" },
		{ .port = 7004, .hostname = "h1", .address = "::1", .datadir = "/d/gpseg2" },
		{ .port = 7005, .hostname = "h2", .address = "2001:db8::5", .datadir = "/d/gpseg3" },
	};
	struct segment targets[] = {
		{ .port = 8002, .hostname = "n1", .address = "10.0.0.9", .datadir = "/n/gpseg0" },
		{ .port = 8003, .hostname = "n1", .address = "fe80::9", .datadir = "/n/gpseg1" },
	};
	struct strbuf sb = STRBUF_INIT;
	struct recoverconf conf;

	strbuf_init(&sb, 0);
	for (size_t i = 0; i < 4; i++) {
		recoverconf_format_line(&sb, &segs[i], i < 2 ? &targets[i] : NULL);
		strbuf_addch(&sb, '\n');
	}
	parse_ok(sb.buf, &conf);
	ck_assert_uint_eq(conf.nentries, 4);
	for (size_t i = 0; i < 4; i++) {
		const struct recoverconf_entry *e = &conf.entries[i];

		ck_assert_int_eq(e->line, (int) i + 1);
		ck_assert_int_eq(e->type, 0);
		check_location(&e->failed, NULL, segs[i].address, segs[i].port, segs[i].datadir);
		ck_assert(e->has_target == (i < 2));
		if (i < 2)
			check_location(&e->target, NULL, targets[i].address, targets[i].port,
				       targets[i].datadir);
	}
	recoverconf_free(&conf);
	strbuf_release(&sb);
}
END_TEST

START_TEST(bad_bracketed_address)
{
	expect_error("[::1|7000|/d", "line 1 of file " FILE_NAME
		     ": invalid address '[::1' on failed segment group");
	expect_error("[]|7000|/d", "line 1 of file " FILE_NAME
		     ": invalid address '[]' on failed segment group");
}
END_TEST

START_TEST(read_file)
{
	char dir[] = "/tmp/test_recoverconf.XXXXXX";
	struct recoverconf conf = { 0 };
	struct errbuf err;
	const char *bad = "sdw1|7000|/d/m0\nsdw1|70000|/d/m1\n", *good = "sdw1|7000|/d/m0\n";
	char *path, *missing;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	path = path_join(dir, "recover.conf");
	missing = path_join(dir, "missing.conf");
	ck_assert(write_file_durable(path, bad, strlen(bad), 0644, &err) == 0);
	ck_assert_int_eq(recoverconf_read(path, &conf, &err), -1);
	ck_assert_msg(strstr(err.msg, "line 2 of file ") != NULL && strstr(err.msg, path) != NULL,
		      "%s", err.msg);
	ck_assert(write_file_durable(path, good, strlen(good), 0644, &err) == 0);
	ck_assert_msg(recoverconf_read(path, &conf, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(conf.nentries, 1);
	recoverconf_free(&conf);

	ck_assert_int_eq(recoverconf_read(missing, &conf, &err), -1);
	ck_assert_msg(strstr(err.msg, missing) != NULL, "%s", err.msg);
	ck_assert_msg(strstr(err.msg, "No such file or directory") != NULL, "%s", err.msg);
	ck_assert_ptr_null(conf.entries);

	unlink(path);
	rmdir(dir);
	free(path);
	free(missing);
}
END_TEST

START_TEST(new_locations_are_checked_up_front)
{
	expect_error("sdw1|50001|/data/m0 sdw2|80|/data/r0",
		     "line 1 of file " FILE_NAME ": port 80 on new segment group is privileged: use a "
		     "port from 1024 to 65535");
	expect_error("sdw1|50001|/data/m0\nsdw1|50002|/data/m1 sdw2|50002|/x/m$(id>/tmp/pwned)",
		     "line 2 of file " FILE_NAME ": on new segment group: the data directory "
		     "\"/x/m$(id>/tmp/pwned)\" holds the character '$', which PostgreSQL's pg_ctl would "
		     "hand to a shell: choose a path without \" $ ` or \\");
	for (const char *bad = "\"$`\\"; *bad; bad++) {
		char text[128];
		struct recoverconf conf;
		struct errbuf err;

		snprintf(text, sizeof(text), "sdw1|50001|/data/m0 sdw2|50001|/data/a%cb", *bad);
		ck_assert_int_eq(recoverconf_parse(text, FILE_NAME, &conf, &err), -1);
		ck_assert_msg(strstr(err.msg, "line 1 of file " FILE_NAME ": on new segment group") ==
				      err.msg,
			      "%s", err.msg);
	}
	expect_error("sdw1|50001|/data/m0 sdw2|50001|/data/a\x01" "b",
		     "line 1 of file " FILE_NAME ": on new segment group: the data directory holds a "
		     "control character (byte 0x01 at offset 7): choose a printable path");
	/* A space or a quote is no shell character for pg_ctl: accepted, kept exactly. */
	{
		struct recoverconf conf;

		parse_ok("sdw1|50001|/data/m0 sdw2|1024|/data/it's", &conf);
		check_location(&conf.entries[0].target, NULL, "sdw2", 1024, "/data/it's");
		recoverconf_free(&conf);
	}
}
END_TEST

START_TEST(unreadable_files_name_a_line)
{
	char dir[] = "/tmp/test_recoverconf.XXXXXX";
	struct recoverconf conf = { 0 };
	struct errbuf err;
	static const char nul[] = "sdw1|7000|/d/m0\n# two\nsdw1|7001|/d/m1\0tail\n";
	char *path;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	path = path_join(dir, "nul.conf");
	ck_assert(write_file_durable(path, nul, sizeof(nul) - 1, 0644, &err) == 0);
	ck_assert_int_eq(recoverconf_read(path, &conf, &err), -1);
	ck_assert_msg(strstr(err.msg, "line 3 of file ") == err.msg && strstr(err.msg, "NUL byte"),
		      "%s", err.msg);
	ck_assert_int_eq(recoverconf_read(dir, &conf, &err), -1);
	ck_assert_msg(strstr(err.msg, "line 1 of file ") == err.msg && strstr(err.msg, "directory"),
		      "%s", err.msg);
	unlink(path);
	ck_assert_int_eq(recoverconf_read(path, &conf, &err), -1);
	ck_assert_msg(strstr(err.msg, "line 1 of file ") == err.msg &&
			      strstr(err.msg, "No such file or directory"),
		      "%s", err.msg);
	rmdir(dir);
	free(path);
}
END_TEST

/* A small deterministic generator, so that a failing input can be reproduced from its number. */
static uint32_t fuzz_state;

static uint32_t fuzz_next(void)
{
	fuzz_state ^= fuzz_state << 13;
	fuzz_state ^= fuzz_state >> 17;
	fuzz_state ^= fuzz_state << 5;
	return fuzz_state;
}

/* One field: empty, huge, random bytes, or a plausible value. */
static void fuzz_field(struct strbuf *sb, const char *plausible)
{
	switch (fuzz_next() % 6) {
	case 0:
		break;
	case 1:
		for (uint32_t n = 1000 + fuzz_next() % 9000; n > 0; n--)
			strbuf_addch(sb, (char) ('a' + fuzz_next() % 26));
		break;
	case 2:
		for (uint32_t n = 1 + fuzz_next() % 12; n > 0; n--)
			strbuf_addch(sb, (char) (1 + fuzz_next() % 255));
		break;
	case 3:
		strbuf_addf(sb, "%u", fuzz_next());
		break;
	default:
		strbuf_addstr(sb, plausible);
		break;
	}
}

static void fuzz_input(struct strbuf *sb)
{
	uint32_t lines = 1 + fuzz_next() % 4;

	strbuf_reset(sb);
	if (fuzz_next() % 5 == 0) {
		/* raw bytes, NUL excluded: recoverconf_parse takes a C string */
		for (uint32_t n = fuzz_next() % 4000; n > 0; n--)
			strbuf_addch(sb, (char) (1 + fuzz_next() % 255));
		return;
	}
	for (uint32_t l = 0; l < lines; l++) {
		uint32_t groups = fuzz_next() % 4;

		if (fuzz_next() % 4 == 0)
			strbuf_addstr(sb, (const char *[]){ "I|", "D|", "F|", "Q|", "i|" }[fuzz_next() % 5]);
		for (uint32_t g = 0; g < groups; g++) {
			uint32_t parts = 2 + fuzz_next() % 4;

			if (g > 0)
				strbuf_addch(sb, fuzz_next() % 3 ? ' ' : '\t');
			for (uint32_t p = 0; p < parts; p++) {
				if (p > 0)
					strbuf_addch(sb, '|');
				fuzz_field(sb, (const char *[]){ "sdw1", "50001", "/data/m0", "/data/x/../y" }
						       [p % 4]);
			}
		}
		strbuf_addch(sb, fuzz_next() % 7 ? '\n' : '\r');
	}
}

/* Thousands of generated files: never a crash; every refusal names its line; what is accepted is sane. */
START_TEST(fuzz_every_refusal_names_a_line)
{
	struct strbuf sb = STRBUF_INIT;
	size_t accepted = 0, refused = 0;

	strbuf_init(&sb, 0);
	fuzz_state = 20261201;
	for (int i = 0; i < 5000; i++) {
		struct recoverconf conf;
		struct errbuf err;

		fuzz_input(&sb);
		errbuf_clear(&err);
		if (recoverconf_parse(sb.buf, FILE_NAME, &conf, &err) == 0) {
			accepted++;
			for (size_t e = 0; e < conf.nentries; e++) {
				const struct recoverconf_entry *en = &conf.entries[e];

				ck_assert_msg(en->line >= 1, "input %d: entry without a line", i);
				ck_assert_msg(en->failed.port >= 1 && en->failed.port <= 65535, "input %d", i);
				ck_assert_msg(en->failed.datadir[0] == '/', "input %d", i);
				if (en->has_target)
					ck_assert_msg(guard_path_text("x", en->target.datadir, &err) == 0 &&
							      en->target.port >= 1024,
						      "input %d accepted a bad new location: %s", i, err.msg);
			}
			recoverconf_free(&conf);
			continue;
		}
		refused++;
		ck_assert_msg(strncmp(err.msg, "line ", 5) == 0 ||
				      strncmp(err.msg, "config file lines ", 18) == 0,
			      "input %d: refusal names no line: %s", i, err.msg);
		ck_assert_ptr_null(conf.entries);
	}
	strbuf_release(&sb);
	/* The generator must exercise both outcomes, or it tests nothing. */
	ck_assert_msg(accepted > 50 && refused > 2000, "accepted %zu, refused %zu", accepted, refused);
}
END_TEST

static Suite *recoverconf_suite(void)
{
	Suite *s = suite_create("recoverconf");
	TCase *tc = tcase_create("recoverconf");

	tcase_add_test(tc, group_count_is_checked);
	tcase_add_test(tc, part_counts_are_checked);
	tcase_add_test(tc, part_counts_must_be_equal);
	tcase_add_test(tc, ports_are_checked);
	tcase_add_test(tc, datadir_must_be_absolute);
	tcase_add_test(tc, empty_fields_are_rejected);
	tcase_add_test(tc, types_are_checked);
	tcase_add_test(tc, lower_case_types);
	tcase_add_test(tc, comments_blank_lines_crlf_and_spaces);
	tcase_add_test(tc, line_forms_and_types);
	tcase_add_test(tc, datadirs_are_normalised);
	tcase_add_test(tc, the_same_failed_segment_twice);
	tcase_add_test(tc, in_place_segment_used_as_a_target);
	tcase_add_test(tc, the_same_target_twice);
	tcase_add_test(tc, format_line);
	tcase_add_test(tc, format_round_trips_through_the_parser);
	tcase_add_test(tc, bad_bracketed_address);
	tcase_add_test(tc, read_file);
	tcase_add_test(tc, new_locations_are_checked_up_front);
	tcase_add_test(tc, unreadable_files_name_a_line);
	tcase_add_test(tc, fuzz_every_refusal_names_a_line);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(recoverconf_suite)
