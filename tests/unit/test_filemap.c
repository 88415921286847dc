/*
 * Unit tests of blockmap and filemap: the block set, relation path recognition, the exclusion
 * list, every decision rule of filemap_decide (pg_rewind's, plus segrecover's WAL rules), block
 * noting limits, execution order, totals, and the speed of a 100k-entry map.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "incremental/blockmap.h"
#include "incremental/filemap.h"
#include "unit.h"
#include "xalloc.h"

#define F FILE_TYPE_REGULAR
#define D FILE_TYPE_DIRECTORY
#define L FILE_TYPE_SYMLINK

static const char *action_name(enum file_action a)
{
	static const char *const names[] = { "UNDECIDED", "CREATE", "COPY",  "COPY_TAIL",
					     "NONE",      "TRUNCATE", "REMOVE" };

	return a <= ACTION_REMOVE ? names[a] : "?";
}

static void decide_ok(struct filemap *fm, const struct filemap_rules *rules)
{
	struct errbuf err;

	ck_assert_msg(filemap_decide(fm, rules, &err) == 0, "decide failed: %s", err.msg);
}

#define expect_action(fm, path, want)                                                        \
	do {                                                                                 \
		struct file_entry *e_ = filemap_lookup((fm), (path));                        \
		ck_assert_msg(e_ != NULL, "no entry for %s", (path));                        \
		ck_assert_msg(e_->action == (want), "%s: %s, expected %s", (path),           \
			      action_name(e_->action), action_name(want));                   \
	} while (0)

/* ------------------------------------------------------------------------------------------ */

START_TEST(test_blockmap)
{
	struct blockmap m = BLOCKMAP_INIT;
	uint32_t b, seen[8];
	size_t n = 0;

	b = 0;
	ck_assert(!blockmap_next(&m, &b));
	ck_assert(!blockmap_has(&m, 0));
	blockmap_add(&m, 3);
	blockmap_add(&m, 3);
	blockmap_add(&m, 0);
	blockmap_add(&m, 131071);
	blockmap_add(&m, 64);
	blockmap_add(&m, 65);
	ck_assert_uint_eq(m.count, 5);
	ck_assert(blockmap_has(&m, 131071));
	ck_assert(!blockmap_has(&m, 131070));
	ck_assert(!blockmap_has(&m, 4000000));
	for (b = 0; blockmap_next(&m, &b); b++) {
		ck_assert_uint_lt(n, 8);
		seen[n++] = b;
	}
	ck_assert_uint_eq(n, 5);
	ck_assert_uint_eq(seen[0], 0);
	ck_assert_uint_eq(seen[1], 3);
	ck_assert_uint_eq(seen[2], 64);
	ck_assert_uint_eq(seen[3], 65);
	ck_assert_uint_eq(seen[4], 131071);
	/* Starting in the middle of a byte and beyond the end. */
	b = 4;
	ck_assert(blockmap_next(&m, &b));
	ck_assert_uint_eq(b, 64);
	b = 131072;
	ck_assert(!blockmap_next(&m, &b));
	blockmap_free(&m);
	ck_assert_ptr_null(m.bits);
	ck_assert_uint_eq(m.count, 0);

	/* Every 97th block of a full segment comes back, in order, none other. */
	for (b = 0; b < RELSEG_BLOCKS; b += 97)
		blockmap_add(&m, b);
	n = 0;
	for (b = 0; blockmap_next(&m, &b); b++) {
		ck_assert_uint_eq(b % 97, 0);
		n++;
	}
	ck_assert_uint_eq(n, (RELSEG_BLOCKS + 96) / 97);
	ck_assert_uint_eq(m.count, n);
	blockmap_free(&m);
}
END_TEST

START_TEST(test_relation_paths)
{
	static const char *const good[] = {
		"global/1262",
		"global/1262.1",
		"base/1/1259",
		"base/16384/16385.12",
		"base/4294967295/4294967295.8",
		"pg_tblspc/16400/PG_15_202209061/16384/16401",
		"pg_tblspc/16400/PG_15_202209061/16384/16401.3",
	};
	static const char *const bad[] = {
		"base/1/1259_fsm",
		"base/1/1259_vm",
		"base/1/1259_init",
		"base/1/1259_fsm.1",
		"global/1262_vm",
		"pg_tblspc/16400/PG_15_202209061/16384/16401_fsm",
		"base/1/1259.0",
		"base/1/01259",
		"base/01/1259",
		"global/1262.",
		"global/.1",
		"base/1",
		"base/1/",
		"base/1/t3_1259",
		"base/1/1259.1.2",
		"base/1/99999999999",
		"base/1/1259 ",
		"base/1/PG_VERSION",
		"base/1/pg_filenode.map",
		"global/pg_control",
		"xbase/1/2",
		"base//1/2",
		"pg_tblspc/16400/PG_14_202107181/16384/16401",
		"pg_tblspc/16400/PG_15_202209061/16384",
		"pg_tblspc/16400/PG_15_202209061/16384/16401/1",
		"pg_tblspc/1663/PG_15_202209061/1/2",  /* names the default tablespace: base/1/2 */
		"pg_tblspc/1664/PG_15_202209061/0/2",  /* names the global tablespace */
		"pg_tblspc/016400/PG_15_202209061/1/2",
		"",
	};
	char buf[128];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(filemap_is_relation_file(good[i]), "%s not recognized", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!filemap_is_relation_file(bad[i]), "%s taken for a relation", bad[i]);

	filemap_relation_path(buf, sizeof(buf), 1664, 0, 1262, 0);
	ck_assert_str_eq(buf, "global/1262");
	filemap_relation_path(buf, sizeof(buf), 1663, 5, 16385, 0);
	ck_assert_str_eq(buf, "base/5/16385");
	filemap_relation_path(buf, sizeof(buf), 1663, 5, 16385, 7);
	ck_assert_str_eq(buf, "base/5/16385.7");
	filemap_relation_path(buf, sizeof(buf), 16400, 5, 16401, 2);
	ck_assert_str_eq(buf, "pg_tblspc/16400/PG_15_202209061/5/16401.2");
}
END_TEST

START_TEST(test_exclusions)
{
	static const char *const excluded[] = {
		"postgresql.auto.conf.tmp",
		"current_logfiles.tmp",
		"backup_label",
		"tablespace_map",
		"backup_manifest",
		"postmaster.pid",
		"postmaster.opts",
		"global/pg_internal.init",
		"base/1/pg_internal.init",
		"base/1/pg_internal.init.4711",
		"sub/dir/backup_label",
		"base/pgsql_tmp",
		"base/pgsql_tmp/pgsql_tmp123.0",
		"base/pgsql_tmp/pgsql_tmp123.0.fileset/0.0",
		"pg_tblspc/16400/PG_15_202209061/pgsql_tmp",
		"pg_tblspc/16400/PG_15_202209061/pgsql_tmp/pgsql_tmp1.1",
		"pgsql_tmp",
		"pg_stat_tmp/global.stat",
		"pg_replslot/slot1",
		"pg_replslot/slot1/state",
		"pg_dynshmem/mmap.1",
		"pg_notify/0000",
		"pg_serial/0000",
		"pg_snapshots/00000003-0000001A-1",
		"pg_subtrans/0000",
	};
	static const char *const kept[] = {
		"pg_stat_tmp",
		"pg_replslot",
		"pg_dynshmem",
		"pg_notify",
		"pg_serial",
		"pg_snapshots",
		"pg_subtrans",
		"pg_stat/pgstat.stat",
		"postgresql.auto.conf",
		"postgresql.conf",
		"base/1/1259",
		"pg_replslotx/a",
		"backup_label.old",
		"old_backup_label",
		"pg_wal/000000010000000000000001",
		"base/1/my_pgsql_tmp",
		"pg_xact/0000",
		"pg_multixact/members/0000",
		"global/pg_control",
		"pg_internal",
	};

	for (size_t i = 0; i < sizeof(excluded) / sizeof(excluded[0]); i++)
		ck_assert_msg(filemap_is_excluded(excluded[i]), "%s not excluded", excluded[i]);
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		ck_assert_msg(!filemap_is_excluded(kept[i]), "%s excluded", kept[i]);
}
END_TEST

/* Rule 1: pg_control, .DS_Store. */
START_TEST(test_rule_control_and_ds_store)
{
	struct filemap *fm = filemap_create();

	filemap_add_source(fm, "global/pg_control", F, 8192, NULL);
	filemap_add_target(fm, "global/pg_control", F, 8192, NULL);
	filemap_add_target(fm, ".DS_Store", F, 10, NULL);
	filemap_add_source(fm, "base/.DS_Store", F, 10, NULL);
	decide_ok(fm, NULL);
	expect_action(fm, "global/pg_control", ACTION_NONE);
	expect_action(fm, ".DS_Store", ACTION_NONE);
	expect_action(fm, "base/.DS_Store", ACTION_NONE);
	filemap_free(fm);
}
END_TEST

/* The target's own names and the log directory's contents are left alone. */
START_TEST(test_rule_target_own_and_logs)
{
	static const char *const own[] = { "segrecover.lock", "standby.signal", "keepdir", NULL };
	struct filemap_rules rules = { "log", own };
	struct filemap *fm = filemap_create();

	filemap_add_target(fm, "segrecover.lock", F, 10, NULL);
	filemap_add_source(fm, "standby.signal", F, 0, NULL); /* even if the source had one */
	filemap_add_target(fm, "standby.signal", F, 0, NULL);
	filemap_add_target(fm, "keepdir", D, 0, NULL);
	filemap_add_target(fm, "keepdir/x", F, 1, NULL);
	filemap_add_target(fm, "sub/segrecover.lock", F, 1, NULL); /* not at the top: normal */
	filemap_add_source(fm, "log", D, 0, NULL);
	filemap_add_target(fm, "log", D, 0, NULL);
	filemap_add_source(fm, "log/postgresql-1.log", F, 100, NULL);
	filemap_add_target(fm, "log/postgresql-2.log", F, 100, NULL);
	filemap_add_source(fm, "log/postgresql-3.log", F, 100, NULL);
	filemap_add_target(fm, "log/postgresql-3.log", F, 50, NULL);
	filemap_add_source(fm, "logx", F, 5, NULL);              /* a sibling: normal rules */
	decide_ok(fm, &rules);
	expect_action(fm, "segrecover.lock", ACTION_NONE);
	expect_action(fm, "standby.signal", ACTION_NONE);
	expect_action(fm, "keepdir", ACTION_NONE);
	expect_action(fm, "keepdir/x", ACTION_NONE);
	expect_action(fm, "sub/segrecover.lock", ACTION_REMOVE);
	expect_action(fm, "log", ACTION_NONE);
	expect_action(fm, "log/postgresql-1.log", ACTION_NONE);
	expect_action(fm, "log/postgresql-2.log", ACTION_NONE);
	expect_action(fm, "log/postgresql-3.log", ACTION_NONE);
	expect_action(fm, "logx", ACTION_COPY);
	filemap_free(fm);

	/* A log directory only the source has is made (empty); an absolute one changes nothing. */
	fm = filemap_create();
	rules.log_directory = "./pg_log/";
	filemap_add_source(fm, "pg_log", D, 0, NULL);
	filemap_add_source(fm, "pg_log/a.log", F, 1, NULL);
	decide_ok(fm, &rules);
	expect_action(fm, "pg_log", ACTION_CREATE);
	expect_action(fm, "pg_log/a.log", ACTION_NONE);
	filemap_free(fm);

	fm = filemap_create();
	rules.log_directory = "/var/log/postgresql";
	filemap_add_source(fm, "log", D, 0, NULL);
	filemap_add_source(fm, "log/a.log", F, 1, NULL);
	decide_ok(fm, &rules);
	expect_action(fm, "log", ACTION_CREATE);
	expect_action(fm, "log/a.log", ACTION_COPY);
	filemap_free(fm);
}
END_TEST

/* Rule 2: excluded paths. */
START_TEST(test_rule_excluded)
{
	struct filemap *fm = filemap_create();

	filemap_add_source(fm, "postmaster.pid", F, 100, NULL);
	filemap_add_target(fm, "postmaster.opts", F, 100, NULL);
	filemap_add_source(fm, "backup_label", F, 100, NULL);
	filemap_add_target(fm, "backup_label", F, 100, NULL);
	filemap_add_source(fm, "pg_replslot", D, 0, NULL);
	filemap_add_source(fm, "pg_replslot/s1", D, 0, NULL);
	filemap_add_source(fm, "pg_replslot/s1/state", F, 200, NULL);
	filemap_add_target(fm, "pg_replslot", D, 0, NULL);
	filemap_add_target(fm, "pg_replslot/old", D, 0, NULL);
	filemap_add_target(fm, "pg_replslot/old/state", F, 200, NULL);
	filemap_add_source(fm, "base/pgsql_tmp", D, 0, NULL);
	filemap_add_source(fm, "base/pgsql_tmp/pgsql_tmp1.0", F, 10, NULL);
	filemap_add_target(fm, "base/pgsql_tmp", D, 0, NULL);
	filemap_add_target(fm, "base/pgsql_tmp/pgsql_tmp9.0", F, 10, NULL);
	filemap_add_source(fm, "global/pg_internal.init", F, 10, NULL);
	decide_ok(fm, NULL);
	expect_action(fm, "postmaster.pid", ACTION_NONE);
	expect_action(fm, "postmaster.opts", ACTION_REMOVE);
	expect_action(fm, "backup_label", ACTION_REMOVE);
	expect_action(fm, "pg_replslot", ACTION_NONE);
	expect_action(fm, "pg_replslot/s1", ACTION_NONE);
	expect_action(fm, "pg_replslot/s1/state", ACTION_NONE);
	expect_action(fm, "pg_replslot/old", ACTION_REMOVE);
	expect_action(fm, "pg_replslot/old/state", ACTION_REMOVE);
	expect_action(fm, "base/pgsql_tmp", ACTION_REMOVE);
	expect_action(fm, "base/pgsql_tmp/pgsql_tmp1.0", ACTION_NONE);
	expect_action(fm, "base/pgsql_tmp/pgsql_tmp9.0", ACTION_REMOVE);
	expect_action(fm, "global/pg_internal.init", ACTION_NONE);
	filemap_free(fm);
}
END_TEST

/* Rules 3-4: only on one side. */
START_TEST(test_rule_one_side)
{
	struct filemap *fm = filemap_create();

	filemap_add_source(fm, "base/16384", D, 0, NULL);
	filemap_add_source(fm, "base/16384/16385", F, 8192, NULL);
	filemap_add_source(fm, "base/16384/16385_fsm", F, 24576, NULL);
	filemap_add_source(fm, "pg_tblspc/16400", L, 0, "/data/ts/2");
	filemap_add_source(fm, "pg_tblspc/16400/PG_15_202209061", D, 0, NULL);
	filemap_add_source(fm, "postgresql.conf", F, 29000, NULL);
	filemap_add_target(fm, "base/99", D, 0, NULL);
	filemap_add_target(fm, "base/99/1259", F, 8192, NULL);
	filemap_add_target(fm, "pg_tblspc/16500", L, 0, "/old/ts");
	filemap_add_target(fm, "stray.txt", F, 3, NULL);
	filemap_add_target(fm, "keep.me", F, 3, NULL);
	filemap_keep_wal(fm, "keep.me");
	decide_ok(fm, NULL);
	expect_action(fm, "base/16384", ACTION_CREATE);
	expect_action(fm, "base/16384/16385", ACTION_COPY);
	expect_action(fm, "base/16384/16385_fsm", ACTION_COPY);
	expect_action(fm, "pg_tblspc/16400", ACTION_CREATE);
	ck_assert_str_eq(filemap_lookup(fm, "pg_tblspc/16400")->source_link, "/data/ts/2");
	expect_action(fm, "pg_tblspc/16400/PG_15_202209061", ACTION_CREATE);
	expect_action(fm, "postgresql.conf", ACTION_COPY);
	expect_action(fm, "base/99", ACTION_REMOVE);
	expect_action(fm, "base/99/1259", ACTION_REMOVE);
	expect_action(fm, "pg_tblspc/16500", ACTION_REMOVE);
	expect_action(fm, "stray.txt", ACTION_REMOVE);
	expect_action(fm, "keep.me", ACTION_NONE);
	filemap_free(fm);
}
END_TEST

/* Rule 5: different types are an error; a relation path that is not a file on the source too. */
START_TEST(test_rule_type_conflicts)
{
	struct filemap *fm = filemap_create();
	struct errbuf err;

	filemap_add_source(fm, "base/1", D, 0, NULL);
	filemap_add_target(fm, "base/1", D, 0, NULL);
	filemap_add_source(fm, "somefile", D, 0, NULL);
	filemap_add_target(fm, "somefile", F, 10, NULL);
	ck_assert_int_eq(filemap_decide(fm, NULL, &err), -1);
	ck_assert_msg(strstr(err.msg, "somefile") && strstr(err.msg, "directory"), "%s", err.msg);
	filemap_free(fm);

	fm = filemap_create();
	filemap_add_source(fm, "pg_tblspc/16400", L, 0, "/ts");
	filemap_add_target(fm, "pg_tblspc/16400", D, 0, NULL);
	ck_assert_int_eq(filemap_decide(fm, NULL, &err), -1);
	ck_assert_msg(strstr(err.msg, "pg_tblspc/16400") != NULL, "%s", err.msg);
	filemap_free(fm);

	fm = filemap_create();
	filemap_add_source(fm, "base/1/1259", D, 0, NULL);
	ck_assert_int_eq(filemap_decide(fm, NULL, &err), -1);
	ck_assert_msg(strstr(err.msg, "base/1/1259") && strstr(err.msg, "relation"), "%s", err.msg);
	filemap_free(fm);

	/* pg_wal as a link on either side is a directory. */
	fm = filemap_create();
	filemap_add_source(fm, "pg_wal", D, 0, NULL);
	filemap_add_target(fm, "pg_wal", L, 0, "/wal/elsewhere");
	decide_ok(fm, NULL);
	expect_action(fm, "pg_wal", ACTION_NONE);
	ck_assert_int_eq(filemap_lookup(fm, "pg_wal")->target_type, D);
	filemap_free(fm);
}
END_TEST

/* Rules 5-6: both sides, the same type. */
START_TEST(test_rule_both_sides)
{
	struct filemap *fm = filemap_create();
	struct file_entry *e;

	filemap_add_source(fm, "PG_VERSION", F, 3, NULL);
	filemap_add_target(fm, "PG_VERSION", F, 4, NULL);
	filemap_add_source(fm, "base/1/PG_VERSION", F, 3, NULL);
	filemap_add_target(fm, "base/1/PG_VERSION", F, 3, NULL);
	filemap_add_source(fm, "base", D, 0, NULL);
	filemap_add_target(fm, "base", D, 0, NULL);
	filemap_add_source(fm, "pg_tblspc/16400", L, 0, "/a");
	filemap_add_target(fm, "pg_tblspc/16400", L, 0, "/b");
	filemap_add_source(fm, "postgresql.auto.conf", F, 100, NULL);
	filemap_add_target(fm, "postgresql.auto.conf", F, 100, NULL);
	filemap_add_source(fm, "base/1/1259_vm", F, 8192, NULL);
	filemap_add_target(fm, "base/1/1259_vm", F, 8192, NULL);
	filemap_add_source(fm, "base/1/pg_filenode.map", F, 512, NULL);
	filemap_add_target(fm, "base/1/pg_filenode.map", F, 512, NULL);
	filemap_add_source(fm, "pg_xact/0000", F, 8192, NULL);
	filemap_add_target(fm, "pg_xact/0000", F, 8192, NULL);
	/* relation files */
	filemap_add_source(fm, "base/1/100", F, 5 * 8192, NULL);
	filemap_add_target(fm, "base/1/100", F, 3 * 8192, NULL);
	filemap_add_source(fm, "base/1/101", F, 3 * 8192, NULL);
	filemap_add_target(fm, "base/1/101", F, 5 * 8192, NULL);
	filemap_add_source(fm, "base/1/102", F, 4 * 8192, NULL);
	filemap_add_target(fm, "base/1/102", F, 4 * 8192, NULL);
	filemap_add_source(fm, "global/1262.1", F, 4 * 8192, NULL);
	filemap_add_target(fm, "global/1262.1", F, 4 * 8192, NULL);
	filemap_note_block(fm, 1663, 1, 100, 0, 1);
	filemap_note_block(fm, 1663, 1, 101, 0, 2);
	filemap_note_block(fm, 1663, 1, 102, 0, 0);
	filemap_note_block(fm, 1663, 1, 102, 0, 3);
	filemap_note_block(fm, 1664, 0, 1262, 0, RELSEG_BLOCKS + 2);
	decide_ok(fm, NULL);
	expect_action(fm, "PG_VERSION", ACTION_NONE);
	expect_action(fm, "base/1/PG_VERSION", ACTION_NONE);
	expect_action(fm, "base", ACTION_NONE);
	expect_action(fm, "pg_tblspc/16400", ACTION_NONE);
	expect_action(fm, "postgresql.auto.conf", ACTION_COPY);
	expect_action(fm, "base/1/1259_vm", ACTION_COPY);
	expect_action(fm, "base/1/pg_filenode.map", ACTION_COPY);
	expect_action(fm, "pg_xact/0000", ACTION_COPY);
	expect_action(fm, "base/1/100", ACTION_COPY_TAIL);
	expect_action(fm, "base/1/101", ACTION_TRUNCATE);
	expect_action(fm, "base/1/102", ACTION_NONE);
	expect_action(fm, "global/1262.1", ACTION_NONE);
	e = filemap_lookup(fm, "base/1/100");
	ck_assert(e->is_relation);
	ck_assert_uint_eq(e->blocks.count, 1);
	ck_assert(blockmap_has(&e->blocks, 1));
	e = filemap_lookup(fm, "base/1/101");
	ck_assert_uint_eq(e->blocks.count, 1);
	ck_assert(blockmap_has(&e->blocks, 2));
	e = filemap_lookup(fm, "base/1/102");
	ck_assert_uint_eq(e->blocks.count, 2);
	e = filemap_lookup(fm, "global/1262.1");
	ck_assert_uint_eq(e->blocks.count, 1);
	ck_assert(blockmap_has(&e->blocks, 2));
	ck_assert(!filemap_lookup(fm, "base/1/1259_vm")->is_relation);
	filemap_free(fm);
}
END_TEST

START_TEST(test_note_block_limits)
{
	struct filemap *fm = filemap_create();
	struct file_entry *e;

	filemap_add_source(fm, "base/5/200", F, 10 * 8192, NULL);
	filemap_add_target(fm, "base/5/200", F, 6 * 8192 + 100, NULL); /* 6 whole blocks */
	filemap_add_source(fm, "base/5/201", F, 8192, NULL);            /* only on the source */
	filemap_add_target(fm, "base/5/202", F, 8192, NULL);            /* only on the target */
	filemap_add_source(fm, "base/5/203_fsm", F, 8192 * 3, NULL);
	filemap_add_target(fm, "base/5/203_fsm", F, 8192 * 3, NULL);
	filemap_add_source(fm, "base/5/203", F, 8192 * 3, NULL);
	filemap_add_target(fm, "base/5/203", F, 8192 * 3, NULL);
	filemap_add_source(fm, "pg_tblspc/16400/PG_15_202209061/5/300.2", F, 8192 * 8, NULL);
	filemap_add_target(fm, "pg_tblspc/16400/PG_15_202209061/5/300.2", F, 8192 * 4, NULL);
	filemap_add_source(fm, "base/5/204", D, 0, NULL); /* not a regular file */
	filemap_add_target(fm, "base/5/204", D, 0, NULL);

	filemap_note_block(fm, 1663, 5, 200, 0, 5);  /* last whole block on the target: kept */
	filemap_note_block(fm, 1663, 5, 200, 0, 6);  /* partial on the target: not kept */
	filemap_note_block(fm, 1663, 5, 200, 0, 9);  /* beyond the target */
	filemap_note_block(fm, 1663, 5, 200, 0, 12); /* beyond both */
	filemap_note_block(fm, 1663, 5, 201, 0, 0);
	filemap_note_block(fm, 1663, 5, 202, 0, 0);
	filemap_note_block(fm, 1663, 5, 203, 1, 0);  /* fsm fork */
	filemap_note_block(fm, 1663, 5, 203, 2, 0);  /* vm fork */
	filemap_note_block(fm, 1663, 5, 203, 3, 0);  /* init fork */
	filemap_note_block(fm, 1663, 5, 299, 0, 0);  /* no such file */
	filemap_note_block(fm, 1663, 5, 204, 0, 0);
	filemap_note_block(fm, 16400, 5, 300, 0, 2 * RELSEG_BLOCKS + 3); /* segment 2, block 3 */
	filemap_note_block(fm, 16400, 5, 300, 0, 2 * RELSEG_BLOCKS + 4); /* beyond the target */
	filemap_note_block(fm, 16400, 5, 300, 0, RELSEG_BLOCKS + 3);     /* segment 1: absent */

	e = filemap_lookup(fm, "base/5/200");
	ck_assert_uint_eq(e->blocks.count, 1);
	ck_assert(blockmap_has(&e->blocks, 5));
	ck_assert_uint_eq(filemap_lookup(fm, "base/5/201")->blocks.count, 0);
	ck_assert_uint_eq(filemap_lookup(fm, "base/5/202")->blocks.count, 0);
	ck_assert_uint_eq(filemap_lookup(fm, "base/5/203")->blocks.count, 0);
	ck_assert_uint_eq(filemap_lookup(fm, "base/5/203_fsm")->blocks.count, 0);
	ck_assert_uint_eq(filemap_lookup(fm, "base/5/204")->blocks.count, 0);
	ck_assert_ptr_null(filemap_lookup(fm, "base/5/299"));
	e = filemap_lookup(fm, "pg_tblspc/16400/PG_15_202209061/5/300.2");
	ck_assert_uint_eq(e->blocks.count, 1);
	ck_assert(blockmap_has(&e->blocks, 3));
	ck_assert_ptr_null(filemap_lookup(fm, "pg_tblspc/16400/PG_15_202209061/5/300.1"));
	filemap_free(fm);
}
END_TEST

START_TEST(test_wal_rules)
{
	struct filemap *fm = filemap_create();

	filemap_add_source(fm, "pg_wal", D, 0, NULL);
	filemap_add_target(fm, "pg_wal", D, 0, NULL);
	filemap_add_source(fm, "pg_wal/archive_status", D, 0, NULL);
	filemap_add_target(fm, "pg_wal/archive_status", D, 0, NULL);
	/* segments: only on the source, on both, only on the target, kept */
	filemap_add_source(fm, "pg_wal/000000020000000000000005", F, 16777216, NULL);
	filemap_add_source(fm, "pg_wal/000000010000000000000003", F, 16777216, NULL);
	filemap_add_target(fm, "pg_wal/000000010000000000000003", F, 16777216, NULL);
	filemap_add_target(fm, "pg_wal/000000010000000000000004", F, 16777216, NULL);
	filemap_add_target(fm, "pg_wal/000000010000000000000002", F, 16777216, NULL);
	filemap_keep_wal(fm, "pg_wal/000000010000000000000002");
	filemap_add_target(fm, "pg_wal/000000010000000000000001", F, 16777216, NULL);
	/* partial, backup history, history, junk, deeper */
	filemap_add_source(fm, "pg_wal/000000010000000000000006.partial", F, 16777216, NULL);
	filemap_add_target(fm, "pg_wal/000000010000000000000007.partial", F, 16777216, NULL);
	filemap_add_source(fm, "pg_wal/000000010000000000000002.00000028.backup", F, 300, NULL);
	filemap_add_target(fm, "pg_wal/000000010000000000000001.00000028.backup", F, 300, NULL);
	filemap_add_source(fm, "pg_wal/00000002.history", F, 42, NULL);
	filemap_add_source(fm, "pg_wal/00000003.history", F, 84, NULL);
	filemap_add_target(fm, "pg_wal/00000003.history", F, 84, NULL);
	filemap_add_target(fm, "pg_wal/00000004.history", F, 126, NULL);
	filemap_add_target(fm, "pg_wal/xlogtemp.123", F, 5, NULL);
	filemap_add_source(fm, "pg_wal/subdir", D, 0, NULL);
	filemap_add_source(fm, "pg_wal/subdir/file", F, 5, NULL);
	/* status files: of a removed segment, of a kept one, of a segment on both sides, orphan,
	 * of a history file copied, of a history file removed, source-only, other names */
	filemap_add_target(fm, "pg_wal/archive_status/000000010000000000000004.ready", F, 0, NULL);
	filemap_add_target(fm, "pg_wal/archive_status/000000010000000000000002.done", F, 0, NULL);
	filemap_add_target(fm, "pg_wal/archive_status/000000010000000000000003.done", F, 0, NULL);
	filemap_add_target(fm, "pg_wal/archive_status/000000010000000000000009.ready", F, 0, NULL);
	filemap_add_target(fm, "pg_wal/archive_status/00000003.history.done", F, 0, NULL);
	filemap_add_target(fm, "pg_wal/archive_status/00000004.history.ready", F, 0, NULL);
	filemap_add_source(fm, "pg_wal/archive_status/000000020000000000000005.ready", F, 0, NULL);
	filemap_add_target(fm, "pg_wal/archive_status/junk", F, 0, NULL);
	filemap_add_target(fm,
			   "pg_wal/archive_status/000000010000000000000001.00000028.backup.done",
			   F, 0, NULL);
	decide_ok(fm, NULL);

	expect_action(fm, "pg_wal", ACTION_NONE);
	expect_action(fm, "pg_wal/archive_status", ACTION_NONE);
	expect_action(fm, "pg_wal/000000020000000000000005", ACTION_NONE);
	expect_action(fm, "pg_wal/000000010000000000000003", ACTION_REMOVE);
	expect_action(fm, "pg_wal/000000010000000000000004", ACTION_REMOVE);
	expect_action(fm, "pg_wal/000000010000000000000002", ACTION_NONE);
	expect_action(fm, "pg_wal/000000010000000000000001", ACTION_REMOVE);
	expect_action(fm, "pg_wal/000000010000000000000006.partial", ACTION_NONE);
	expect_action(fm, "pg_wal/000000010000000000000007.partial", ACTION_REMOVE);
	expect_action(fm, "pg_wal/000000010000000000000002.00000028.backup", ACTION_NONE);
	expect_action(fm, "pg_wal/000000010000000000000001.00000028.backup", ACTION_REMOVE);
	expect_action(fm, "pg_wal/00000002.history", ACTION_COPY);
	expect_action(fm, "pg_wal/00000003.history", ACTION_COPY);
	expect_action(fm, "pg_wal/00000004.history", ACTION_REMOVE);
	expect_action(fm, "pg_wal/xlogtemp.123", ACTION_REMOVE);
	expect_action(fm, "pg_wal/subdir", ACTION_NONE);
	expect_action(fm, "pg_wal/subdir/file", ACTION_NONE);
	expect_action(fm, "pg_wal/archive_status/000000010000000000000004.ready", ACTION_REMOVE);
	expect_action(fm, "pg_wal/archive_status/000000010000000000000002.done", ACTION_NONE);
	expect_action(fm, "pg_wal/archive_status/000000010000000000000003.done", ACTION_REMOVE);
	expect_action(fm, "pg_wal/archive_status/000000010000000000000009.ready", ACTION_REMOVE);
	expect_action(fm, "pg_wal/archive_status/00000003.history.done", ACTION_NONE);
	expect_action(fm, "pg_wal/archive_status/00000004.history.ready", ACTION_REMOVE);
	expect_action(fm, "pg_wal/archive_status/000000020000000000000005.ready", ACTION_NONE);
	expect_action(fm, "pg_wal/archive_status/junk", ACTION_REMOVE);
	expect_action(fm, "pg_wal/archive_status/000000010000000000000001.00000028.backup.done",
		      ACTION_REMOVE);
	filemap_free(fm);

	/* keep_wal before the lists, a kept .partial, a target-only archive_status directory */
	fm = filemap_create();
	filemap_keep_wal(fm, "pg_wal/000000010000000000000003.partial");
	filemap_keep_wal(fm, "pg_wal/00000001000000000000000A"); /* on neither side */
	filemap_add_target(fm, "pg_wal/000000010000000000000003.partial", F, 100, NULL);
	filemap_add_target(fm, "pg_wal/archive_status", D, 0, NULL);
	filemap_add_target(fm, "pg_wal/archive_status/000000010000000000000003.partial.ready", F,
			   0, NULL);
	decide_ok(fm, NULL);
	expect_action(fm, "pg_wal/000000010000000000000003.partial", ACTION_NONE);
	expect_action(fm, "pg_wal/00000001000000000000000A", ACTION_NONE);
	expect_action(fm, "pg_wal/archive_status", ACTION_NONE);
	expect_action(fm, "pg_wal/archive_status/000000010000000000000003.partial.ready",
		      ACTION_NONE);
	filemap_free(fm);
}
END_TEST

START_TEST(test_force_copy)
{
	struct filemap *fm = filemap_create();
	struct errbuf err;

	filemap_add_source(fm, "pg_wal/000000020000000000000005", F, 16777216, NULL);
	filemap_add_source(fm, "pg_wal/000000010000000000000004", F, 16777216, NULL);
	filemap_add_target(fm, "pg_wal/000000010000000000000004", F, 16777216, NULL);
	filemap_add_source(fm, "base/1/100", F, 8192, NULL);
	filemap_add_target(fm, "base/1/100", F, 8192, NULL);
	filemap_add_target(fm, "pg_wal/000000010000000000000009", F, 16777216, NULL);
	filemap_add_source(fm, "base/1", D, 0, NULL);
	filemap_note_block(fm, 1663, 1, 100, 0, 0);

	ck_assert_int_eq(filemap_force_copy(fm, "pg_wal/000000010000000000000009", &err), -1);
	ck_assert_msg(strstr(err.msg, "000000010000000000000009") != NULL, "%s", err.msg);
	ck_assert_int_eq(filemap_force_copy(fm, "pg_wal/nothere", &err), -1);
	ck_assert_int_eq(filemap_force_copy(fm, "base/1", &err), -1);
	ck_assert_msg(filemap_force_copy(fm, "pg_wal/000000020000000000000005", &err) == 0, "%s",
		      err.msg);
	ck_assert_msg(filemap_force_copy(fm, "pg_wal/000000010000000000000004", &err) == 0, "%s",
		      err.msg);
	ck_assert_msg(filemap_force_copy(fm, "base/1/100", &err) == 0, "%s", err.msg);
	decide_ok(fm, NULL);
	expect_action(fm, "pg_wal/000000020000000000000005", ACTION_COPY);
	expect_action(fm, "pg_wal/000000010000000000000004", ACTION_COPY);
	expect_action(fm, "base/1/100", ACTION_COPY);
	expect_action(fm, "pg_wal/000000010000000000000009", ACTION_REMOVE);
	filemap_free(fm);
}
END_TEST

START_TEST(test_ordering)
{
	struct filemap *fm = filemap_create();
	struct file_entry *prev = NULL;

	/* Added in an order unlike the execution order. */
	filemap_add_target(fm, "old", D, 0, NULL);
	filemap_add_target(fm, "old/a", D, 0, NULL);
	filemap_add_target(fm, "old/a/f1", F, 1, NULL);
	filemap_add_target(fm, "old/a/f2", F, 1, NULL);
	filemap_add_target(fm, "old/b", F, 1, NULL);
	filemap_add_target(fm, "old.txt", F, 1, NULL);
	filemap_add_source(fm, "new/x/y", D, 0, NULL);
	filemap_add_source(fm, "new", D, 0, NULL);
	filemap_add_source(fm, "new/x", D, 0, NULL);
	filemap_add_source(fm, "new/x/y/file", F, 10, NULL);
	filemap_add_source(fm, "base/1/100", F, 3 * 8192, NULL);
	filemap_add_target(fm, "base/1/100", F, 1 * 8192, NULL);
	filemap_add_source(fm, "base/1/101", F, 1 * 8192, NULL);
	filemap_add_target(fm, "base/1/101", F, 3 * 8192, NULL);
	filemap_add_source(fm, "PG_VERSION", F, 3, NULL);
	filemap_add_target(fm, "PG_VERSION", F, 3, NULL);
	decide_ok(fm, NULL);
	ck_assert_uint_eq(filemap_count(fm), 13);
	for (size_t i = 0; i < filemap_count(fm); i++) {
		struct file_entry *e = filemap_entry(fm, i);

		if (prev != NULL) {
			ck_assert_msg(prev->action <= e->action, "%s (%s) before %s (%s)", prev->path,
				      action_name(prev->action), e->path, action_name(e->action));
			if (prev->action == e->action && e->action == ACTION_REMOVE)
				ck_assert_msg(strcmp(prev->path, e->path) > 0, "%s before %s",
					      prev->path, e->path);
			else if (prev->action == e->action)
				ck_assert_msg(strcmp(prev->path, e->path) < 0, "%s before %s",
					      prev->path, e->path);
		}
		prev = e;
	}
	ck_assert_str_eq(filemap_entry(fm, 0)->path, "new");
	ck_assert_str_eq(filemap_entry(fm, 1)->path, "new/x");
	ck_assert_str_eq(filemap_entry(fm, 2)->path, "new/x/y");
	ck_assert_str_eq(filemap_entry(fm, 3)->path, "new/x/y/file");
	ck_assert_str_eq(filemap_entry(fm, 4)->path, "base/1/100");
	ck_assert_int_eq(filemap_entry(fm, 4)->action, ACTION_COPY_TAIL);
	ck_assert_str_eq(filemap_entry(fm, 5)->path, "PG_VERSION");
	ck_assert_str_eq(filemap_entry(fm, 6)->path, "base/1/101");
	/* REMOVE: children before their parents */
	ck_assert_str_eq(filemap_entry(fm, 7)->path, "old/b");
	ck_assert_str_eq(filemap_entry(fm, 8)->path, "old/a/f2");
	ck_assert_str_eq(filemap_entry(fm, 9)->path, "old/a/f1");
	ck_assert_str_eq(filemap_entry(fm, 10)->path, "old/a");
	ck_assert_str_eq(filemap_entry(fm, 11)->path, "old.txt");
	ck_assert_str_eq(filemap_entry(fm, 12)->path, "old");
	ck_assert_ptr_null(filemap_entry(fm, 13));
	filemap_free(fm);
}
END_TEST

START_TEST(test_totals)
{
	struct filemap *fm = filemap_create();
	struct filemap_totals t;

	filemap_add_source(fm, "new", D, 0, NULL);                       /* create */
	filemap_add_source(fm, "new/f", F, 1000, NULL);                  /* copy 1000 */
	filemap_add_source(fm, "postgresql.conf", F, 300, NULL);         /* copy 300 */
	filemap_add_target(fm, "postgresql.conf", F, 200, NULL);
	filemap_add_source(fm, "base/1/100", F, 5 * 8192, NULL);         /* tail 2 blocks + 1 */
	filemap_add_target(fm, "base/1/100", F, 3 * 8192, NULL);
	filemap_add_source(fm, "base/1/101", F, 2 * 8192, NULL);         /* truncate + 2 blocks */
	filemap_add_target(fm, "base/1/101", F, 4 * 8192, NULL);
	filemap_add_source(fm, "base/1/102", F, 4 * 8192, NULL);         /* none + 3 blocks */
	filemap_add_target(fm, "base/1/102", F, 4 * 8192, NULL);
	filemap_add_source(fm, "base/1/103", F, 4 * 8192, NULL);         /* forced: whole 4 blocks */
	filemap_add_target(fm, "base/1/103", F, 4 * 8192, NULL);
	filemap_add_target(fm, "gone", F, 77, NULL);                     /* remove */
	filemap_add_source(fm, "pg_wal/000000010000000000000001", F, 1 << 24, NULL); /* not copied */
	filemap_note_block(fm, 1663, 1, 100, 0, 0);
	filemap_note_block(fm, 1663, 1, 101, 0, 0);
	filemap_note_block(fm, 1663, 1, 101, 0, 1);
	filemap_note_block(fm, 1663, 1, 102, 0, 0);
	filemap_note_block(fm, 1663, 1, 102, 0, 2);
	filemap_note_block(fm, 1663, 1, 102, 0, 3);
	filemap_note_block(fm, 1663, 1, 103, 0, 1);
	ck_assert_int_eq(filemap_force_copy(fm, "base/1/103", &(struct errbuf) { { 0 } }), 0);
	decide_ok(fm, NULL);
	filemap_totals(fm, &t);
	ck_assert_uint_eq(t.create, 1);
	ck_assert_uint_eq(t.copy, 3);
	ck_assert_uint_eq(t.copy_tail, 1);
	ck_assert_uint_eq(t.truncate, 1);
	ck_assert_uint_eq(t.remove, 1);
	ck_assert_uint_eq(t.blocks, 6);
	ck_assert_uint_eq(t.fetch_bytes, 1000 + 300 + 2 * 8192 + 4 * 8192 + 6 * 8192);
	ck_assert_uint_eq(t.source_bytes,
			  1000 + 300 + 5 * 8192 + 2 * 8192 + 4 * 8192 + 4 * 8192 + (1 << 24));
	filemap_free(fm);
}
END_TEST

START_TEST(test_lookup_and_duplicates)
{
	struct filemap *fm = filemap_create();
	struct file_entry *e;

	filemap_add_source(fm, "./base/1/", D, 0, NULL);
	filemap_add_target(fm, "base/1", D, 0, NULL);
	ck_assert_uint_eq(filemap_count(fm), 1);
	e = filemap_lookup(fm, "base/1");
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(e->path, "base/1");
	ck_assert_ptr_eq(filemap_lookup(fm, "./base/1"), e);
	ck_assert_ptr_null(filemap_lookup(fm, "base/2"));
	/* The same path listed twice: the last listing counts. */
	filemap_add_source(fm, "x", F, 10, NULL);
	filemap_add_source(fm, "x", F, 20, NULL);
	ck_assert_uint_eq(filemap_lookup(fm, "x")->source_size, 20);
	ck_assert_uint_eq(filemap_count(fm), 2);
	filemap_free(fm);
	filemap_free(NULL);
}
END_TEST

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double) (t1.tv_sec - t0->tv_sec) + (double) (t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Time limits are for a native run; under valgrind (which preloads its vgpreload library)
 * everything is some 50 times slower. */
static double time_scale(void)
{
	const char *preload = getenv("LD_PRELOAD");

	return preload && strstr(preload, "vgpreload") ? 100.0 : 1.0;
}

START_TEST(test_performance_100k)
{
	struct filemap *fm = filemap_create();
	struct timespec t0, t_decide;
	struct filemap_totals t;
	char path[128];
	double total, decide;
	size_t n = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint32_t db = 0; db < 10; db++)
		for (uint32_t rel = 0; rel < 10000; rel++) {
			filemap_relation_path(path, sizeof(path), 1663, 16384 + db, 20000 + rel, 0);
			filemap_add_source(fm, path, F, 8 * 8192, NULL);
			if (rel % 10 != 0)
				filemap_add_target(fm, path, F, (rel % 3 + 7) * 8192, NULL);
			n++;
		}
	for (uint32_t i = 0; i < 100000; i++)
		filemap_note_block(fm, 1663, 16384 + i % 10, 20000 + (i / 10) % 10000, 0, i % 8);
	clock_gettime(CLOCK_MONOTONIC, &t_decide);
	decide_ok(fm, NULL);
	decide = seconds_since(&t_decide);
	total = seconds_since(&t0);
	ck_assert_uint_eq(filemap_count(fm), n);
	filemap_totals(fm, &t);
	ck_assert_uint_eq(t.copy, 10000);
	ck_assert_uint_eq(t.copy_tail, 30000);
	ck_assert_uint_eq(t.truncate, 30000);
	ck_assert_uint_gt(t.blocks, 0);
	printf("filemap: 100k entries: decided in %.3f s, %.3f s with adding and noting 100k blocks\n",
	       decide, total);
	if (decide > 0.25 * time_scale() || total > 1.0 * time_scale())
		filemap_free(fm);
	ck_assert_msg(decide <= 0.25 * time_scale(), "deciding 100k entries took %.3f s", decide);
	ck_assert_msg(total <= 1.0 * time_scale(), "100k entries took %.3f s in all", total);
	filemap_free(fm);
}
END_TEST

static Suite *filemap_suite(void)
{
	Suite *s = suite_create("filemap");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_blockmap);
	tcase_add_test(tc, test_relation_paths);
	tcase_add_test(tc, test_exclusions);
	tcase_add_test(tc, test_rule_control_and_ds_store);
	tcase_add_test(tc, test_rule_target_own_and_logs);
	tcase_add_test(tc, test_rule_excluded);
	tcase_add_test(tc, test_rule_one_side);
	tcase_add_test(tc, test_rule_type_conflicts);
	tcase_add_test(tc, test_rule_both_sides);
	tcase_add_test(tc, test_note_block_limits);
	tcase_add_test(tc, test_wal_rules);
	tcase_add_test(tc, test_force_copy);
	tcase_add_test(tc, test_ordering);
	tcase_add_test(tc, test_totals);
	tcase_add_test(tc, test_lookup_and_duplicates);
	tcase_add_test(tc, test_performance_100k);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(filemap_suite)
