/* Unit tests of the fault probe's decisions (fts_decide), on observations made up in memory. */
#include <stddef.h>

#include "fts.h"
#include "segment.h"
#include "unit.h"

static const char *const action_names[] = {
	[FTS_PROBE_PRIMARY] = "probe primary",
	[FTS_PROBE_MIRROR] = "probe mirror",
	[FTS_CHECK_STREAMING] = "check streaming",
	[FTS_CHECK_CAUGHT_UP] = "check caught up",
	[FTS_LEAVE_BUSY_PRIMARY] = "leave busy primary",
	[FTS_REFUSE_SWITCHOVER] = "refuse switchover",
	[FTS_DOUBLE_FAULT] = "double fault",
	[FTS_PROMOTE_MIRROR] = "promote mirror",
	[FTS_RECORD_FAILOVER] = "record failover",
	[FTS_REFUSE_STANDBY_PRIMARY] = "refuse standby primary",
	[FTS_NO_MIRROR] = "no mirror",
	[FTS_KEEP_IN_SYNC] = "keep in sync",
	[FTS_MARK_MIRROR_DOWN] = "mark mirror down",
	[FTS_MARK_IN_SYNC] = "mark in sync",
	[FTS_MARK_IN_SYNC_RELOCATED] = "mark in sync relocated",
	[FTS_KEEP_MIRROR_DOWN] = "keep mirror down",
};

static const char *action_name(enum fts_action action)
{
	size_t i = (size_t) action;

	return i < sizeof(action_names) / sizeof(action_names[0]) && action_names[i]
		       ? action_names[i]
		       : "?";
}

/* A macro, so that a failure names the line of the case that failed. */
#define expect_decision(obs, expected)                                                     \
	do {                                                                               \
		enum fts_action decided_ = fts_decide(&(obs));                             \
		ck_assert_msg(decided_ == (expected), "decided \"%s\", expected \"%s\"",   \
			      action_name(decided_), action_name(expected));               \
	} while (0)

/* How the catalog records the pair before the probe. */
static struct fts_observation recorded(char mirror_status, char mirror_mode)
{
	return (struct fts_observation) { .has_mirror = true,
					  .mirror_status = mirror_status,
					  .mirror_mode = mirror_mode };
}

static struct fts_observation recorded_in_sync(void)
{
	return recorded(STATUS_UP, MODE_SYNCED);
}

static struct fts_observation recorded_mirror_down(void)
{
	return recorded(STATUS_DOWN, MODE_NOT_SYNCED);
}

static struct fts_observation recorded_without_mirror(void)
{
	return (struct fts_observation) { .has_mirror = false };
}

START_TEST(nothing_is_decided_before_the_primary_is_probed)
{
	struct fts_observation obs = recorded_in_sync();

	expect_decision(obs, FTS_PROBE_PRIMARY);
	obs = recorded_without_mirror();
	expect_decision(obs, FTS_PROBE_PRIMARY);
	obs = recorded_in_sync();
	obs.switchover = true;
	expect_decision(obs, FTS_PROBE_PRIMARY);
}
END_TEST

START_TEST(dead_primary_with_in_sync_mirror_fails_over)
{
	struct fts_observation obs = recorded_in_sync();

	obs.primary = FTS_SILENT;
	expect_decision(obs, FTS_PROBE_MIRROR);
	obs.mirror = FTS_ANSWERED;
	obs.mirror_in_recovery = true;
	expect_decision(obs, FTS_PROMOTE_MIRROR);
	/* Already promoted by an earlier probe that could not record it: only recorded now. */
	obs.mirror_in_recovery = false;
	expect_decision(obs, FTS_RECORD_FAILOVER);
}
END_TEST

START_TEST(dead_primary_without_usable_mirror_is_a_double_fault)
{
	struct fts_observation obs = recorded_without_mirror();

	obs.primary = FTS_SILENT;
	expect_decision(obs, FTS_DOUBLE_FAULT);

	obs = recorded_mirror_down();
	obs.primary = FTS_SILENT;
	expect_decision(obs, FTS_DOUBLE_FAULT);

	/* Up but not in sync: it may lack committed transactions. */
	obs = recorded(STATUS_UP, MODE_NOT_SYNCED);
	obs.primary = FTS_SILENT;
	expect_decision(obs, FTS_DOUBLE_FAULT);

	/* The catalog's word counts, whatever the mirror would answer: it is not even asked. */
	obs = recorded(STATUS_DOWN, MODE_SYNCED);
	obs.primary = FTS_SILENT;
	obs.mirror = FTS_ANSWERED;
	obs.mirror_in_recovery = true;
	expect_decision(obs, FTS_DOUBLE_FAULT);
}
END_TEST

START_TEST(dead_primary_and_unanswering_mirror_is_a_double_fault)
{
	struct fts_observation obs = recorded_in_sync();

	obs.primary = FTS_SILENT;
	obs.mirror = FTS_SILENT;
	expect_decision(obs, FTS_DOUBLE_FAULT);
	/* A mirror that refuses connections (starting up, in crash recovery) cannot be promoted. */
	obs.mirror = FTS_BUSY;
	expect_decision(obs, FTS_DOUBLE_FAULT);
}
END_TEST

START_TEST(busy_primary_is_left_alone)
{
	struct fts_observation obs = recorded_in_sync();

	obs.primary = FTS_BUSY;
	expect_decision(obs, FTS_LEAVE_BUSY_PRIMARY);
	/* Not even a dead mirror is a double fault while the primary is coming back. */
	obs = recorded_mirror_down();
	obs.primary = FTS_BUSY;
	expect_decision(obs, FTS_LEAVE_BUSY_PRIMARY);
	obs = recorded_without_mirror();
	obs.primary = FTS_BUSY;
	expect_decision(obs, FTS_LEAVE_BUSY_PRIMARY);
}
END_TEST

START_TEST(primary_running_as_standby_is_refused)
{
	struct fts_observation obs = recorded_in_sync();

	obs.primary = FTS_ANSWERED;
	obs.primary_in_recovery = true;
	expect_decision(obs, FTS_REFUSE_STANDBY_PRIMARY);
	obs.streaming = FTS_STREAMING;
	expect_decision(obs, FTS_REFUSE_STANDBY_PRIMARY);
	/* Checked before anything about the mirror. */
	obs = recorded_without_mirror();
	obs.primary = FTS_ANSWERED;
	obs.primary_in_recovery = true;
	expect_decision(obs, FTS_REFUSE_STANDBY_PRIMARY);
}
END_TEST

START_TEST(live_primary_without_mirror_changes_nothing)
{
	struct fts_observation obs = recorded_without_mirror();

	obs.primary = FTS_ANSWERED;
	expect_decision(obs, FTS_NO_MIRROR);
}
END_TEST

START_TEST(in_sync_mirror_stays_in_sync_while_it_streams)
{
	struct fts_observation obs = recorded_in_sync();

	obs.primary = FTS_ANSWERED;
	expect_decision(obs, FTS_CHECK_STREAMING);
	obs.streaming = FTS_STREAMING;
	expect_decision(obs, FTS_KEEP_IN_SYNC);
}
END_TEST

START_TEST(in_sync_mirror_that_stopped_streaming_is_marked_down)
{
	struct fts_observation obs = recorded_in_sync();

	obs.primary = FTS_ANSWERED;
	obs.streaming = FTS_NOT_STREAMING;
	expect_decision(obs, FTS_MARK_MIRROR_DOWN);
	/* The mirror's own probe is for failovers only: a live primary's view decides. */
	obs.mirror = FTS_ANSWERED;
	obs.mirror_in_recovery = true;
	expect_decision(obs, FTS_MARK_MIRROR_DOWN);
}
END_TEST

START_TEST(down_mirror_that_caught_up_is_marked_in_sync)
{
	struct fts_observation obs = recorded_mirror_down();

	obs.primary = FTS_ANSWERED;
	expect_decision(obs, FTS_CHECK_CAUGHT_UP);
	obs.streaming = FTS_STREAMING;
	expect_decision(obs, FTS_MARK_IN_SYNC);
	/* Up but not in sync (a mirror-down whose mirror came back) is the same case. */
	obs = recorded(STATUS_UP, MODE_NOT_SYNCED);
	obs.primary = FTS_ANSWERED;
	expect_decision(obs, FTS_CHECK_CAUGHT_UP);
	obs.streaming = FTS_STREAMING;
	expect_decision(obs, FTS_MARK_IN_SYNC);
}
END_TEST

START_TEST(down_mirror_that_does_not_stream_stays_down)
{
	struct fts_observation obs = recorded_mirror_down();

	obs.primary = FTS_ANSWERED;
	obs.streaming = FTS_NOT_STREAMING;
	expect_decision(obs, FTS_KEEP_MIRROR_DOWN);
	obs = recorded(STATUS_UP, MODE_NOT_SYNCED);
	obs.primary = FTS_ANSWERED;
	obs.streaming = FTS_NOT_STREAMING;
	expect_decision(obs, FTS_KEEP_MIRROR_DOWN);
}
END_TEST

START_TEST(relocated_mirror_is_recorded_at_its_new_location)
{
	struct fts_observation obs = recorded_mirror_down();

	obs.mirror_relocated = true;
	obs.primary = FTS_ANSWERED;
	expect_decision(obs, FTS_CHECK_CAUGHT_UP);
	obs.streaming = FTS_STREAMING;
	expect_decision(obs, FTS_MARK_IN_SYNC_RELOCATED);
	obs.streaming = FTS_NOT_STREAMING;
	expect_decision(obs, FTS_KEEP_MIRROR_DOWN);
}
END_TEST

START_TEST(relocation_does_not_matter_to_an_in_sync_mirror_or_a_failover)
{
	struct fts_observation obs = recorded_in_sync();

	obs.mirror_relocated = true;
	obs.primary = FTS_ANSWERED;
	expect_decision(obs, FTS_CHECK_STREAMING);
	obs.streaming = FTS_STREAMING;
	expect_decision(obs, FTS_KEEP_IN_SYNC);
	obs.streaming = FTS_NOT_STREAMING;
	expect_decision(obs, FTS_MARK_MIRROR_DOWN);

	obs = recorded_mirror_down();
	obs.mirror_relocated = true;
	obs.primary = FTS_SILENT;
	expect_decision(obs, FTS_DOUBLE_FAULT);
}
END_TEST

START_TEST(switchover_refuses_a_primary_that_still_answers)
{
	struct fts_observation obs = recorded_in_sync();

	obs.switchover = true;
	obs.primary = FTS_ANSWERED;
	expect_decision(obs, FTS_REFUSE_SWITCHOVER);
	/* A busy postmaster still runs: promoting its mirror would make two primaries. */
	obs.primary = FTS_BUSY;
	expect_decision(obs, FTS_REFUSE_SWITCHOVER);
}
END_TEST

START_TEST(switchover_of_a_stopped_primary_follows_the_failover_rules)
{
	struct fts_observation obs = recorded_in_sync();

	obs.switchover = true;
	obs.primary = FTS_SILENT;
	expect_decision(obs, FTS_PROBE_MIRROR);
	obs.mirror = FTS_ANSWERED;
	obs.mirror_in_recovery = true;
	expect_decision(obs, FTS_PROMOTE_MIRROR);
	obs.mirror_in_recovery = false;
	expect_decision(obs, FTS_RECORD_FAILOVER);
	obs.mirror = FTS_SILENT;
	expect_decision(obs, FTS_DOUBLE_FAULT);

	obs = recorded(STATUS_UP, MODE_NOT_SYNCED);
	obs.switchover = true;
	obs.primary = FTS_SILENT;
	expect_decision(obs, FTS_DOUBLE_FAULT);
}
END_TEST

static Suite *fts_suite(void)
{
	Suite *s = suite_create("fts");
	TCase *failover = tcase_create("failover");
	TCase *pair = tcase_create("live primary");
	TCase *switchover = tcase_create("switchover");

	tcase_add_test(failover, nothing_is_decided_before_the_primary_is_probed);
	tcase_add_test(failover, dead_primary_with_in_sync_mirror_fails_over);
	tcase_add_test(failover, dead_primary_without_usable_mirror_is_a_double_fault);
	tcase_add_test(failover, dead_primary_and_unanswering_mirror_is_a_double_fault);
	tcase_add_test(failover, busy_primary_is_left_alone);
	tcase_add_test(pair, primary_running_as_standby_is_refused);
	tcase_add_test(pair, live_primary_without_mirror_changes_nothing);
	tcase_add_test(pair, in_sync_mirror_stays_in_sync_while_it_streams);
	tcase_add_test(pair, in_sync_mirror_that_stopped_streaming_is_marked_down);
	tcase_add_test(pair, down_mirror_that_caught_up_is_marked_in_sync);
	tcase_add_test(pair, down_mirror_that_does_not_stream_stays_down);
	tcase_add_test(pair, relocated_mirror_is_recorded_at_its_new_location);
	tcase_add_test(pair, relocation_does_not_matter_to_an_in_sync_mirror_or_a_failover);
	tcase_add_test(switchover, switchover_refuses_a_primary_that_still_answers);
	tcase_add_test(switchover, switchover_of_a_stopped_primary_follows_the_failover_rules);
	suite_add_tcase(s, failover);
	suite_add_tcase(s, pair);
	suite_add_tcase(s, switchover);
	return s;
}

UNIT_MAIN(fts_suite)
