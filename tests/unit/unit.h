/*
 * unit.h: the shape of one unit-test program. Each tests/unit/test_<module>.c builds into its
 * own executable, defines its suite and ends with UNIT_MAIN(suite_function); tests/run adds up
 * the "unit <name>: N passed, N failed" lines.
 */
#ifndef SEGRECOVER_UNIT_H
#define SEGRECOVER_UNIT_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

/*
 * Fixtures made with a real server (pg_control, WAL) live in $SEGRECOVER_FIXTURES; tests/run
 * creates them before the unit tests. A test whose fixture is missing fails: it never skips.
 */
static inline const char *unit_fixture_dir(void)
{
	const char *dir = getenv("SEGRECOVER_FIXTURES");

	ck_assert_msg(dir != NULL && dir[0] != '\0',
		      "SEGRECOVER_FIXTURES is not set: run the unit tests through tests/run");
	return dir;
}

#define UNIT_MAIN(suite_fn)                                                                 \
	int main(void)                                                                      \
	{                                                                                   \
		SRunner *sr = srunner_create(suite_fn());                                   \
		int run, failed;                                                            \
		srunner_run_all(sr, CK_NORMAL);                                             \
		run = srunner_ntests_run(sr);                                               \
		failed = srunner_ntests_failed(sr);                                         \
		srunner_free(sr);                                                           \
		printf("unit %s: %d passed, %d failed\n", #suite_fn, run - failed, failed); \
		return failed == 0 && run > 0 ? 0 : 1;                                      \
	}

#endif
