/* Unit tests of json: strings escaped as JSON requires (quotes, backslashes, control bytes), keys. */
#include <string.h>

#include "json.h"
#include "strbuf.h"
#include "unit.h"

static void expect(const char *in, const char *want)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_init(&sb, 0);
	json_add_string(&sb, in);
	ck_assert_str_eq(sb.buf, want);
	strbuf_release(&sb);
}

START_TEST(strings)
{
	expect("/data/primary/gpseg0", "\"/data/primary/gpseg0\"");
	expect("", "\"\"");
	expect(NULL, "null");
	expect("a\"b", "\"a\\\"b\"");
	expect("a\\b", "\"a\\\\b\"");
	expect("line\nnext\ttab\r", "\"line\\nnext\\ttab\\r\"");
	expect("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
	expect("caf\xc3\xa9", "\"caf\xc3\xa9\""); /* UTF-8 passes as it is */
}
END_TEST

START_TEST(keys)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_init(&sb, 0);
	json_add_key(&sb, "dbid");
	strbuf_addstr(&sb, "2");
	ck_assert_str_eq(sb.buf, "\"dbid\":2");
	strbuf_release(&sb);
}
END_TEST

static Suite *json_suite(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, strings);
	tcase_add_test(tc, keys);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(json_suite)
