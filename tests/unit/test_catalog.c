/* Unit tests of the catalog's validation and lookups on configurations built in memory. */
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "unit.h"
#include "xalloc.h"

/* A healthy cluster: coordinator, N contents, primaries on 7002.., mirrors after them. */
static void make_cluster(struct catalog *cat, int ncontents)
{
	cat->nsegs = (size_t) (1 + 2 * ncontents);
	cat->segs = xcalloc(cat->nsegs, sizeof(struct segment));
	for (size_t i = 0; i < cat->nsegs; i++) {
		struct segment *s = &cat->segs[i];
		int k = (int) i - 1;

		s->hostname = xstrdup("sdw1");
		s->address = xstrdup("127.0.0.1");
		s->status = STATUS_UP;
		if (i == 0) {
			s->dbid = 1;
			s->content = -1;
			s->role = s->preferred_role = ROLE_PRIMARY;
			s->mode = MODE_NOT_SYNCED;
			s->port = 7000;
			s->datadir = xstrdup("/data/qddir/demoDataDir-1");
		} else if (k < ncontents) {
			s->dbid = 2 + k;
			s->content = k;
			s->role = s->preferred_role = ROLE_PRIMARY;
			s->mode = MODE_SYNCED;
			s->port = 7002 + k;
			s->datadir = xasprintf("/data/dbfast%d/demoDataDir%d", k + 1, k);
		} else {
			k -= ncontents;
			s->dbid = 2 + ncontents + k;
			s->content = k;
			s->role = s->preferred_role = ROLE_MIRROR;
			s->mode = MODE_SYNCED;
			s->port = 7002 + ncontents + k;
			s->datadir = xasprintf("/data/dbfast_mirror%d/demoDataDir%d", k + 1, k);
		}
	}
}

static struct segment *by_dbid(struct catalog *cat, int dbid)
{
	return (struct segment *) catalog_by_dbid(cat, dbid);
}

static void expect_invalid(struct catalog *cat, const char *needle)
{
	struct errbuf err;

	errbuf_clear(&err);
	ck_assert_int_eq(catalog_validate(cat, &err), -1);
	ck_assert_msg(strstr(err.msg, needle) != NULL, "expected \"%s\" in \"%s\"", needle, err.msg);
	catalog_free(cat);
}

START_TEST(healthy_cluster_is_valid_and_lookups_work)
{
	struct catalog cat;
	struct errbuf err;

	make_cluster(&cat, 3);
	ck_assert_msg(catalog_validate(&cat, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(catalog_ncontents(&cat), 3);
	ck_assert(catalog_has_mirrors(&cat));
	ck_assert_int_eq(catalog_acting(&cat, 1, ROLE_PRIMARY)->dbid, 3);
	ck_assert_int_eq(catalog_acting(&cat, 1, ROLE_MIRROR)->dbid, 6);
	ck_assert_int_eq(catalog_peer(&cat, catalog_by_dbid(&cat, 6))->dbid, 3);
	ck_assert_ptr_null(catalog_peer(&cat, catalog_by_dbid(&cat, 1)));
	ck_assert_ptr_null(catalog_by_dbid(&cat, 99));
	catalog_free(&cat);
}
END_TEST

START_TEST(failed_over_pair_is_valid)
{
	struct catalog cat;
	struct errbuf err;

	make_cluster(&cat, 3);
	/* content 0 after failover: old primary (dbid 2) is a down mirror, dbid 5 acts as primary */
	by_dbid(&cat, 2)->role = ROLE_MIRROR;
	by_dbid(&cat, 2)->status = STATUS_DOWN;
	by_dbid(&cat, 2)->mode = MODE_NOT_SYNCED;
	by_dbid(&cat, 5)->role = ROLE_PRIMARY;
	by_dbid(&cat, 5)->mode = MODE_NOT_SYNCED;
	ck_assert_msg(catalog_validate(&cat, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(catalog_acting(&cat, 0, ROLE_PRIMARY)->dbid, 5);
	catalog_free(&cat);
}
END_TEST

START_TEST(two_primaries_for_a_content_are_refused)
{
	struct catalog cat;

	make_cluster(&cat, 3);
	by_dbid(&cat, 6)->role = ROLE_PRIMARY;
	expect_invalid(&cat, "content 1 has 2 instances with role 'p'");
}
END_TEST

START_TEST(a_content_without_primary_is_refused)
{
	struct catalog cat;

	make_cluster(&cat, 2);
	by_dbid(&cat, 2)->role = ROLE_MIRROR;
	expect_invalid(&cat, "content 0 has 0 instances with role 'p'");
}
END_TEST

START_TEST(duplicate_dbid_port_and_datadir_are_refused)
{
	struct catalog cat;

	make_cluster(&cat, 2);
	by_dbid(&cat, 5)->dbid = 4;
	expect_invalid(&cat, "dbid 4 appears twice");

	make_cluster(&cat, 2);
	by_dbid(&cat, 5)->port = 7002;
	expect_invalid(&cat, "cannot have the same port 7002");

	make_cluster(&cat, 2);
	free(by_dbid(&cat, 5)->datadir);
	by_dbid(&cat, 5)->datadir = xstrdup("/data/dbfast1/demoDataDir0");
	expect_invalid(&cat, "cannot have the same data directory");
}
END_TEST

START_TEST(bad_letters_and_values_are_refused)
{
	struct catalog cat;

	make_cluster(&cat, 1);
	by_dbid(&cat, 2)->role = 'x';
	expect_invalid(&cat, "has role 'x'");
	make_cluster(&cat, 1);
	by_dbid(&cat, 3)->mode = 'c';
	expect_invalid(&cat, "has mode 'c'");
	make_cluster(&cat, 1);
	by_dbid(&cat, 3)->status = '?';
	expect_invalid(&cat, "has status '?'");
	make_cluster(&cat, 1);
	by_dbid(&cat, 3)->port = 70000;
	expect_invalid(&cat, "port 70000");
	make_cluster(&cat, 1);
	free(by_dbid(&cat, 3)->datadir);
	by_dbid(&cat, 3)->datadir = xstrdup("relative/dir");
	expect_invalid(&cat, "not an absolute path");
}
END_TEST

START_TEST(coordinator_must_exist_once)
{
	struct catalog cat;

	make_cluster(&cat, 1);
	by_dbid(&cat, 1)->role = ROLE_MIRROR;
	expect_invalid(&cat, "0 coordinator primaries");
}
END_TEST

START_TEST(invalid_pair_states_are_refused)
{
	struct catalog cat;

	make_cluster(&cat, 1);
	/* mirror down while the primary still claims to be in sync */
	by_dbid(&cat, 3)->status = STATUS_DOWN;
	expect_invalid(&cat, "are not a valid pair state");

	make_cluster(&cat, 1);
	by_dbid(&cat, 2)->status = STATUS_DOWN;
	by_dbid(&cat, 2)->mode = MODE_NOT_SYNCED;
	by_dbid(&cat, 3)->mode = MODE_NOT_SYNCED;
	expect_invalid(&cat, "double fault");

	make_cluster(&cat, 1);
	by_dbid(&cat, 3)->preferred_role = ROLE_PRIMARY;
	expect_invalid(&cat, "the same preferred_role");
}
END_TEST

START_TEST(empty_catalog_is_refused)
{
	struct catalog cat = { 0 };
	struct errbuf err;

	ck_assert_int_eq(catalog_validate(&cat, &err), -1);
	ck_assert_str_eq(err.msg, "gp_segment_configuration is empty");
}
END_TEST

static Suite *catalog_suite(void)
{
	Suite *s = suite_create("catalog");
	TCase *tc = tcase_create("validate");

	tcase_add_test(tc, healthy_cluster_is_valid_and_lookups_work);
	tcase_add_test(tc, failed_over_pair_is_valid);
	tcase_add_test(tc, two_primaries_for_a_content_are_refused);
	tcase_add_test(tc, a_content_without_primary_is_refused);
	tcase_add_test(tc, duplicate_dbid_port_and_datadir_are_refused);
	tcase_add_test(tc, bad_letters_and_values_are_refused);
	tcase_add_test(tc, coordinator_must_exist_once);
	tcase_add_test(tc, invalid_pair_states_are_refused);
	tcase_add_test(tc, empty_catalog_is_refused);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(catalog_suite)
