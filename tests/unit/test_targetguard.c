/*
 * Unit tests of the guard every destructive step goes through (targetguard), of the postmaster
 * liveness it relies on (postmaster) and of the path helpers beneath them (fsutil).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/target.h"
#include "errbuf.h"
#include "fsutil.h"
#include "postmaster.h"
#include "targetguard.h"
#include "targetmark.h"
#include "unit.h"
#include "xalloc.h"

static char *root;

static void make_root(void)
{
	char tmpl[] = "/tmp/test_targetguard.XXXXXX";
	char *real;

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	real = realpath(tmpl, NULL);
	ck_assert_ptr_nonnull(real);
	root = real;
}

static void remove_root(void)
{
	struct errbuf err;

	ck_assert(remove_tree(root, &err) == 0);
	free(root);
	root = NULL;
}

static char *sub(const char *rel)
{
	return path_join(root, rel);
}

static void mkdirs(const char *rel)
{
	char *p = sub(rel);
	struct errbuf err;

	ck_assert_msg(mkdir_p(p, 0700, &err) == 0, "%s", err.msg);
	free(p);
}

static void write_pidfile(const char *rel, pid_t pid)
{
	char *dir = sub(rel), *file = path_join(dir, "postmaster.pid");
	char *text = xasprintf("%d\n%s\n", (int) pid, dir);
	struct errbuf err;

	ck_assert(write_file_durable(file, text, strlen(text), 0600, &err) == 0);
	free(text);
	free(file);
	free(dir);
}

/* A child that calls itself "postgres" and works in REL, as a postmaster does; killed by the caller. */
static pid_t fake_postgres(const char *rel, bool exit_at_once)
{
	char *dir = sub(rel);
	int ready[2];
	pid_t pid;
	char c;

	ck_assert(pipe(ready) == 0);
	pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0) {
		close(ready[0]);
		if (chdir(dir) != 0 || prctl(PR_SET_NAME, "postgres", 0, 0, 0) != 0)
			_exit(3);
		if (write(ready[1], "r", 1) != 1)
			_exit(4);
		if (exit_at_once)
			_exit(0); /* and stays a zombie until the parent reaps it */
		pause();
		_exit(0);
	}
	close(ready[1]);
	ck_assert(read(ready[0], &c, 1) == 1);
	close(ready[0]);
	if (exit_at_once) {
		char path[64], state = 0;
		FILE *f;

		/* wait until the kernel shows it as a zombie */
		for (int i = 0; i < 200 && state != 'Z'; i++) {
			snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
			f = fopen(path, "r");
			if (f && fscanf(f, "%*d (%*[^)]) %c", &state) != 1)
				state = 0;
			if (f)
				fclose(f);
			if (state != 'Z')
				usleep(10000);
		}
		ck_assert_int_eq(state, 'Z');
	}
	free(dir);
	return pid;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

START_TEST(path_relations_and_resolution)
{
	struct errbuf err;
	char *p, *q, *link;

	ck_assert_int_eq(path_relation("/a/b", "/a/b"), PATH_SAME);
	ck_assert_int_eq(path_relation("/a", "/a/b"), PATH_CONTAINS);
	ck_assert_int_eq(path_relation("/a/b/c", "/a/b"), PATH_INSIDE);
	ck_assert_int_eq(path_relation("/a/bc", "/a/b"), PATH_UNRELATED);
	ck_assert_int_eq(path_relation("/a/b", "/a/bc"), PATH_UNRELATED);
	ck_assert_int_eq(path_relation("/", "/x"), PATH_CONTAINS);
	ck_assert(path_is_normal_absolute("/a/b"));
	ck_assert(path_is_normal_absolute("/"));
	ck_assert(!path_is_normal_absolute("a/b"));
	ck_assert(!path_is_normal_absolute("/a/../b"));
	ck_assert(!path_is_normal_absolute("/a/./b"));
	ck_assert(!path_is_normal_absolute("/a//b"));
	ck_assert(!path_is_normal_absolute("/a/"));

	make_root();
	mkdirs("real/dir");
	link = sub("link");
	p = sub("real");
	ck_assert(symlink(p, link) == 0);
	free(p);
	/* through a link, and past the part that exists */
	p = path_resolve(link, &err);
	q = sub("real");
	ck_assert_str_eq(p, q);
	free(p);
	free(q);
	p = sub("link/dir/not/yet");
	q = path_resolve(p, &err);
	free(p);
	p = sub("real/dir/not/yet");
	ck_assert_str_eq(q, p);
	free(p);
	free(q);
	ck_assert_ptr_null(path_resolve("/a/../b", &err));
	free(link);
	remove_root();
}
END_TEST

START_TEST(path_text_rules)
{
	struct errbuf err;

	ck_assert_int_eq(guard_path_text("d", "/data/it's here", &err), 0);
	ck_assert_int_eq(guard_path_text("d", "/data/m$(id)", &err), -1);
	ck_assert_msg(strstr(err.msg, "'$'") != NULL, "%s", err.msg);
	ck_assert_int_eq(guard_path_text("d", "/data/`id`", &err), -1);
	ck_assert_int_eq(guard_path_text("d", "/data/a\"b", &err), -1);
	ck_assert_int_eq(guard_path_text("d", "/data/a\\b", &err), -1);
	ck_assert_int_eq(guard_path_text("d", "/data/a\nb", &err), -1);
	ck_assert_msg(strstr(err.msg, "control character (byte 0x0a") != NULL, "%s", err.msg);
	ck_assert_int_eq(guard_path_text("d", "data/rel", &err), -1);
	ck_assert_int_eq(guard_path_text("d", "/data/../etc", &err), -1);
}
END_TEST

START_TEST(protect_specs)
{
	struct target_guard g;
	struct errbuf err;
	char *spec = guard_format_spec(7, "sdw1", "10.0.0.1", 6001, "/data/a|b");

	guard_init(&g, NULL);
	ck_assert_str_eq(spec, "7|sdw1|10.0.0.1|6001|/data/a|b");
	ck_assert_int_eq(guard_protect_spec(&g, spec, &err), 0);
	ck_assert_int_eq(g.inst[0].dbid, 7);
	ck_assert_str_eq(g.inst[0].hostname, "sdw1");
	ck_assert_str_eq(g.inst[0].address, "10.0.0.1");
	ck_assert_int_eq(g.inst[0].port, 6001);
	ck_assert_str_eq(g.inst[0].datadir, "/data/a|b");
	ck_assert_int_eq(guard_protect_spec(&g, "x|h|a|1|/d", &err), -1);
	ck_assert_int_eq(guard_protect_spec(&g, "1|h|a|1", &err), -1);
	ck_assert_int_eq(guard_protect_spec(&g, "1|h|a|p|/d", &err), -1);
	ck_assert_int_eq(guard_protect_spec(&g, "1|h|a|1|rel", &err), -1);
	free(spec);
	guard_free(&g);
}
END_TEST

/* Every way a path can touch another instance of the catalog on this host. */
START_TEST(other_instances_are_refused)
{
	struct target_guard g;
	struct errbuf err;
	char *p0, *m1, *ts, *tslink, *link, *path;
	pid_t pid;

	make_root();
	mkdirs("p0/pg_tblspc");
	mkdirs("m1");
	mkdirs("ts/5");
	mkdirs("free");
	p0 = sub("p0");
	m1 = sub("m1");
	ts = sub("ts/5");
	tslink = sub("p0/pg_tblspc/16384");
	ck_assert(symlink(ts, tslink) == 0);
	link = sub("link-to-p0");
	ck_assert(symlink(p0, link) == 0);

	guard_init(&g, "127.0.0.1");
	guard_protect(&g, 2, "vm", "127.0.0.1", 7002, p0);
	guard_protect(&g, 1, "elsewhere.invalid", "192.0.2.1", 7000, m1); /* another host */

	ck_assert_int_eq(guard_check(&g, p0, &pid, &err), GUARD_REFUSED);
	ck_assert_msg(strstr(err.msg, "is the data directory of dbid 2 (127.0.0.1:7002") != NULL, "%s", err.msg);
	ck_assert_int_eq(guard_check(&g, link, &pid, &err), GUARD_REFUSED);
	ck_assert_msg(strstr(err.msg, "(resolved: ") != NULL && strstr(err.msg, "is the data directory of dbid 2"),
		      "%s", err.msg);
	ck_assert_int_eq(guard_check(&g, root, &pid, &err), GUARD_REFUSED);
	ck_assert_msg(strstr(err.msg, "contains the data directory of dbid 2") != NULL, "%s", err.msg);
	path = sub("p0/base/new");
	ck_assert_int_eq(guard_check(&g, path, &pid, &err), GUARD_REFUSED);
	ck_assert_msg(strstr(err.msg, "lies inside the data directory of dbid 2") != NULL, "%s", err.msg);
	free(path);
	ck_assert_int_eq(guard_check(&g, ts, &pid, &err), GUARD_REFUSED);
	ck_assert_msg(strstr(err.msg, "is the tablespace directory") != NULL && strstr(err.msg, "dbid 2"),
		      "%s", err.msg);
	path = sub("ts");
	ck_assert_int_eq(guard_check(&g, path, &pid, &err), GUARD_REFUSED);
	ck_assert_msg(strstr(err.msg, "contains the tablespace directory") != NULL, "%s", err.msg);
	free(path);
	/* an instance of another host does not own this host's path of the same name */
	ck_assert_int_eq(guard_check(&g, m1, &pid, &err), GUARD_OK);
	path = sub("free/target");
	ck_assert_int_eq(guard_check(&g, path, &pid, &err), GUARD_OK);
	free(path);
	path = sub("free/x$y");
	ck_assert_int_eq(guard_check(&g, path, &pid, &err), GUARD_REFUSED);
	free(path);

	guard_free(&g);
	free(p0);
	free(m1);
	free(ts);
	free(tslink);
	free(link);
	remove_root();
}
END_TEST

/* A pid file is believed only when its process is a live postgres working in the directory. */
START_TEST(live_postmasters_and_stale_pid_files)
{
	struct target_guard g;
	struct errbuf err;
	char *dir, *other, *parent;
	pid_t pid, server, zombie, elsewhere;

	make_root();
	mkdirs("d");
	mkdirs("other");
	dir = sub("d");
	other = sub("other");
	parent = xstrdup(root);
	guard_init(&g, NULL);

	ck_assert_int_eq(postmaster_state(dir, &pid), POSTMASTER_NONE);
	/* our own PID: alive, but no postgres */
	write_pidfile("d", getpid());
	ck_assert_int_eq(postmaster_state(dir, &pid), POSTMASTER_STALE);
	ck_assert_int_eq(pid, getpid());
	ck_assert_int_eq(guard_check(&g, dir, &pid, &err), GUARD_OK);
	/* a PID that does not exist */
	write_pidfile("d", 4194300);
	ck_assert_int_eq(postmaster_state(dir, &pid), POSTMASTER_STALE);
	/* a postmaster killed and not reaped yet: a zombie holds nothing */
	zombie = fake_postgres("d", true);
	write_pidfile("d", zombie);
	ck_assert_int_eq(postmaster_state(dir, &pid), POSTMASTER_STALE);
	ck_assert_int_eq(guard_check(&g, dir, &pid, &err), GUARD_OK);
	reap(zombie);
	/* a postgres working in another directory: a recycled PID, not this directory's */
	elsewhere = fake_postgres("other", false);
	write_pidfile("d", elsewhere);
	ck_assert_int_eq(postmaster_state(dir, &pid), POSTMASTER_STALE);
	/* ... but that one is live in its own directory, and the guard protects it */
	write_pidfile("other", elsewhere);
	ck_assert_int_eq(postmaster_state(other, &pid), POSTMASTER_RUNNING);
	ck_assert_int_eq(guard_check(&g, other, &pid, &err), GUARD_TARGET_RUNNING);
	ck_assert_int_eq(pid, elsewhere);
	ck_assert_int_eq(guard_check(&g, parent, &pid, &err), GUARD_REFUSED);
	ck_assert_msg(strstr(err.msg, "where a PostgreSQL server") != NULL, "%s", err.msg);
	reap(elsewhere);
	/* a real one in the target itself */
	server = fake_postgres("d", false);
	write_pidfile("d", server);
	ck_assert(postmaster_running(dir, &pid));
	ck_assert_int_eq(guard_check(&g, dir, &pid, &err), GUARD_TARGET_RUNNING);
	ck_assert_int_eq(pid, server);
	reap(server);
	ck_assert_int_eq(guard_check(&g, dir, &pid, &err), GUARD_OK);

	guard_free(&g);
	free(dir);
	free(other);
	free(parent);
	remove_root();
}
END_TEST

START_TEST(marker_round_trip)
{
	struct target_mark m;
	struct errbuf err;

	make_root();
	targetmark_read(root, &m);
	ck_assert_int_eq(m.state, TARGET_MARK_NONE);
	ck_assert_int_eq(targetmark_write(root, "full", TARGET_MARK_COPYING, &err), 0);
	targetmark_read(root, &m);
	ck_assert_int_eq(m.state, TARGET_MARK_COPYING);
	ck_assert_str_eq(m.strategy, "full");
	ck_assert_int_eq(targetmark_write(root, "incremental", TARGET_MARK_STARTING, &err), 0);
	targetmark_read(root, &m);
	ck_assert_int_eq(m.state, TARGET_MARK_STARTING);
	ck_assert_str_eq(m.strategy, "incremental");
	ck_assert_int_eq(targetmark_remove(root, &err), 0);
	ck_assert_int_eq(targetmark_remove(root, &err), 0);
	targetmark_read(root, &m);
	ck_assert_int_eq(m.state, TARGET_MARK_NONE);
	ck_assert(targetmark_is_own_file(TARGET_LOCK_FILE));
	ck_assert(targetmark_is_own_file(TARGET_MARK_FILE));
	ck_assert(!targetmark_is_own_file("standby.signal"));
	remove_root();
}
END_TEST

/* A server that never came up: the message names its log, and says when there is none to show. */
START_TEST(start_failure_without_a_log)
{
	struct target t = { .address = "127.0.0.1", .port = 1, .lock_fd = -1 };
	struct errbuf err;

	make_root();
	t.datadir = root;
	errbuf_clear(&err);
	ck_assert_int_eq(target_wait_streaming(&t, "127.0.0.1", 1, 30, &err), -1);
	ck_assert_msg(strstr(err.msg, "stopped while starting") != NULL, "%s", err.msg);
	ck_assert_msg(strstr(err.msg, "(null)") == NULL, "%s", err.msg);
	ck_assert_msg(strstr(err.msg, "log/startup.log: (empty or missing)") != NULL, "%s", err.msg);
	remove_root();
}
END_TEST

static Suite *targetguard_suite(void)
{
	Suite *s = suite_create("targetguard");
	TCase *tc = tcase_create("targetguard");

	tcase_add_test(tc, path_relations_and_resolution);
	tcase_add_test(tc, path_text_rules);
	tcase_add_test(tc, protect_specs);
	tcase_add_test(tc, other_instances_are_refused);
	tcase_add_test(tc, live_postmasters_and_stale_pid_files);
	tcase_add_test(tc, marker_round_trip);
	tcase_add_test(tc, start_failure_without_a_log);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(targetguard_suite)
