/* Unit tests of the small common modules: quoting, log format, config rendering, files, lock, exec. */
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "errbuf.h"
#include "exec.h"
#include "fsutil.h"
#include "log.h"
#include "pidlock.h"
#include "postmaster.h"
#include "standbyconf.h"
#include "strbuf.h"
#include "unit.h"
#include "xalloc.h"

static char *make_tmpdir(void)
{
	char tmpl[] = "/tmp/test_common.XXXXXX";

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	return xstrdup(tmpl);
}

/* Run the quoted string through a real shell and get back the words it sees, one per line. */
static char *shell_round_trip(const char *const *argv)
{
	struct strbuf quoted = STRBUF_INIT, out = STRBUF_INIT;
	struct exec_options opts = { 0 };
	const char *sh[] = { "/bin/sh", "-c", NULL, NULL };
	struct errbuf err;
	int status;
	char *script;

	strbuf_init(&quoted, 0);
	strbuf_init(&out, 0);
	shell_quote_argv(&quoted, argv);
	script = xasprintf("for w in %s; do printf '[%%s]' \"$w\"; done", quoted.buf);
	sh[2] = script;
	ck_assert_msg(exec_run(&opts, sh, &out, NULL, &status, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(status, 0);
	free(script);
	strbuf_release(&quoted);
	return strbuf_detach(&out, NULL);
}

START_TEST(shell_quoting_survives_a_real_shell)
{
	const char *nasty[] = { "plain", "two words", "it's", "$(touch /tmp/pwned)", "`id`",
				"a\"b", "back\\slash", "", "new\nline", "*", "semi;colon", "--opt=x y",
				NULL };
	char *seen = shell_round_trip(nasty);

	ck_assert_str_eq(seen, "[plain][two words][it's][$(touch /tmp/pwned)][`id`][a\"b]"
			       "[back\\slash][][new\nline][*][semi;colon][--opt=x y]");
	free(seen);
	ck_assert(access("/tmp/pwned", F_OK) != 0);
}
END_TEST

START_TEST(ssh_wrapping_quotes_the_remote_command_once)
{
	const char *argv[] = { "gpsegrecovery", "--target-datadir", "/data/my dir", NULL };
	struct exec_options remote = { .host = "no-such-host.invalid" };
	struct exec_options local = { .host = "localhost" };
	char **full = exec_build_argv(&remote, argv);
	char **direct = exec_build_argv(&local, argv);

	ck_assert_str_eq(full[0], "ssh");
	ck_assert_str_eq(full[7], "no-such-host.invalid");
	ck_assert_str_eq(full[8], "gpsegrecovery --target-datadir '/data/my dir'");
	ck_assert_ptr_null(full[9]);
	ck_assert_str_eq(direct[0], "gpsegrecovery");
	ck_assert_str_eq(direct[2], "/data/my dir");
	exec_free_argv(full);
	exec_free_argv(direct);
	ck_assert(host_is_local("localhost"));
	ck_assert(host_is_local("127.0.0.1"));
	ck_assert(!host_is_local("no-such-host.invalid"));
}
END_TEST

START_TEST(exec_reports_exit_codes_output_and_missing_programs)
{
	const char *fails[] = { "/bin/sh", "-c", "echo out; echo err >&2; exit 3", NULL };
	const char *missing[] = { "/nonexistent/program", NULL };
	struct exec_options opts = { 0 };
	struct strbuf out = STRBUF_INIT, errout = STRBUF_INIT;
	struct errbuf err;
	int status = -1;

	strbuf_init(&out, 0);
	strbuf_init(&errout, 0);
	ck_assert(exec_run(&opts, fails, &out, &errout, &status, &err) == 0);
	ck_assert_int_eq(status, 3);
	ck_assert_str_eq(out.buf, "out\n");
	ck_assert_str_eq(errout.buf, "err\n");
	ck_assert_int_eq(exec_run(&opts, missing, &out, &errout, &status, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/program"));
	strbuf_release(&out);
	strbuf_release(&errout);
}
END_TEST

START_TEST(log_lines_have_the_gplog_shape)
{
	char line[512];
	struct tm tm = { .tm_year = 125, .tm_mon = 9, .tm_mday = 17, .tm_hour = 10, .tm_min = 58,
			 .tm_sec = 20, .tm_isdst = -1 };
	time_t when = mktime(&tm);

	log_format_line(line, sizeof(line), when, 792595, "gprecoverseg", "cbdb01", "gpadmin",
			LOG_INFO, "1 segment(s) to recover");
	ck_assert_str_eq(line, "20251017:10:58:20:792595 gprecoverseg:cbdb01:gpadmin-[INFO]:-1 "
			       "segment(s) to recover");
	log_format_line(line, sizeof(line), when, 42, "gpfts", "h", "u", LOG_WARNING, "x");
	ck_assert_str_eq(line, "20251017:10:58:20:000042 gpfts:h:u-[WARNING]:-x");
	log_format_line(line, sizeof(line), when, 42, "gpfts", "h", "u", LOG_CRITICAL, "x");
	ck_assert_ptr_nonnull(strstr(line, "-[CRITICAL]:-x"));
}
END_TEST

START_TEST(log_writes_the_dated_file)
{
	char *dir = make_tmpdir();
	struct errbuf err;
	char *text = NULL;
	size_t len;
	const char *path;

	ck_assert_msg(log_init("unittest", dir, LOG_QUIET, &err) == 0, "%s", err.msg);
	log_info("hello %d", 42);
	log_debug("not in the file without -v");
	path = log_file_path();
	ck_assert_ptr_nonnull(strstr(path, "/unittest_"));
	ck_assert(read_small_file(path, &text, &len, &err) == 0);
	ck_assert_ptr_nonnull(strstr(text, "unittest:"));
	ck_assert_ptr_nonnull(strstr(text, "-[INFO]:-hello 42\n"));
	ck_assert_ptr_null(strstr(text, "not in the file"));
	log_close();
	free(text);
	ck_assert(remove_tree(dir, &err) == 0);
	free(dir);
}
END_TEST

START_TEST(errbuf_composes_messages)
{
	struct errbuf err;

	errbuf_set(&err, "cannot read %s", "x");
	errbuf_prefix(&err, "dbid %d", 3);
	errbuf_append(&err, "Run %s.", "gprecoverseg -F");
	ck_assert_str_eq(err.msg, "dbid 3: cannot read x Run gprecoverseg -F.");
	errbuf_set_errno(&err, ENOENT, "open %s", "f");
	ck_assert_str_eq(err.msg, "open f: No such file or directory");
}
END_TEST

START_TEST(strbuf_grows_and_detaches)
{
	struct strbuf sb = STRBUF_INIT;
	char *s;

	strbuf_init(&sb, 0);
	for (int i = 0; i < 1000; i++)
		strbuf_addf(&sb, "%d,", i);
	ck_assert_uint_eq(sb.len, strlen(sb.buf));
	ck_assert(strncmp(sb.buf, "0,1,2,", 6) == 0);
	strbuf_addstr(&sb, "  \n");
	strbuf_rtrim(&sb);
	ck_assert_int_eq(sb.buf[sb.len - 1], ',');
	s = strbuf_detach(&sb, NULL);
	ck_assert_uint_eq(sb.len, 0);
	free(s);
	strbuf_release(&sb);
}
END_TEST

START_TEST(conninfo_values_are_quoted_for_libpq)
{
	struct strbuf ci = STRBUF_INIT;
	PQconninfoOption *opts, *o;
	char *errmsg = NULL;
	int seen = 0;

	strbuf_init(&ci, 0);
	conninfo_append(&ci, "host", "db host");
	conninfo_append(&ci, "port", "7002");
	conninfo_append(&ci, "application_name", "it's\\x");
	opts = PQconninfoParse(ci.buf, &errmsg);
	ck_assert_msg(opts != NULL, "libpq rejected %s: %s", ci.buf, errmsg ? errmsg : "");
	for (o = opts; o->keyword; o++) {
		if (strcmp(o->keyword, "host") == 0 && ++seen)
			ck_assert_str_eq(o->val, "db host");
		if (strcmp(o->keyword, "port") == 0 && ++seen)
			ck_assert_str_eq(o->val, "7002");
		if (strcmp(o->keyword, "application_name") == 0 && ++seen)
			ck_assert_str_eq(o->val, "it's\\x");
	}
	ck_assert_int_eq(seen, 3);
	PQconninfoFree(opts);
	strbuf_release(&ci);
}
END_TEST

START_TEST(standby_settings_replace_the_sources_own)
{
	struct standby_settings s = { .primary_host = "127.0.0.1", .primary_port = 7005,
				      .user = "gpadmin", .application_name = "gp_walreceiver",
				      .slot_name = "internal_wal_replication_slot" };
	struct strbuf out = STRBUF_INIT;
	const char *old = "# Do not edit this file manually!\n"
			  "synchronous_standby_names = 'gp_walreceiver'\n"
			  "primary_conninfo = 'host=elsewhere port=1'\n"
			  "  PRIMARY_SLOT_NAME='old'\n"
			  "primary_conninfo_extra = 'kept'\n";

	strbuf_init(&out, 0);
	standby_render_auto_conf(&out, old, &s);
	ck_assert_str_eq(out.buf,
			 "# Do not edit this file manually!\n"
			 "synchronous_standby_names = 'gp_walreceiver'\n"
			 "primary_conninfo_extra = 'kept'\n"
			 "primary_conninfo = 'host=127.0.0.1 port=7005 user=gpadmin "
			 "application_name=gp_walreceiver'\n"
			 "primary_slot_name = 'internal_wal_replication_slot'\n");
	strbuf_reset(&out);
	s.primary_host = "it's";
	standby_render_auto_conf(&out, "", &s);
	/* conninfo quoting inside a configuration-file string: ' doubled. */
	ck_assert_ptr_nonnull(strstr(out.buf, "primary_conninfo = 'host=''it\\''s'' port=7005"));
	strbuf_release(&out);
}
END_TEST

START_TEST(port_setting_is_replaced_or_added)
{
	struct strbuf out = STRBUF_INIT;

	strbuf_init(&out, 0);
	conf_render_port(&out, "#port = 5432\nport = 7002\nportal = 1\nport=7003 # x\n", 7005);
	ck_assert_str_eq(out.buf, "#port = 5432\nport = 7005\nportal = 1\nport = 7005\n");
	strbuf_reset(&out);
	conf_render_port(&out, "shared_buffers = 1MB\n", 7006);
	ck_assert_str_eq(out.buf, "shared_buffers = 1MB\nport = 7006\n");
	strbuf_release(&out);
}
END_TEST

START_TEST(relative_paths_are_checked_for_escapes)
{
	ck_assert(path_is_safe_relative("base/1/1234"));
	ck_assert(path_is_safe_relative("pg_wal/archive_status"));
	ck_assert(path_is_safe_relative("a..b/c"));
	ck_assert(!path_is_safe_relative("../etc/passwd"));
	ck_assert(!path_is_safe_relative("base/../../x"));
	ck_assert(!path_is_safe_relative("base/.."));
	ck_assert(!path_is_safe_relative("/etc/passwd"));
	ck_assert(!path_is_safe_relative(""));
}
END_TEST

START_TEST(tree_removal_never_follows_links)
{
	char *dir = make_tmpdir(), *outside = make_tmpdir();
	char *victim = path_join(outside, "keep-me");
	char *sub = path_join(dir, "sub"), *link = path_join(dir, "sub/link");
	char *file = path_join(dir, "sub/file"), *kept = path_join(dir, "kept");
	const char *keep[] = { "kept", NULL };
	struct errbuf err;

	ck_assert(write_file_durable(victim, "x", 1, 0600, &err) == 0);
	ck_assert(mkdir(sub, 0700) == 0);
	ck_assert(symlink(outside, link) == 0);
	ck_assert(write_file_durable(file, "y", 1, 0600, &err) == 0);
	ck_assert(write_file_durable(kept, "z", 1, 0600, &err) == 0);
	ck_assert_msg(empty_directory(dir, keep, &err) == 0, "%s", err.msg);
	ck_assert(!path_exists(sub));
	ck_assert(path_exists(kept));
	ck_assert(path_exists(victim));
	ck_assert(remove_tree(dir, &err) == 0);
	ck_assert(!path_exists(dir));
	ck_assert(remove_tree(outside, &err) == 0);
	free(dir);
	free(outside);
	free(victim);
	free(sub);
	free(link);
	free(file);
	free(kept);
}
END_TEST

START_TEST(durable_write_and_datadir_checks)
{
	char *dir = make_tmpdir();
	char *f = path_join(dir, "PG_VERSION"), *g = path_join(dir, "global");
	char *data = NULL;
	size_t len;
	struct stat st;
	struct errbuf err;
	pid_t pid = 0;

	ck_assert(dir_is_empty(dir));
	ck_assert(!is_pg_datadir(dir));
	ck_assert(write_file_durable(f, "15\n", 3, 0600, &err) == 0);
	ck_assert(mkdir(g, 0700) == 0);
	ck_assert(is_pg_datadir(dir));
	ck_assert(!dir_is_empty(dir));
	ck_assert(stat(f, &st) == 0 && (st.st_mode & 0777) == 0600);
	ck_assert(read_small_file(f, &data, &len, &err) == 0 && len == 3);
	ck_assert(!postmaster_running(dir, &pid));
	free(data);
	/* A postmaster.pid naming a live process that is not postgres does not count. */
	{
		char *pidfile = path_join(dir, "postmaster.pid");
		char *text = xasprintf("%d\n%s\n", (int) getpid(), dir);

		ck_assert(write_file_durable(pidfile, text, strlen(text), 0600, &err) == 0);
		ck_assert(!postmaster_running(dir, &pid));
		free(pidfile);
		free(text);
	}
	ck_assert(mkdir_p("/tmp/test_common_mkdirp/a/b/c", 0700, &err) == 0);
	ck_assert(path_exists("/tmp/test_common_mkdirp/a/b/c"));
	ck_assert(remove_tree("/tmp/test_common_mkdirp", &err) == 0);
	ck_assert(remove_tree(dir, &err) == 0);
	free(f);
	free(g);
	free(dir);
}
END_TEST

/*
 * The agent reads the server's own word on line 8 of postmaster.pid: "starting" until a hot
 * standby is consistent, "ready" then, "standby" for one with hot_standby off (which never
 * accepts connections), as PostgreSQL 15 writes them (padded to 8 characters).
 */
START_TEST(postmaster_status_is_read_from_line_8)
{
	static const char head[] = "4242\n/data/seg\n1764680000\n7003\n/tmp\n127.0.0.1\n"
				   "  5432001     65538\n";
	char *dir = make_tmpdir();
	char *pidfile = path_join(dir, "postmaster.pid");
	char text[256];
	struct errbuf err;

	ck_assert_int_eq(postmaster_status_of(""), POSTMASTER_STATUS_UNKNOWN);
	ck_assert_int_eq(postmaster_status_of(head), POSTMASTER_STATUS_UNKNOWN);
	snprintf(text, sizeof(text), "%sstarting\n", head);
	ck_assert_int_eq(postmaster_status_of(text), POSTMASTER_STATUS_STARTING);
	snprintf(text, sizeof(text), "%sready   \n", head);
	ck_assert_int_eq(postmaster_status_of(text), POSTMASTER_STATUS_READY);
	snprintf(text, sizeof(text), "%sstandby \n", head);
	ck_assert_int_eq(postmaster_status_of(text), POSTMASTER_STATUS_STANDBY);
	snprintf(text, sizeof(text), "%sstopping\n", head);
	ck_assert_int_eq(postmaster_status_of(text), POSTMASTER_STATUS_STOPPING);
	/* a word that only begins like one, or a status on another line, is not taken */
	snprintf(text, sizeof(text), "%sreadyish\n", head);
	ck_assert_int_eq(postmaster_status_of(text), POSTMASTER_STATUS_UNKNOWN);
	ck_assert_int_eq(postmaster_status_of("ready\n"), POSTMASTER_STATUS_UNKNOWN);
	/* from the file: none, then one the server wrote */
	ck_assert_int_eq(postmaster_status(dir), POSTMASTER_STATUS_UNKNOWN);
	snprintf(text, sizeof(text), "%sready   \n", head);
	ck_assert(write_file_durable(pidfile, text, strlen(text), 0600, &err) == 0);
	ck_assert_int_eq(postmaster_status(dir), POSTMASTER_STATUS_READY);
	ck_assert(remove_tree(dir, &err) == 0);
	free(pidfile);
	free(dir);
}
END_TEST

START_TEST(pidlock_is_exclusive_and_clears_stale_locks)
{
	char *dir = make_tmpdir();
	char *lockdir = path_join(dir, "gprecoverseg.lock");
	char *pidfile = path_join(lockdir, "PID");
	struct pidlock a, b;
	struct errbuf err;
	pid_t child;
	int status;
	char text[32];

	ck_assert_msg(pidlock_acquire(&a, lockdir, "gprecoverseg", &err) == 0, "%s", err.msg);
	ck_assert_int_eq(pidlock_holder(lockdir), getpid());
	/* A second instance (another process) is refused and told who holds the lock. */
	child = fork();
	if (child == 0) {
		struct pidlock c;
		struct errbuf e;

		_exit(pidlock_acquire(&c, lockdir, "gprecoverseg", &e) == -1 &&
				      strstr(e.msg, "already running with PID") != NULL
			      ? 0
			      : 1);
	}
	ck_assert(waitpid(child, &status, 0) == child);
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	pidlock_release(&a);
	ck_assert(!path_exists(lockdir));

	/* A lock left by a dead process is taken over. */
	child = fork();
	if (child == 0)
		_exit(0);
	waitpid(child, &status, 0);
	ck_assert(mkdir(lockdir, 0700) == 0);
	snprintf(text, sizeof(text), "%d\n", (int) child);
	ck_assert(write_file_durable(pidfile, text, strlen(text), 0600, &err) == 0);
	ck_assert_int_eq(pidlock_holder(lockdir), 0);
	ck_assert_msg(pidlock_acquire(&b, lockdir, "gprecoverseg", &err) == 0, "%s", err.msg);
	ck_assert_int_eq(pidlock_holder(lockdir), getpid());
	pidlock_release(&b);
	ck_assert(remove_tree(dir, &err) == 0);
	free(pidfile);
	free(lockdir);
	free(dir);
}
END_TEST

static Suite *common_suite(void)
{
	Suite *s = suite_create("common");
	TCase *tc = tcase_create("common");

	tcase_add_test(tc, shell_quoting_survives_a_real_shell);
	tcase_add_test(tc, ssh_wrapping_quotes_the_remote_command_once);
	tcase_add_test(tc, exec_reports_exit_codes_output_and_missing_programs);
	tcase_add_test(tc, log_lines_have_the_gplog_shape);
	tcase_add_test(tc, log_writes_the_dated_file);
	tcase_add_test(tc, errbuf_composes_messages);
	tcase_add_test(tc, strbuf_grows_and_detaches);
	tcase_add_test(tc, conninfo_values_are_quoted_for_libpq);
	tcase_add_test(tc, standby_settings_replace_the_sources_own);
	tcase_add_test(tc, port_setting_is_replaced_or_added);
	tcase_add_test(tc, relative_paths_are_checked_for_escapes);
	tcase_add_test(tc, tree_removal_never_follows_links);
	tcase_add_test(tc, durable_write_and_datadir_checks);
	tcase_add_test(tc, postmaster_status_is_read_from_line_8);
	tcase_add_test(tc, pidlock_is_exclusive_and_clears_stale_locks);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(common_suite)
