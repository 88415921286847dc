/* Unit tests of recoverseg_options: gprecoverseg's command line, values, conflicts, warnings. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "gprecoverseg/options.h"
#include "strbuf.h"
#include "unit.h"

#define MAX_ARGS 32

/* The argv of the last parse: options keep pointers into it. */
static char arg_store[MAX_ARGS][256];
static char *argv_store[MAX_ARGS + 1];
static struct strbuf warnings;
static struct errbuf err;

/* Parse "gprecoverseg ARGS..." (NULL-terminated); returns what recoverseg_parse_options does. */
static int parse(struct recoverseg_options *opts, ...)
{
	va_list ap;
	int argc = 0;
	const char *a;

	snprintf(arg_store[argc], sizeof(arg_store[argc]), "gprecoverseg");
	argv_store[argc] = arg_store[argc];
	argc++;
	va_start(ap, opts);
	while ((a = va_arg(ap, const char *)) != NULL) {
		ck_assert_int_lt(argc, MAX_ARGS);
		snprintf(arg_store[argc], sizeof(arg_store[argc]), "%s", a);
		argv_store[argc] = arg_store[argc];
		argc++;
	}
	va_end(ap);
	argv_store[argc] = NULL;
	strbuf_release(&warnings);
	strbuf_init(&warnings, 0);
	errbuf_clear(&err);
	return recoverseg_parse_options(argc, argv_store, opts, &warnings, &err);
}

#define PARSE_OK(opts, ...)                                                                   \
	ck_assert_msg(parse(opts, __VA_ARGS__, (const char *) NULL) == 0, "%s", err.msg)
#define PARSE_FAILS(expected, ...)                                                                 \
	do {                                                                                  \
		struct recoverseg_options o_;                                                 \
		ck_assert_msg(parse(&o_, __VA_ARGS__, (const char *) NULL) == -1,             \
			      "accepted, expected: %s", expected);                                 \
		ck_assert_str_eq(err.msg, expected);                                               \
	} while (0)

static void teardown(void)
{
	strbuf_release(&warnings);
}

START_TEST(defaults)
{
	struct recoverseg_options o;

	ck_assert_int_eq(parse(&o, (const char *) NULL), 0);
	ck_assert(!o.full && !o.differential && !o.yes && !o.rebalance);
	ck_assert_int_eq(o.parallel, 16);
	ck_assert_int_eq(o.per_host, 64);
	ck_assert_ptr_null(o.input_file);
	ck_assert_ptr_null(o.output_file);
	ck_assert_ptr_null(o.new_hosts);
	ck_assert(!o.sequential_progress && !o.no_progress);
	ck_assert_ptr_null(o.logdir);
	ck_assert_int_eq(o.verbosity, LOG_NORMAL);
	ck_assert_ptr_null(o.coordinator_datadir);
	ck_assert_int_eq(o.max_rate_kbps, 0);
	ck_assert(!o.hba_hostnames);
	ck_assert(o.replay_lag_gb == 10.0);
	ck_assert(!o.replay_lag_given && !o.disable_replay_lag);
	ck_assert(!o.fallback);
	ck_assert_ptr_null(o.strategy);
	ck_assert_str_eq(o.compression, "auto");
	ck_assert(!o.help && !o.version);
	ck_assert_uint_eq(warnings.len, 0);
}
END_TEST

START_TEST(every_option_is_parsed)
{
	struct recoverseg_options o;

	PARSE_OK(&o, "-F", "-a", "-B", "8", "-b", "4", "-i", "/tmp/conf", "-s", "--no-progress",
		 "-l", "/tmp/logs", "-v", "-d", "/data/coord", "--max-rate", "10M",
		 "--hba-hostnames");
	ck_assert(o.full && o.yes && o.sequential_progress && o.no_progress && o.hba_hostnames);
	ck_assert_int_eq(o.parallel, 8);
	ck_assert_int_eq(o.per_host, 4);
	ck_assert_str_eq(o.input_file, "/tmp/conf");
	ck_assert_str_eq(o.logdir, "/tmp/logs");
	ck_assert_int_eq(o.verbosity, LOG_VERBOSE);
	ck_assert_str_eq(o.coordinator_datadir, "/data/coord");
	ck_assert_int_eq(o.max_rate_kbps, 10240);
	ck_assert_uint_eq(warnings.len, 0);
	PARSE_OK(&o, "-F", "--compress", "zstd");
	ck_assert_str_eq(o.compression, "zstd");
	PARSE_OK(&o, "--compress=none");
	ck_assert_str_eq(o.compression, "none");

	PARSE_OK(&o, "--differential", "-q", "--coordinator_data_directory", "/c1", "-B1",
		 "-b128");
	ck_assert(o.differential && !o.full);
	ck_assert_int_eq(o.verbosity, LOG_QUIET);
	ck_assert_str_eq(o.coordinator_datadir, "/c1");
	ck_assert_int_eq(o.parallel, 1);
	ck_assert_int_eq(o.per_host, 128);

	PARSE_OK(&o, "--master_data_directory=/c2", "--verbose", "-B", "64", "-b", "1");
	ck_assert_str_eq(o.coordinator_datadir, "/c2");
	ck_assert_int_eq(o.verbosity, LOG_VERBOSE);
	ck_assert_int_eq(o.parallel, 64);
	ck_assert_int_eq(o.per_host, 1);

	PARSE_OK(&o, "--quiet", "-p", "sdw5,sdw6", "-a");
	ck_assert_int_eq(o.verbosity, LOG_QUIET);
	ck_assert_str_eq(o.new_hosts, "sdw5,sdw6");

	PARSE_OK(&o, "-o", "/tmp/out.conf", "-p", "sdw5");
	ck_assert_str_eq(o.output_file, "/tmp/out.conf");
	ck_assert_str_eq(o.new_hosts, "sdw5");

	PARSE_OK(&o, "-r", "--replay-lag", "2.5");
	ck_assert(o.rebalance && o.replay_lag_given && !o.disable_replay_lag);
	ck_assert(o.replay_lag_gb == 2.5);

	PARSE_OK(&o, "-r", "--disable-replay-lag");
	ck_assert(o.rebalance && o.disable_replay_lag && !o.replay_lag_given);
	ck_assert(o.replay_lag_gb == 10.0);

	PARSE_OK(&o, "--fallback", "-a", "-i", "f");
	ck_assert(o.fallback && o.yes);

	PARSE_OK(&o, "--strategy", "incremental", "--fallback");
	ck_assert_str_eq(o.strategy, "incremental");

	/* Unique abbreviations of long options work, as with optparse. */
	PARSE_OK(&o, "--diff", "--no-prog");
	ck_assert(o.differential && o.no_progress);

	PARSE_OK(&o, "--strategy=myplugin");
	ck_assert_str_eq(o.strategy, "myplugin");

	/* Bundled short options; -s with --no-progress is fine. */
	PARSE_OK(&o, "-aFs", "--no-progress");
	ck_assert(o.yes && o.full && o.sequential_progress && o.no_progress);
}
END_TEST

START_TEST(help_and_version)
{
	struct recoverseg_options o;

	PARSE_OK(&o, "-h");
	ck_assert(o.help);
	PARSE_OK(&o, "-?");
	ck_assert(o.help);
	PARSE_OK(&o, "--help");
	ck_assert(o.help);
	/* Help wins over what follows, as with optparse. */
	PARSE_OK(&o, "-a", "--help", "-F", "-r");
	ck_assert(o.help);
	PARSE_OK(&o, "--version");
	ck_assert(o.version && !o.help);
	PARSE_OK(&o, "-a");
	ck_assert(!o.help && !o.version);
}
END_TEST

START_TEST(conflicts)
{
	PARSE_FAILS("Only one of -F and --differential may be specified", "-F", "--differential");
	PARSE_FAILS("-F option is not supported with -r option", "-a", "-F", "-r");
	PARSE_FAILS("-F option is not supported with -p option", "-a", "-p", "localhost", "-F");
	PARSE_FAILS("Only one of -i, -p and -r may be specified", "-i", "f", "-p", "h");
	PARSE_FAILS("Only one of -i, -p and -r may be specified", "-i", "f", "-r");
	PARSE_FAILS("Only one of -i, -p and -r may be specified", "-p", "h", "-r");
	PARSE_FAILS("Only one of -i, -p and -r may be specified", "-i", "f", "-p", "h", "-r");
	PARSE_FAILS("Invalid -i provided with -o argument", "-i", "f", "-o", "g");
	PARSE_FAILS("Invalid -r provided with -o argument", "-r", "-o", "g");
	PARSE_FAILS("Invalid -o provided with --differential argument", "--differential", "-o",
		    "g");
	PARSE_FAILS("Only one of -p, -r and --differential may be specified", "--differential",
		    "-p", "h");
	PARSE_FAILS("Only one of -p, -r and --differential may be specified", "--differential",
		    "-r");
	PARSE_FAILS("--replay-lag should be used only with -r", "--replay-lag", "5");
	PARSE_FAILS("--disable-replay-lag should be used only with -r", "--disable-replay-lag");
	PARSE_FAILS("Only one of --replay-lag and --disable-replay-lag may be specified", "-r",
		    "--replay-lag", "5", "--disable-replay-lag");
	PARSE_FAILS("Only one of -v and -q may be specified", "-v", "-q");
	PARSE_FAILS("Only one of -v and -q may be specified", "--quiet", "--verbose");
	PARSE_FAILS("--strategy cannot be combined with -F or --differential", "--strategy",
		    "full", "-F");
	PARSE_FAILS("--strategy cannot be combined with -F or --differential", "--differential",
		    "--strategy", "incremental");
	PARSE_FAILS("--fallback cannot be combined with -F (--fallback means incremental "
		    "recovery first, differential recovery if that fails)",
		    "--fallback", "-F");
	PARSE_FAILS("--fallback cannot be combined with -r (--fallback means incremental "
		    "recovery first, differential recovery if that fails)",
		    "--fallback", "-r");
	PARSE_FAILS("--fallback cannot be combined with -o (--fallback means incremental "
		    "recovery first, differential recovery if that fails)",
		    "-o", "out", "--fallback");
	PARSE_FAILS("--fallback cannot be combined with --differential (--fallback means "
		    "incremental recovery first, differential recovery if that fails)",
		    "--differential", "--fallback");
}
END_TEST

START_TEST(allowed_combinations)
{
	struct recoverseg_options o;

	PARSE_OK(&o, "-i", "f", "--differential");
	PARSE_OK(&o, "-i", "f", "-F");
	PARSE_OK(&o, "-o", "f", "-p", "h");
	PARSE_OK(&o, "-o", "f", "-F");
	PARSE_OK(&o, "-s", "--no-progress", "-q");
	PARSE_OK(&o, "-p", "h", "--fallback");
	PARSE_OK(&o, "-r", "--replay-lag", "0.5", "-a");
	PARSE_OK(&o, "--hba-hostnames", "-p", "h");
}
END_TEST

START_TEST(bad_values)
{
	PARSE_FAILS("Invalid parallelDegree value provided with -B argument: 0", "-B", "0");
	PARSE_FAILS("Invalid parallelDegree value provided with -B argument: 65", "-B", "65");
	PARSE_FAILS("Invalid parallelDegree value provided with -B argument: -3", "-B", "-3");
	PARSE_FAILS("option -B: invalid integer value: 'abc'", "-B", "abc");
	PARSE_FAILS("option -B: invalid integer value: '4x'", "-B", "4x");
	PARSE_FAILS("option -B: invalid integer value: '99999999999'", "-B", "99999999999");
	PARSE_FAILS("Invalid parallelPerHost value provided with -b argument: 0", "-b", "0");
	PARSE_FAILS("Invalid parallelPerHost value provided with -b argument: 129", "-b", "129");
	PARSE_FAILS("option -b: invalid integer value: ''", "-b", "");
	PARSE_FAILS("option --replay-lag: invalid floating-point value: 'abc'", "-r",
		    "--replay-lag", "abc");
	PARSE_FAILS("option --replay-lag: '0' is out of range: the allowed replay lag must be "
		    "greater than 0 GB",
		    "-r", "--replay-lag", "0");
	PARSE_FAILS("option --replay-lag: '-1.5' is out of range: the allowed replay lag must be "
		    "greater than 0 GB",
		    "-r", "--replay-lag", "-1.5");
	PARSE_FAILS("option --replay-lag: invalid floating-point value: 'nan'", "-r",
		    "--replay-lag", "nan");
	PARSE_FAILS("Invalid value for recover hosts: 'sdw1,,sdw2' has an empty host name", "-p",
		    "sdw1,,sdw2");
	PARSE_FAILS("Invalid value for recover hosts: 'sdw1,' has an empty host name", "-p",
		    "sdw1,");
	PARSE_FAILS("Invalid value for recover hosts: 'sdw1, sdw2' contains white space; give "
		    "the hosts as h1,h2 without spaces",
		    "-p", "sdw1, sdw2");
	PARSE_FAILS("Invalid value for recover hosts: -p needs at least one host name", "-p", "");
	PARSE_FAILS("option -i: the value must not be empty", "-i", "");
	PARSE_FAILS("option --strategy: the value must not be empty", "--strategy", "");
	PARSE_FAILS("option --max-rate: transfer rate 31 is out of range: --max-rate must be "
		    "between 32k (32 kB/s) and 1024M (1048576 kB/s)",
		    "--max-rate", "31");
	PARSE_FAILS("-B option requires an argument", "-B");
	PARSE_FAILS("--max-rate option requires an argument", "--max-rate");
	PARSE_FAILS("option --compress: invalid choice: 'gzip' (choose from 'auto', 'none', 'lz4', "
		    "'zstd')",
		    "--compress", "gzip");
	PARSE_FAILS("--compress option requires an argument", "--compress");
	PARSE_FAILS("--coordinator_data_directory option requires an argument",
		    "--coordinator_data_directory");
	PARSE_FAILS("no such option: -x", "-x");
	PARSE_FAILS("no such option: -x", "-ax");
	PARSE_FAILS("no such option: --foo", "--foo=bar");
	PARSE_FAILS("ambiguous option: --di", "--di");
	PARSE_FAILS("--differential option does not take a value", "--differential=yes");
	PARSE_FAILS("--verbose option does not take a value", "--verbose=1");
}
END_TEST

START_TEST(rates)
{
	long kbps = -1;

	errbuf_clear(&err);
	ck_assert_msg(recoverseg_parse_rate("100", &kbps, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(kbps, 100);
	ck_assert_msg(recoverseg_parse_rate("100k", &kbps, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(kbps, 100);
	ck_assert_msg(recoverseg_parse_rate("1.5M", &kbps, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(kbps, 1536);
	ck_assert_msg(recoverseg_parse_rate("32", &kbps, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(kbps, 32);
	ck_assert_msg(recoverseg_parse_rate("1024M", &kbps, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(kbps, 1048576);
	ck_assert_msg(recoverseg_parse_rate("1048576k", &kbps, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(kbps, 1048576);
	ck_assert_msg(recoverseg_parse_rate("64.4", &kbps, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(kbps, 64);

	kbps = -1;
	ck_assert_int_eq(recoverseg_parse_rate("31", &kbps, &err), -1);
	ck_assert_str_eq(err.msg, "transfer rate 31 is out of range: --max-rate must be between "
				  "32k (32 kB/s) and 1024M (1048576 kB/s)");
	ck_assert_int_eq(recoverseg_parse_rate("2000M", &kbps, &err), -1);
	ck_assert_str_eq(err.msg, "transfer rate 2000M is out of range: --max-rate must be "
				  "between 32k (32 kB/s) and 1024M (1048576 kB/s)");
	ck_assert_int_eq(recoverseg_parse_rate("1048577", &kbps, &err), -1);
	ck_assert_int_eq(recoverseg_parse_rate("0", &kbps, &err), -1);
	ck_assert_int_eq(recoverseg_parse_rate("x", &kbps, &err), -1);
	ck_assert_str_eq(err.msg, "transfer rate x is not a valid value: --max-rate takes a "
				  "number with an optional k (kB/s, the default) or M (MB/s) "
				  "suffix, e.g. 500k or 1.5M");
	ck_assert_int_eq(recoverseg_parse_rate("", &kbps, &err), -1);
	ck_assert_int_eq(recoverseg_parse_rate("k", &kbps, &err), -1);
	ck_assert_int_eq(recoverseg_parse_rate(".", &kbps, &err), -1);
	ck_assert_int_eq(recoverseg_parse_rate("1.2.3", &kbps, &err), -1);
	ck_assert_int_eq(recoverseg_parse_rate("100kB", &kbps, &err), -1);
	ck_assert_int_eq(recoverseg_parse_rate("-100", &kbps, &err), -1);
	ck_assert_int_eq(recoverseg_parse_rate("100 k", &kbps, &err), -1);
	ck_assert_int_eq(recoverseg_parse_rate("100G", &kbps, &err), -1);
	ck_assert_str_eq(err.msg, "Invalid --max-rate unit: G (use k for kB/s or M for MB/s)");
	ck_assert_int_eq(recoverseg_parse_rate("1m", &kbps, &err), -1);
	ck_assert_int_eq(kbps, -1);
}
END_TEST

START_TEST(positional_arguments)
{
	PARSE_FAILS("too many arguments: only options may be specified", "xyz");
	PARSE_FAILS("too many arguments: only options may be specified", "-a", "xyz");
	PARSE_FAILS("too many arguments: only options may be specified", "-a", "xyz", "-F");
	PARSE_FAILS("too many arguments: only options may be specified", "--", "xyz");
}
END_TEST

START_TEST(max_rate_warnings)
{
	struct recoverseg_options o;

	PARSE_OK(&o, "-o", "/tmp/out.conf", "--max-rate", "100M");
	ck_assert_str_eq(warnings.buf, "--max-rate is ignored with -o\n");
	ck_assert_int_eq(o.max_rate_kbps, 0);

	PARSE_OK(&o, "-r", "--max-rate", "500k");
	ck_assert_str_eq(warnings.buf, "--max-rate is ignored with -r\n");
	ck_assert_int_eq(o.max_rate_kbps, 0);

	PARSE_OK(&o, "-F", "--max-rate", "500k");
	ck_assert_uint_eq(warnings.len, 0);
	ck_assert_int_eq(o.max_rate_kbps, 500);

	/* A bad rate is an error even where the rate would be ignored. */
	PARSE_FAILS("option --max-rate: transfer rate 2000M is out of range: --max-rate must be "
		    "between 32k (32 kB/s) and 1024M (1048576 kB/s)",
		    "-o", "f", "--max-rate", "2000M");
}
END_TEST

START_TEST(parsing_twice_starts_afresh)
{
	struct recoverseg_options o;

	PARSE_OK(&o, "-F", "-B", "3", "-i", "f");
	ck_assert(o.full);
	PARSE_OK(&o, "-a");
	ck_assert(!o.full && o.yes);
	ck_assert_int_eq(o.parallel, 16);
	ck_assert_ptr_null(o.input_file);
	/* An error in the middle of a bundle must not leave getopt half-way through it. */
	PARSE_FAILS("no such option: -x", "-axF");
	PARSE_OK(&o, "-s");
	ck_assert(o.sequential_progress && !o.yes && !o.full);
}
END_TEST

static Suite *recoverseg_options_suite(void)
{
	Suite *s = suite_create("recoverseg_options");
	TCase *tc = tcase_create("recoverseg_options");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, every_option_is_parsed);
	tcase_add_test(tc, help_and_version);
	tcase_add_test(tc, conflicts);
	tcase_add_test(tc, allowed_combinations);
	tcase_add_test(tc, bad_values);
	tcase_add_test(tc, rates);
	tcase_add_test(tc, positional_arguments);
	tcase_add_test(tc, max_rate_warnings);
	tcase_add_test(tc, parsing_twice_starts_afresh);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(recoverseg_options_suite)
