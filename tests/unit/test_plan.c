/* Unit tests of plan building: each failed instance's source, strategy and target. */
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "driver/plan.h"
#include "driver/recoverconf.h"
#include "errbuf.h"
#include "registry.h"
#include "unit.h"
#include "xalloc.h"

#define CONF_FILE "recover.conf"

struct seg_spec {
	int dbid;
	int content;
	char role;
	const char *hostname;
	const char *address;
	int port;
	const char *datadir;
};

/*
 * Two hosts with group mirroring, in the catalog's order (content, then dbid): sdw1 holds the
 * coordinator, the primaries of contents 0-1 and the mirrors of contents 2-3; sdw2 the rest.
 */
static const struct seg_spec cluster_spec[] = {
	{ 1, -1, ROLE_PRIMARY, "sdw1", "127.0.0.1", 7000, "/data/coordinator/gpseg-1" },
	{ 2, 0, ROLE_PRIMARY, "sdw1", "127.0.0.1", 7002, "/data/primary/gpseg0" },
	{ 6, 0, ROLE_MIRROR, "sdw2", "127.0.0.2", 7004, "/data/mirror/gpseg0" },
	{ 3, 1, ROLE_PRIMARY, "sdw1", "127.0.0.1", 7003, "/data/primary/gpseg1" },
	{ 7, 1, ROLE_MIRROR, "sdw2", "127.0.0.2", 7005, "/data/mirror/gpseg1" },
	{ 4, 2, ROLE_PRIMARY, "sdw2", "127.0.0.2", 7002, "/data/primary/gpseg2" },
	{ 8, 2, ROLE_MIRROR, "sdw1", "127.0.0.1", 7004, "/data/mirror/gpseg2" },
	{ 5, 3, ROLE_PRIMARY, "sdw2", "127.0.0.2", 7003, "/data/primary/gpseg3" },
	{ 9, 3, ROLE_MIRROR, "sdw1", "127.0.0.1", 7005, "/data/mirror/gpseg3" },
};

#define CLUSTER_SIZE (sizeof(cluster_spec) / sizeof(cluster_spec[0]))

static void make_cluster(struct catalog *cat)
{
	cat->nsegs = CLUSTER_SIZE;
	cat->segs = xcalloc(cat->nsegs, sizeof(struct segment));
	for (size_t i = 0; i < cat->nsegs; i++) {
		const struct seg_spec *spec = &cluster_spec[i];
		struct segment *s = &cat->segs[i];

		s->dbid = spec->dbid;
		s->content = spec->content;
		s->role = s->preferred_role = spec->role;
		s->mode = spec->content < 0 ? MODE_NOT_SYNCED : MODE_SYNCED;
		s->status = STATUS_UP;
		s->port = spec->port;
		s->hostname = xstrdup(spec->hostname);
		s->address = xstrdup(spec->address);
		s->datadir = xstrdup(spec->datadir);
	}
}

static struct segment *seg(struct catalog *cat, int dbid)
{
	struct segment *s = (struct segment *) catalog_by_dbid(cat, dbid);

	ck_assert_msg(s != NULL, "no dbid %d in the test catalog", dbid);
	return s;
}

/* The instance DBID has failed the way FTS records it: a mirror goes down, a primary fails over. */
static void fail_instance(struct catalog *cat, int dbid)
{
	struct segment *failed = seg(cat, dbid);
	struct segment *peer = (struct segment *) catalog_peer(cat, failed);

	if (failed->role == ROLE_PRIMARY && peer->status == STATUS_UP) {
		failed->role = ROLE_MIRROR;
		peer->role = ROLE_PRIMARY;
	}
	failed->status = STATUS_DOWN;
	failed->mode = MODE_NOT_SYNCED;
	peer->mode = MODE_NOT_SYNCED;
}

static void move_instance(struct catalog *cat, int dbid, const char *hostname, const char *address,
			  int port)
{
	struct segment *s = seg(cat, dbid);

	free(s->hostname);
	free(s->address);
	s->hostname = xstrdup(hostname);
	s->address = xstrdup(address);
	s->port = port;
}

/* plan_build with the -i file CONF_TEXT (NULL: no -i), which must succeed. */
static void build_ok(const struct catalog *cat, const struct plan_options *opts,
		     const char *conf_text, struct plan *plan)
{
	struct plan_options with_file = *opts;
	struct recoverconf conf = { NULL, 0 };
	struct errbuf err;

	errbuf_clear(&err);
	if (conf_text) {
		ck_assert_msg(recoverconf_parse(conf_text, CONF_FILE, &conf, &err) == 0, "%s",
			      err.msg);
		with_file.input_file = CONF_FILE;
	}
	ck_assert_msg(plan_build(cat, &with_file, conf_text ? &conf : NULL, plan, &err) == 0, "%s",
		      err.msg);
	recoverconf_free(&conf);
}

/* plan_build with CONF (NULL: no -i) must fail with an empty plan; ERR says why. */
static void build_fails_with(const struct catalog *cat, const struct plan_options *opts,
			     const struct recoverconf *conf, struct errbuf *err)
{
	struct plan_options with_file = *opts;
	struct plan plan = { (void *) 1, 99 };

	if (conf)
		with_file.input_file = CONF_FILE;
	errbuf_clear(err);
	ck_assert_int_eq(plan_build(cat, &with_file, conf, &plan, err), -1);
	ck_assert_ptr_null(plan.rows);
	ck_assert_uint_eq(plan.nrows, 0);
	ck_assert_msg(!errbuf_empty(err), "plan_build failed without a message");
}

static void build_fails(const struct catalog *cat, const struct plan_options *opts,
			const char *conf_text, struct errbuf *err)
{
	struct recoverconf conf = { NULL, 0 };

	errbuf_clear(err);
	if (conf_text)
		ck_assert_msg(recoverconf_parse(conf_text, CONF_FILE, &conf, err) == 0, "%s",
			      err->msg);
	build_fails_with(cat, opts, conf_text ? &conf : NULL, err);
	recoverconf_free(&conf);
}

static void expect_refusal(const struct catalog *cat, const char *conf_text, const char *message)
{
	struct plan_options opts = { 0 };
	struct errbuf err;

	build_fails(cat, &opts, conf_text, &err);
	ck_assert_str_eq(err.msg, message);
}

static void expect_refusal_containing(const struct catalog *cat, const struct plan_options *opts,
				      const char *conf_text, const char *needle)
{
	struct errbuf err;

	build_fails(cat, opts, conf_text, &err);
	ck_assert_msg(strstr(err.msg, needle) != NULL, "expected \"%s\" in \"%s\"", needle,
		      err.msg);
}

static void check_row(const struct plan_row *row, int failed_dbid, int source_dbid,
		      const char *strategy, bool relocated)
{
	ck_assert_int_eq(row->failed->dbid, failed_dbid);
	ck_assert_int_eq(row->source->dbid, source_dbid);
	ck_assert_int_eq(row->target.dbid, failed_dbid);
	ck_assert_int_eq(row->target.content, row->failed->content);
	ck_assert_str_eq(row->strategy, strategy);
	ck_assert_ptr_nonnull(row->s);
	ck_assert_str_eq(row->s->name, strategy);
	ck_assert_int_eq(row->relocated, relocated);
}

static void check_target(const struct plan_row *row, const char *hostname, const char *address,
			 int port, const char *datadir)
{
	ck_assert_str_eq(row->target.hostname, hostname);
	ck_assert_str_eq(row->target.address, address);
	ck_assert_int_eq(row->target.port, port);
	ck_assert_str_eq(row->target.datadir, datadir);
}

static void check_in_place(const struct plan_row *row)
{
	check_target(row, row->failed->hostname, row->failed->address, row->failed->port,
		     row->failed->datadir);
	/* The target is the row's own copy: freeing the plan must not touch the catalog. */
	ck_assert_ptr_ne(row->target.datadir, row->failed->datadir);
}

/* ---- (a) in-place rows and their strategies ---- */

START_TEST(every_down_instance_gets_an_incremental_in_place_row)
{
	struct catalog cat;
	struct plan_options opts = { 0 };
	struct plan plan;

	make_cluster(&cat);
	fail_instance(&cat, 6); /* mirror of content 0 */
	fail_instance(&cat, 4); /* primary of content 2: dbid 8 took over */
	build_ok(&cat, &opts, NULL, &plan);
	ck_assert_uint_eq(plan.nrows, 2);
	/* In catalog order: content 0 before content 2. */
	check_row(&plan.rows[0], 6, 2, "incremental", false);
	check_row(&plan.rows[1], 4, 8, "incremental", false);
	ck_assert_ptr_eq(plan.rows[0].s, &strategy_incremental);
	check_in_place(&plan.rows[0]);
	check_in_place(&plan.rows[1]);
	plan_free(&plan);
	ck_assert_ptr_null(plan.rows);
	ck_assert_uint_eq(plan.nrows, 0);
	catalog_free(&cat);
}
END_TEST

START_TEST(a_healthy_cluster_and_a_down_standby_give_no_rows)
{
	struct catalog cat;
	struct plan_options opts = { 0 };
	struct plan plan;

	make_cluster(&cat);
	/* gprecoverseg leaves the coordinator's standby (content -1) to gpinitstandby. */
	cat.segs = xrealloc(cat.segs, (cat.nsegs + 1) * sizeof(struct segment));
	memmove(&cat.segs[1], &cat.segs[0], cat.nsegs * sizeof(struct segment));
	cat.nsegs++;
	cat.segs[1] = (struct segment) { .dbid = 10, .content = -1, .role = ROLE_MIRROR,
					 .preferred_role = ROLE_MIRROR, .mode = MODE_NOT_SYNCED,
					 .status = STATUS_DOWN, .port = 7001,
					 .hostname = xstrdup("sdw2"),
					 .address = xstrdup("127.0.0.2"),
					 .datadir = xstrdup("/data/standby/gpseg-1") };
	build_ok(&cat, &opts, NULL, &plan);
	ck_assert_uint_eq(plan.nrows, 0);
	ck_assert_ptr_null(plan.rows);
	plan_free(&plan);
	catalog_free(&cat);
}
END_TEST

START_TEST(full_option_makes_every_row_full)
{
	struct catalog cat;
	struct plan_options opts = { .full = true };
	struct plan plan;

	make_cluster(&cat);
	fail_instance(&cat, 7);
	fail_instance(&cat, 9);
	build_ok(&cat, &opts, NULL, &plan);
	ck_assert_uint_eq(plan.nrows, 2);
	check_row(&plan.rows[0], 7, 3, "full", false);
	check_row(&plan.rows[1], 9, 5, "full", false);
	ck_assert_ptr_eq(plan.rows[0].s, &strategy_full);
	check_in_place(&plan.rows[1]);
	plan_free(&plan);
	catalog_free(&cat);
}
END_TEST

START_TEST(strategy_option_names_the_strategy_and_full_option_wins)
{
	struct catalog cat;
	struct plan_options opts = { .strategy = "full" };
	struct plan plan;

	make_cluster(&cat);
	fail_instance(&cat, 8);
	build_ok(&cat, &opts, NULL, &plan);
	ck_assert_uint_eq(plan.nrows, 1);
	check_row(&plan.rows[0], 8, 4, "full", false);
	plan_free(&plan);

	opts = (struct plan_options) { .strategy = "incremental", .full = true };
	build_ok(&cat, &opts, NULL, &plan);
	ck_assert_uint_eq(plan.nrows, 1);
	check_row(&plan.rows[0], 8, 4, "full", false);
	plan_free(&plan);
	catalog_free(&cat);
}
END_TEST

START_TEST(line_type_prefix_picks_the_strategy)
{
	struct catalog cat;
	struct plan_options opts = { 0 };
	struct plan plan;

	make_cluster(&cat);
	fail_instance(&cat, 6);
	fail_instance(&cat, 7);
	fail_instance(&cat, 8);
	build_ok(&cat, &opts,
		 "F|127.0.0.2|7004|/data/mirror/gpseg0\n"
		 "I|127.0.0.2|7005|/data/mirror/gpseg1\n"
		 "127.0.0.1|7004|/data/mirror/gpseg2\n",
		 &plan);
	ck_assert_uint_eq(plan.nrows, 3);
	/* In the file's order, not the catalog's. */
	check_row(&plan.rows[0], 6, 2, "full", false);
	check_row(&plan.rows[1], 7, 3, "incremental", false);
	check_row(&plan.rows[2], 8, 4, "incremental", false);
	check_in_place(&plan.rows[0]);
	plan_free(&plan);

	/* -F beats the line's I|; --strategy beats it too. */
	opts.full = true;
	build_ok(&cat, &opts, "I|127.0.0.2|7005|/data/mirror/gpseg1\n", &plan);
	ck_assert_uint_eq(plan.nrows, 1);
	check_row(&plan.rows[0], 7, 3, "full", false);
	plan_free(&plan);
	opts = (struct plan_options) { .strategy = "incremental" };
	build_ok(&cat, &opts, "F|127.0.0.2|7005|/data/mirror/gpseg1\n", &plan);
	ck_assert_uint_eq(plan.nrows, 1);
	check_row(&plan.rows[0], 7, 3, "incremental", false);
	plan_free(&plan);
	catalog_free(&cat);
}
END_TEST

START_TEST(differential_rows_are_in_place_only)
{
	struct catalog cat;
	struct plan_options opts = { 0 };
	struct plan plan;

	make_cluster(&cat);
	fail_instance(&cat, 6);
	fail_instance(&cat, 7);
	/* D| picks the differential strategy for its line. */
	build_ok(&cat, &opts, "# header\nD|127.0.0.2|7004|/data/mirror/gpseg0\n", &plan);
	ck_assert_uint_eq(plan.nrows, 1);
	check_row(&plan.rows[0], 6, 2, "differential", false);
	check_in_place(&plan.rows[0]);
	plan_free(&plan);
	/* --differential makes every in-place row differential, beating I|; a new location stays full. */
	opts.differential = true;
	build_ok(&cat, &opts,
		 "I|127.0.0.2|7004|/data/mirror/gpseg0\n"
		 "127.0.0.2|7005|/data/mirror/gpseg1 127.0.0.1|7600|/data/mirror/moved1\n",
		 &plan);
	ck_assert_uint_eq(plan.nrows, 2);
	check_row(&plan.rows[0], 6, 2, "differential", false);
	check_row(&plan.rows[1], 7, 3, "full", true);
	plan_free(&plan);
	catalog_free(&cat);
}
END_TEST

START_TEST(a_relocated_row_is_always_full)
{
	struct catalog cat;
	struct plan_options opts = { .strategy = "incremental" };
	struct plan plan;

	make_cluster(&cat);
	fail_instance(&cat, 6);
	build_ok(&cat, &opts,
		 "I|127.0.0.2|7004|/data/mirror/gpseg0 127.0.0.2|8000|/data/new/gpseg0\n", &plan);
	ck_assert_uint_eq(plan.nrows, 1);
	check_row(&plan.rows[0], 6, 2, "full", true);
	check_target(&plan.rows[0], "sdw2", "127.0.0.2", 8000, "/data/new/gpseg0");
	plan_free(&plan);
	catalog_free(&cat);
}
END_TEST

START_TEST(compression_is_lz4_from_another_host_unless_told)
{
	struct catalog cat;
	struct plan_options opts = { 0 };
	struct plan plan;

	make_cluster(&cat);
	fail_instance(&cat, 7);
	/* In place: the mirror on sdw2, its primary on sdw1. */
	build_ok(&cat, &opts, NULL, &plan);
	ck_assert_str_eq(plan.rows[0].compression, "lz4");
	plan_free(&plan);
	/* Moved next to its primary: nothing to gain. */
	opts.compression = "auto";
	build_ok(&cat, &opts, "127.0.0.2|7005|/data/mirror/gpseg1 127.0.0.1|8000|/data/new/gpseg1",
		 &plan);
	ck_assert_str_eq(plan.rows[0].compression, "none");
	plan_free(&plan);
	opts.compression = "zstd";
	build_ok(&cat, &opts, NULL, &plan);
	ck_assert_str_eq(plan.rows[0].compression, "zstd");
	plan_free(&plan);
	opts.compression = "none";
	build_ok(&cat, &opts, NULL, &plan);
	ck_assert_str_eq(plan.rows[0].compression, "none");
	plan_free(&plan);
	catalog_free(&cat);
}
END_TEST

START_TEST(unknown_strategy_fails_before_any_row_is_returned)
{
	struct catalog cat;
	struct plan_options opts = { .strategy = "nosuch" };
	struct errbuf err;

	setenv("SEGRECOVER_STRATEGY_PATH", "/nonexistent-segrecover-plugins", 1);
	make_cluster(&cat);
	fail_instance(&cat, 6);
	fail_instance(&cat, 7);
	build_fails(&cat, &opts, NULL, &err);
	ck_assert_msg(strstr(err.msg, "unknown recovery strategy \"nosuch\"") != NULL, "%s",
		      err.msg);
	catalog_free(&cat);
}
END_TEST

/* ---- (b) what cannot be recovered ---- */

START_TEST(an_instance_that_is_not_down_is_refused)
{
	struct catalog cat;

	make_cluster(&cat);
	expect_refusal(&cat, "127.0.0.2|7004|/data/mirror/gpseg0\n",
		       "line 1 of file " CONF_FILE ": dbid 6 (127.0.0.2:7004 /data/mirror/gpseg0) "
		       "is not marked down in gp_segment_configuration; only failed instances "
		       "are recovered (run gpfts --once if it has failed)");
	catalog_free(&cat);
}
END_TEST

START_TEST(an_instance_without_live_primary_is_refused)
{
	struct catalog cat;
	struct plan_options opts = { 0 };

	make_cluster(&cat);
	/* Double fault on content 1: its primary went down after its mirror. */
	fail_instance(&cat, 7);
	fail_instance(&cat, 3);
	ck_assert_int_eq(seg(&cat, 3)->role, ROLE_PRIMARY);
	expect_refusal_containing(&cat, &opts, NULL,
				  "Primary segment is not up for content 1: dbid 3 (127.0.0.1:7003 "
				  "/data/primary/gpseg1) has no live primary to copy from");
	/* The mirror of that content is refused as well, by -i too, naming its line. */
	expect_refusal(&cat, "127.0.0.2|7005|/data/mirror/gpseg1\n",
		       "line 1 of file " CONF_FILE ": Primary segment is not up for content 1: "
		       "dbid 7 (127.0.0.2:7005 /data/mirror/gpseg1) has no live primary to copy "
		       "from");
	catalog_free(&cat);
}
END_TEST

START_TEST(a_line_naming_no_instance_is_refused)
{
	struct catalog cat;

	make_cluster(&cat);
	fail_instance(&cat, 6);
	/* Right address and directory, wrong port. */
	expect_refusal(&cat, "127.0.0.2|7999|/data/mirror/gpseg0\n",
		       "line 1 of file " CONF_FILE ": A segment to recover was not found in "
		       "configuration. This segment is described by "
		       "'127.0.0.2|7999|/data/mirror/gpseg0'");
	/* A 4-part line must name the catalog's hostname too. */
	expect_refusal(&cat, "sdw1|127.0.0.2|7004|/data/mirror/gpseg0\n",
		       "line 1 of file " CONF_FILE ": A segment to recover was not found in "
		       "configuration. This segment is described by "
		       "'127.0.0.2|7004|/data/mirror/gpseg0'");
	catalog_free(&cat);
}
END_TEST

START_TEST(a_data_directory_pg_ctl_would_mangle_is_refused_in_place_too)
{
	struct catalog cat;
	struct plan_options opts = { 0 };

	make_cluster(&cat);
	free(seg(&cat, 6)->datadir);
	seg(&cat, 6)->datadir = xstrdup("/data/mirror/$gpseg0");
	fail_instance(&cat, 6);
	expect_refusal_containing(&cat, &opts, NULL,
				  "dbid 6 (127.0.0.2:7004 /data/mirror/$gpseg0): the data "
				  "directory \"/data/mirror/$gpseg0\" holds the character '$'");
	catalog_free(&cat);
}
END_TEST

/* ---- (c) -i new locations ---- */

START_TEST(new_location_on_a_used_port_is_refused)
{
	struct catalog cat;

	make_cluster(&cat);
	fail_instance(&cat, 7);
	expect_refusal(&cat, "127.0.0.2|7005|/data/mirror/gpseg1 127.0.0.2|7002|/data/new/gpseg1",
		       "line 1 of file " CONF_FILE ": Segment dbid's 4 and 7 on host sdw2 cannot "
		       "have the same port 7002.");
	/* The coordinator's port counts: it lives on sdw1. */
	expect_refusal(&cat, "127.0.0.2|7005|/data/mirror/gpseg1 127.0.0.1|7000|/data/new/gpseg1",
		       "line 1 of file " CONF_FILE ": Segment dbid's 1 and 7 on host sdw1 cannot "
		       "have the same port 7000.");
	/* A host named by its hostname is the same host as its address. */
	expect_refusal(&cat,
		       "sdw2|127.0.0.2|7005|/data/mirror/gpseg1 sdw1|sdw1|7003|/data/new/gpseg1",
		       "line 1 of file " CONF_FILE ": Segment dbid's 3 and 7 on host sdw1 cannot "
		       "have the same port 7003.");
	catalog_free(&cat);
}
END_TEST

START_TEST(new_location_in_a_used_data_directory_is_refused)
{
	struct catalog cat;
	struct plan_options opts = { 0 };

	make_cluster(&cat);
	fail_instance(&cat, 7);
	expect_refusal(&cat,
		       "127.0.0.2|7005|/data/mirror/gpseg1 127.0.0.1|8000|/data/primary/gpseg0",
		       "line 1 of file " CONF_FILE ": Segment dbid's 2 and 7 on host sdw1 cannot "
		       "have the same data directory '/data/primary/gpseg0'.");
	expect_refusal(&cat,
		       "127.0.0.2|7005|/data/mirror/gpseg1 127.0.0.1|8000|/data/primary/gpseg0/sub",
		       "line 1 of file " CONF_FILE ": the new data directory "
		       "'/data/primary/gpseg0/sub' lies inside the data directory of dbid 2 "
		       "(127.0.0.1:7002 /data/primary/gpseg0): refusing to touch another instance");
	expect_refusal_containing(&cat, &opts,
				  "127.0.0.2|7005|/data/mirror/gpseg1 127.0.0.1|8000|/data/primary",
				  "'/data/primary' contains the data directory of dbid 2 ");
	/* On sdw2 it names sdw2's instance, not sdw1's dbid 2 that comes first in the catalog. */
	expect_refusal_containing(&cat, &opts,
				  "127.0.0.2|7005|/data/mirror/gpseg1 127.0.0.2|8000|/data/primary",
				  "'/data/primary' contains the data directory of dbid 4 ");
	catalog_free(&cat);
}
END_TEST

START_TEST(new_location_on_another_host_may_reuse_paths_and_ports)
{
	struct catalog cat;
	struct plan_options opts = { 0 };
	struct plan plan;

	make_cluster(&cat);
	fail_instance(&cat, 7);
	build_ok(&cat, &opts,
		 "127.0.0.2|7005|/data/mirror/gpseg1 10.9.9.9|7002|/data/primary/gpseg0", &plan);
	ck_assert_uint_eq(plan.nrows, 1);
	check_row(&plan.rows[0], 7, 3, "full", true);
	check_target(&plan.rows[0], "10.9.9.9", "10.9.9.9", 7002, "/data/primary/gpseg0");
	plan_free(&plan);
	catalog_free(&cat);
}
END_TEST

START_TEST(new_location_on_a_privileged_port_is_refused)
{
	struct catalog cat;
	struct recoverconf_entry entry = {
		.line = 3,
		.failed = { NULL, "127.0.0.2", 7005, "/data/mirror/gpseg1" },
		.has_target = true,
		.target = { NULL, "127.0.0.1", 1023, "/data/new/gpseg1" },
	};
	struct recoverconf conf;
	struct plan_options opts = { 0 };
	struct plan plan;
	struct errbuf err;

	make_cluster(&cat);
	fail_instance(&cat, 7);
	/* The parser refuses it first... */
	errbuf_clear(&err);
	ck_assert_int_eq(recoverconf_parse("127.0.0.2|7005|/data/mirror/gpseg1 "
					   "127.0.0.1|1023|/data/new/gpseg1",
					   CONF_FILE, &conf, &err),
			 -1);
	ck_assert_msg(strstr(err.msg, "port 1023 on new segment group is privileged") != NULL, "%s",
		      err.msg);
	/* ...and the plan on its own, for a configuration that did not come from the parser. */
	conf = (struct recoverconf) { &entry, 1 };
	build_fails_with(&cat, &opts, &conf, &err);
	ck_assert_str_eq(err.msg, "line 3 of file " CONF_FILE ": port 1023 of the new location is "
				  "privileged: use a port from 1024 to 65535");
	entry.target.port = PLAN_MIN_PORT;
	opts.input_file = CONF_FILE;
	errbuf_clear(&err);
	ck_assert_msg(plan_build(&cat, &opts, &conf, &plan, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(plan.nrows, 1);
	check_target(&plan.rows[0], "sdw1", "127.0.0.1", 1024, "/data/new/gpseg1");
	plan_free(&plan);
	catalog_free(&cat);
}
END_TEST

START_TEST(new_location_with_a_shell_character_is_refused)
{
	struct catalog cat;
	struct recoverconf_entry entry = {
		.line = 1,
		.failed = { NULL, "127.0.0.2", 7005, "/data/mirror/gpseg1" },
		.has_target = true,
		.target = { NULL, "127.0.0.1", 8000, "/data/$USER/gpseg1" },
	};
	struct recoverconf conf;
	struct plan_options opts = { 0 };
	struct errbuf err;

	make_cluster(&cat);
	fail_instance(&cat, 7);
	errbuf_clear(&err);
	ck_assert_int_eq(recoverconf_parse("127.0.0.2|7005|/data/mirror/gpseg1 "
					   "127.0.0.1|8000|/data/$USER/gpseg1",
					   CONF_FILE, &conf, &err),
			 -1);
	ck_assert_msg(strstr(err.msg, "holds the character '$'") != NULL, "%s", err.msg);
	conf = (struct recoverconf) { &entry, 1 };
	build_fails_with(&cat, &opts, &conf, &err);
	ck_assert_msg(strstr(err.msg, "line 1 of file " CONF_FILE ": the new data directory "
				      "\"/data/$USER/gpseg1\" holds the character '$'") == err.msg,
		      "%s", err.msg);
	catalog_free(&cat);
}
END_TEST

START_TEST(two_lines_recovering_to_one_place_are_refused)
{
	struct catalog cat;

	make_cluster(&cat);
	fail_instance(&cat, 6);
	fail_instance(&cat, 7);
	/* One port on one host, named by its address on one line and by its name on the other. */
	expect_refusal(&cat,
		       "127.0.0.2|7004|/data/mirror/gpseg0 127.0.0.1|8000|/data/new/gpseg0\n"
		       "\n"
		       "sdw2|127.0.0.2|7005|/data/mirror/gpseg1 sdw1|sdw1|8000|/data/new/gpseg1\n",
		       "line 3 of file " CONF_FILE ": Segment dbid's 6 and 7 on host sdw1 cannot "
		       "be recovered to the same port or data directory.");
	/* The same directory on one host, on different ports. */
	expect_refusal(&cat,
		       "sdw2|127.0.0.2|7004|/data/mirror/gpseg0 sdw1|127.0.0.1|8000|/data/new/gs\n"
		       "sdw2|127.0.0.2|7005|/data/mirror/gpseg1 sdw1|sdw1|8001|/data/new/gs\n",
		       "line 2 of file " CONF_FILE ": Segment dbid's 6 and 7 on host sdw1 cannot "
		       "be recovered to the same port or data directory.");
	/* An instance recovered in place keeps its port: another line cannot move onto it. */
	expect_refusal(&cat,
		       "127.0.0.2|7004|/data/mirror/gpseg0\n"
		       "127.0.0.2|7005|/data/mirror/gpseg1 127.0.0.2|7004|/data/new/gpseg1\n",
		       "line 2 of file " CONF_FILE ": Segment dbid's 6 and 7 on host sdw2 cannot "
		       "have the same port 7004.");
	catalog_free(&cat);
}
END_TEST

START_TEST(new_location_hostname_comes_from_the_catalog)
{
	struct catalog cat;
	struct plan_options opts = { 0 };
	struct plan plan;

	make_cluster(&cat);
	fail_instance(&cat, 6);
	fail_instance(&cat, 7);
	fail_instance(&cat, 8);
	build_ok(&cat, &opts,
		 "127.0.0.2|7004|/data/mirror/gpseg0 127.0.0.1|8000|/data/new/gpseg0\n"
		 "sdw2|127.0.0.2|7005|/data/mirror/gpseg1 spare|10.9.9.9|8001|/data/new/gpseg1\n"
		 "127.0.0.1|7004|/data/mirror/gpseg2 10.9.9.9|8002|/data/new/gpseg2\n",
		 &plan);
	ck_assert_uint_eq(plan.nrows, 3);
	check_row(&plan.rows[0], 6, 2, "full", true);
	/* 3 parts: the catalog's name for that address. */
	check_target(&plan.rows[0], "sdw1", "127.0.0.1", 8000, "/data/new/gpseg0");
	/* 4 parts: the line's own hostname. */
	check_row(&plan.rows[1], 7, 3, "full", true);
	check_target(&plan.rows[1], "spare", "10.9.9.9", 8001, "/data/new/gpseg1");
	/* 3 parts, an address the catalog does not know: the address is the name. */
	check_row(&plan.rows[2], 8, 4, "full", true);
	check_target(&plan.rows[2], "10.9.9.9", "10.9.9.9", 8002, "/data/new/gpseg2");
	/* Only the location moves. */
	ck_assert_int_eq(plan.rows[2].target.role, ROLE_MIRROR);
	ck_assert_int_eq(plan.rows[2].target.status, STATUS_DOWN);
	ck_assert_int_eq(plan.rows[2].target.preferred_role, ROLE_MIRROR);
	plan_free(&plan);
	catalog_free(&cat);
}
END_TEST

START_TEST(same_host_keeps_the_catalogs_names)
{
	/* A full copy in place through -i (the target is the failed instance's own host, named by
	 * its hostname or its address): the catalog keeps naming the host as it did. */
	struct catalog cat;
	struct plan_options opts = { 0 };
	struct plan plan;

	make_cluster(&cat);
	fail_instance(&cat, 7);
	fail_instance(&cat, 8);
	build_ok(&cat, &opts,
		 "127.0.0.2|7005|/data/mirror/gpseg1 sdw2|7005|/data/mirror/gpseg1\n"
		 "127.0.0.1|7004|/data/mirror/gpseg2 127.0.0.1|7006|/data/new/gpseg2\n",
		 &plan);
	ck_assert_uint_eq(plan.nrows, 2);
	check_row(&plan.rows[0], 7, 3, "full", true);
	check_target(&plan.rows[0], "sdw2", "127.0.0.2", 7005, "/data/mirror/gpseg1");
	check_row(&plan.rows[1], 8, 4, "full", true);
	check_target(&plan.rows[1], "sdw1", "127.0.0.1", 7006, "/data/new/gpseg2");
	plan_free(&plan);
	catalog_free(&cat);
}
END_TEST

/* ---- (d) -p new hosts ---- */

START_TEST(new_hosts_take_each_failed_host_in_turn)
{
	struct catalog cat;
	struct plan_options opts = { .new_hosts = "sdw3,sdw4" };
	struct plan plan;

	make_cluster(&cat);
	fail_instance(&cat, 9); /* sdw1 */
	fail_instance(&cat, 6); /* sdw2 */
	fail_instance(&cat, 8); /* sdw1 */
	build_ok(&cat, &opts, NULL, &plan);
	ck_assert_uint_eq(plan.nrows, 3);
	/*
	 * By failed host, then dbid: sdw1's to sdw3, sdw2's to sdw4. Ports from the lowest segment
	 * port (7002, not the coordinator's 7000), the next one for the second instance on a host.
	 */
	check_row(&plan.rows[0], 8, 4, "full", true);
	check_target(&plan.rows[0], "sdw3", "sdw3", 7002, "/data/mirror/gpseg2");
	check_row(&plan.rows[1], 9, 5, "full", true);
	check_target(&plan.rows[1], "sdw3", "sdw3", 7003, "/data/mirror/gpseg3");
	check_row(&plan.rows[2], 6, 2, "full", true);
	check_target(&plan.rows[2], "sdw4", "sdw4", 7002, "/data/mirror/gpseg0");
	plan_free(&plan);
	catalog_free(&cat);
}
END_TEST

START_TEST(new_hosts_ports_skip_what_the_host_already_uses)
{
	struct catalog cat;
	struct plan_options opts = { .new_hosts = "sdw3" };
	struct plan plan;

	make_cluster(&cat);
	/* sdw3 already runs the mirror of content 3 on the lowest segment port. */
	move_instance(&cat, 9, "sdw3", "127.0.0.3", 7002);
	/* The whole of sdw2 fails: its primaries fail over to sdw1 and sdw3. */
	fail_instance(&cat, 4);
	fail_instance(&cat, 5);
	fail_instance(&cat, 6);
	fail_instance(&cat, 7);
	build_ok(&cat, &opts, NULL, &plan);
	ck_assert_uint_eq(plan.nrows, 4);
	check_row(&plan.rows[0], 4, 8, "full", true);
	check_target(&plan.rows[0], "sdw3", "sdw3", 7003, "/data/primary/gpseg2");
	check_row(&plan.rows[1], 5, 9, "full", true);
	check_target(&plan.rows[1], "sdw3", "sdw3", 7004, "/data/primary/gpseg3");
	check_row(&plan.rows[2], 6, 2, "full", true);
	check_target(&plan.rows[2], "sdw3", "sdw3", 7005, "/data/mirror/gpseg0");
	check_row(&plan.rows[3], 7, 3, "full", true);
	check_target(&plan.rows[3], "sdw3", "sdw3", 7006, "/data/mirror/gpseg1");
	plan_free(&plan);
	catalog_free(&cat);
}
END_TEST

START_TEST(fewer_new_hosts_than_failed_hosts_is_refused)
{
	struct catalog cat;
	struct plan_options opts = { .new_hosts = "sdw3" };
	struct errbuf err;

	make_cluster(&cat);
	fail_instance(&cat, 6); /* sdw2 */
	fail_instance(&cat, 8); /* sdw1 */
	build_fails(&cat, &opts, NULL, &err);
	ck_assert_str_eq(err.msg, "Not enough new recovery hosts given for recovery.");
	/* A host named twice counts once. */
	opts.new_hosts = "sdw3,sdw3";
	build_fails(&cat, &opts, NULL, &err);
	ck_assert_str_eq(err.msg, "Not enough new recovery hosts given for recovery.");
	catalog_free(&cat);
}
END_TEST

START_TEST(spare_new_hosts_are_not_an_error)
{
	struct catalog cat;
	struct plan_options opts = { .new_hosts = "sdw3,sdw4,sdw5" };
	struct plan plan;

	make_cluster(&cat);
	fail_instance(&cat, 6);
	build_ok(&cat, &opts, NULL, &plan);
	ck_assert_uint_eq(plan.nrows, 1);
	check_row(&plan.rows[0], 6, 2, "full", true);
	check_target(&plan.rows[0], "sdw3", "sdw3", 7002, "/data/mirror/gpseg0");
	plan_free(&plan);
	catalog_free(&cat);
}
END_TEST

/* ---- (e) (f) trimming a plan ---- */

START_TEST(unresolvable_targets_are_skipped)
{
	struct catalog cat;
	struct plan_options opts = { 0 };
	struct plan plan;

	make_cluster(&cat);
	fail_instance(&cat, 6);
	fail_instance(&cat, 7);
	fail_instance(&cat, 8);
	build_ok(&cat, &opts,
		 "127.0.0.2|7004|/data/mirror/gpseg0 nosuchhost.invalid|8000|/data/new/gpseg0\n"
		 "127.0.0.2|7005|/data/mirror/gpseg1 127.0.0.1|8001|/data/new/gpseg1\n"
		 "127.0.0.1|7004|/data/mirror/gpseg2\n",
		 &plan);
	ck_assert_uint_eq(plan.nrows, 3);
	ck_assert_uint_eq(plan_skip_unresolvable(&plan), 1);
	ck_assert_uint_eq(plan.nrows, 2);
	check_row(&plan.rows[0], 7, 3, "full", true);
	check_target(&plan.rows[0], "sdw1", "127.0.0.1", 8001, "/data/new/gpseg1");
	check_row(&plan.rows[1], 8, 4, "incremental", false);
	check_in_place(&plan.rows[1]);
	ck_assert_uint_eq(plan_skip_unresolvable(&plan), 0);
	ck_assert_uint_eq(plan.nrows, 2);
	plan_free(&plan);
	catalog_free(&cat);
}
END_TEST

START_TEST(keep_only_keeps_the_named_rows_in_order)
{
	struct catalog cat;
	struct plan_options opts = { 0 };
	struct plan plan;
	const int wanted[] = { 8, 42, 6 };

	make_cluster(&cat);
	fail_instance(&cat, 6);
	fail_instance(&cat, 7);
	fail_instance(&cat, 8);
	build_ok(&cat, &opts, NULL, &plan);
	ck_assert_uint_eq(plan.nrows, 3);
	plan_keep_only(&plan, wanted, 3);
	ck_assert_uint_eq(plan.nrows, 2);
	check_row(&plan.rows[0], 6, 2, "incremental", false);
	check_row(&plan.rows[1], 8, 4, "incremental", false);
	check_in_place(&plan.rows[1]);
	plan_keep_only(&plan, wanted, 0);
	ck_assert_uint_eq(plan.nrows, 0);
	plan_free(&plan);
	catalog_free(&cat);
}
END_TEST

START_TEST(same_host_matches_hostname_or_address)
{
	struct segment a = { .hostname = "sdw1", .address = "10.0.0.1" };
	struct segment by_name = { .hostname = "sdw1", .address = "sdw1-ib" };
	struct segment by_address = { .hostname = "10.0.0.1", .address = "10.0.0.1" };
	struct segment other = { .hostname = "sdw2", .address = "10.0.0.2" };

	ck_assert(plan_same_host(&a, &by_name));
	ck_assert(plan_same_host(&a, &by_address));
	ck_assert(plan_same_host(&by_name, &a));
	ck_assert(!plan_same_host(&a, &other));
	ck_assert(!plan_same_host(&by_name, &by_address));
}
END_TEST

static Suite *plan_suite(void)
{
	Suite *s = suite_create("plan");
	TCase *in_place = tcase_create("in place");
	TCase *refused = tcase_create("refused");
	TCase *moved = tcase_create("new locations");
	TCase *hosts = tcase_create("new hosts");
	TCase *trim = tcase_create("trim");

	tcase_add_test(in_place, every_down_instance_gets_an_incremental_in_place_row);
	tcase_add_test(in_place, a_healthy_cluster_and_a_down_standby_give_no_rows);
	tcase_add_test(in_place, full_option_makes_every_row_full);
	tcase_add_test(in_place, strategy_option_names_the_strategy_and_full_option_wins);
	tcase_add_test(in_place, line_type_prefix_picks_the_strategy);
	tcase_add_test(in_place, differential_rows_are_in_place_only);
	tcase_add_test(in_place, a_relocated_row_is_always_full);
	tcase_add_test(in_place, compression_is_lz4_from_another_host_unless_told);
	tcase_add_test(in_place, unknown_strategy_fails_before_any_row_is_returned);
	tcase_add_test(refused, an_instance_that_is_not_down_is_refused);
	tcase_add_test(refused, an_instance_without_live_primary_is_refused);
	tcase_add_test(refused, a_line_naming_no_instance_is_refused);
	tcase_add_test(refused, a_data_directory_pg_ctl_would_mangle_is_refused_in_place_too);
	tcase_add_test(moved, new_location_on_a_used_port_is_refused);
	tcase_add_test(moved, new_location_in_a_used_data_directory_is_refused);
	tcase_add_test(moved, new_location_on_another_host_may_reuse_paths_and_ports);
	tcase_add_test(moved, new_location_on_a_privileged_port_is_refused);
	tcase_add_test(moved, new_location_with_a_shell_character_is_refused);
	tcase_add_test(moved, two_lines_recovering_to_one_place_are_refused);
	tcase_add_test(moved, new_location_hostname_comes_from_the_catalog);
	tcase_add_test(moved, same_host_keeps_the_catalogs_names);
	tcase_add_test(hosts, new_hosts_take_each_failed_host_in_turn);
	tcase_add_test(hosts, new_hosts_ports_skip_what_the_host_already_uses);
	tcase_add_test(hosts, fewer_new_hosts_than_failed_hosts_is_refused);
	tcase_add_test(hosts, spare_new_hosts_are_not_an_error);
	tcase_add_test(trim, unresolvable_targets_are_skipped);
	tcase_add_test(trim, keep_only_keeps_the_named_rows_in_order);
	tcase_add_test(trim, same_host_matches_hostname_or_address);
	suite_add_tcase(s, in_place);
	suite_add_tcase(s, refused);
	suite_add_tcase(s, moved);
	suite_add_tcase(s, hosts);
	suite_add_tcase(s, trim);
	return s;
}

UNIT_MAIN(plan_suite)
