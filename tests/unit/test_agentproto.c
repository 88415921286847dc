/* Unit tests of the agent protocol: every line the agent prints is read back exactly by the driver. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/agentproto.h"
#include "unit.h"

/* What FN printed, as one line without its newline (malloc'd). */
static char *printed(void (*fn)(FILE *, void *), void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	fn(f, arg);
	fclose(f);
	ck_assert_uint_gt(len, 0);
	ck_assert_int_eq(buf[len - 1], '\n');
	buf[len - 1] = '\0';
	return buf;
}

static void print_error(FILE *f, void *arg)
{
	agentproto_error(f, 7, "copy", "rebuild", arg);
}

static void print_stopped(FILE *f, void *arg)
{
	(void) arg;
	agentproto_stopped(f, 3, ((uint64_t) 0x1A << 32) | 0x5000060u, 4);
}

static void print_progress(FILE *f, void *arg)
{
	(void) arg;
	agentproto_progress(f, 12, 1048576, 0, 0);
}

static void print_progress_sent(FILE *f, void *arg)
{
	(void) arg;
	agentproto_progress(f, 12, 1048576, 2097152, 8192);
}

START_TEST(every_kind_round_trips)
{
	struct agent_line al;
	char *line;

	line = printed(print_error, "cannot fsync \"/d/x\": Input/output error\nsecond line");
	ck_assert_str_eq(line, "@error dbid=7 step=copy remedy=rebuild msg=cannot fsync \"/d/x\": "
			       "Input/output error second line");
	ck_assert_int_eq(agentproto_parse(line, &al), 0);
	ck_assert_int_eq(al.kind, AGENT_ERROR);
	ck_assert_int_eq(al.dbid, 7);
	ck_assert_str_eq(al.name, "copy");
	ck_assert_str_eq(al.remedy, "rebuild");
	ck_assert_str_eq(al.msg, "cannot fsync \"/d/x\": Input/output error second line");
	free(line);

	line = printed(print_stopped, NULL);
	ck_assert_str_eq(line, "@stopped dbid=3 end=1A/5000060 timeline=4");
	ck_assert_int_eq(agentproto_parse(line, &al), 0);
	ck_assert_int_eq(al.kind, AGENT_STOPPED);
	ck_assert_uint_eq(al.lsn, ((uint64_t) 0x1A << 32) | 0x5000060u);
	ck_assert_uint_eq(al.timeline, 4);
	free(line);

	line = printed(print_progress, NULL);
	ck_assert_int_eq(agentproto_parse(line, &al), 0);
	ck_assert_int_eq(al.kind, AGENT_PROGRESS);
	ck_assert_uint_eq(al.done, 1048576);
	ck_assert_uint_eq(al.total, 0);
	ck_assert_uint_eq(al.sent, 0);
	free(line);
	/* A differential copy tells what it moved beside what it compared. */
	line = printed(print_progress_sent, NULL);
	ck_assert_str_eq(line, "@progress dbid=12 done=1048576 total=2097152 sent=8192");
	ck_assert_int_eq(agentproto_parse(line, &al), 0);
	ck_assert(al.done == 1048576 && al.total == 2097152 && al.sent == 8192);
	free(line);

	ck_assert_int_eq(agentproto_parse("@started dbid=5 already=yes", &al), 0);
	ck_assert(al.kind == AGENT_STARTED && al.flag);
	ck_assert_int_eq(agentproto_parse("@hba dbid=5 changed=no", &al), 0);
	ck_assert(al.kind == AGENT_HBA && !al.flag);
	ck_assert_int_eq(agentproto_parse("@done dbid=5 bytes=42 seconds=1.500", &al), 0);
	ck_assert(al.kind == AGENT_DONE && al.done == 42 && al.seconds > 1.49 && al.seconds < 1.51);
	ck_assert_int_eq(agentproto_parse("@estimate dbid=5 bytes=1651000000", &al), 0);
	ck_assert(al.kind == AGENT_ESTIMATE && al.done == 1651000000u && al.total == 0 && al.msg[0] == '\0');
	{
		/* What the agent prints is what the driver reads: bytes, the WAL to replay, how. */
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		agentproto_estimate(f, 7, 8192, 123456789, "copy the 1 blocks changed; replay from x=y");
		fclose(f);
		buf[strcspn(buf, "\n")] = '\0';
		ck_assert_int_eq(agentproto_parse(buf, &al), 0);
		ck_assert(al.kind == AGENT_ESTIMATE && al.dbid == 7 && al.done == 8192 && al.total == 123456789u);
		ck_assert_str_eq(al.msg, "copy the 1 blocks changed; replay from x=y");
		free(buf);
	}
	ck_assert_int_eq(agentproto_parse("@phase dbid=5 name=wipe", &al), 0);
	ck_assert_str_eq(al.name, "wipe");
	ck_assert_int_eq(agentproto_parse("@note dbid=5 level=warning msg=a b=c", &al), 0);
	ck_assert_str_eq(al.name, "warning");
	ck_assert_str_eq(al.msg, "a b=c");
}
END_TEST

/* The free text comes last and may look like fields; old agents wrote no remedy. */
START_TEST(message_text_never_counts_as_a_field)
{
	struct agent_line al;

	ck_assert_int_eq(agentproto_parse("@error dbid=2 step=wipe msg=x remedy=rebuild y", &al), 0);
	ck_assert_str_eq(al.remedy, "retry");
	ck_assert_str_eq(al.msg, "x remedy=rebuild y");
	ck_assert_int_eq(agentproto_parse("@error dbid=2 step=start remedy=retry msg=", &al), 0);
	ck_assert_str_eq(al.msg, "");
}
END_TEST

START_TEST(malformed_lines_are_not_protocol)
{
	static const char *const bad[] = {
		"", "plain log output", "@phase name=copy", "@phase dbid=x name=copy",
		"@progress dbid=3 done=12", "@progress dbid=3 done=1x total=2", "@done dbid=3 bytes=1",
		"@error dbid=3 step=copy", "@stopped dbid=3 end=nonsense timeline=1",
		"@stopped dbid=3 end=0/1", "@started dbid=3", "@hba dbid=3 changed=maybe",
		"@unknown dbid=3", "phase dbid=3 name=copy",
	};
	struct agent_line al;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(agentproto_parse(bad[i], &al) == -1, "accepted \"%s\"", bad[i]);
}
END_TEST

static Suite *agentproto_suite(void)
{
	Suite *s = suite_create("agentproto");
	TCase *tc = tcase_create("agentproto");

	tcase_add_test(tc, every_kind_round_trips);
	tcase_add_test(tc, message_text_never_counts_as_a_field);
	tcase_add_test(tc, malformed_lines_are_not_protocol);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(agentproto_suite)
