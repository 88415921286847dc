/*
 * The full strategy against a real PostgreSQL 15 primary (fixture full.sh): check() and run()
 * into an empty directory, which must then start as a streaming standby of the primary and hold
 * every row (tablespace included); a source that dies mid-copy must fail cleanly; check() must
 * refuse what it should. As root, the test continues as the cluster owner.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/sourcecheck.h"
#include "exec.h"
#include "fsutil.h"
#include "full/extract.h"
#include "full/receive.h"
#include "pgbin.h"
#include "pgconn.h"
#include "postmaster.h"
#include "privdrop.h"
#include "registry.h"
#include "replication.h"
#include "strategy.h"
#include "strbuf.h"
#include "targetmark.h"
#include "unit.h"
#include "xalloc.h"

static char *root, *src_dir, *sock, *info_path;
static int port;

/* key=value from full.info */
static char *info(const char *key)
{
	char *text, *line, *save = NULL, *found = NULL;
	size_t len, klen = strlen(key);
	struct errbuf err;

	ck_assert_msg(read_small_file(info_path, &text, &len, &err) == 0, "%s", err.msg);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, key, klen) == 0 && line[klen] == '=')
			found = xstrdup(line + klen + 1);
	free(text);
	ck_assert_msg(found != NULL, "no %s in %s", key, info_path);
	return found;
}

static void run_cmd(const char *const *argv)
{
	struct exec_options o = { .capture_stdout = true, .capture_stderr = true };
	struct strbuf out = STRBUF_INIT, errout = STRBUF_INIT;
	struct errbuf err;
	int status = -1;

	strbuf_init(&out, 0);
	strbuf_init(&errout, 0);
	ck_assert_msg(exec_run(&o, argv, &out, &errout, &status, &err) == 0, "%s", err.msg);
	ck_assert_msg(status == 0, "%s %s failed (%d): %s%s", argv[0], argv[1], status, out.buf,
		      errout.buf);
	strbuf_release(&out);
	strbuf_release(&errout);
}

static PGconn *connect_to(const char *host, int p)
{
	struct pgconn_params params = { .host = host, .port = p };
	struct errbuf err;
	PGconn *c = pg_connect(&params, &err);

	ck_assert_msg(c != NULL, "%s", err.msg);
	return c;
}

static char *value(PGconn *c, const char *sql)
{
	char *v = NULL;
	struct errbuf err;

	ck_assert_msg(pg_query_value(c, sql, 0, NULL, &v, &err) == 0, "%s", err.msg);
	ck_assert_ptr_nonnull(v);
	return v;
}

static void exec_sql(PGconn *c, const char *sql)
{
	struct errbuf err;

	ck_assert_msg(pg_exec(c, sql, 0, NULL, &err) == 0, "%s", err.msg);
}

/* Start the fixture's primary once for the whole suite (in the parent process). */
static void setup(void)
{
	struct errbuf err;
	char *pg_ctl, *log;
	const char *argv[10];

	root = xasprintf("%s/full", unit_fixture_dir());
	info_path = path_join(root, "full.info");
	ck_assert_msg(path_exists(info_path), "fixture missing: %s (tests/unit/fixtures/full.sh)",
		      info_path);
	ck_assert_msg(become_cluster_owner(&err) == 0, "%s", err.msg);
	src_dir = path_join(root, "src");
	sock = info("sock");
	{
		char *p = info("port");

		port = atoi(p);
		free(p);
	}
	pg_ctl = pgbin_path("pg_ctl");
	log = path_join(root, "src.log");
	argv[0] = pg_ctl, argv[1] = "-D", argv[2] = src_dir, argv[3] = "-l", argv[4] = log;
	argv[5] = "-w", argv[6] = "-t", argv[7] = "60", argv[8] = "start", argv[9] = NULL;
	run_cmd(argv);
	free(pg_ctl);
	free(log);
}

static void stop_server(const char *dir)
{
	char *pg_ctl = pgbin_path("pg_ctl");
	const char *argv[] = { pg_ctl, "-D", dir, "-w", "-m", "fast", "stop", NULL };

	if (postmaster_running(dir, NULL))
		run_cmd(argv);
	free(pg_ctl);
}

static void teardown(void)
{
	stop_server(src_dir);
}

/* ------------------------------------------------------------------------------------------ */
/* A host for the strategy, as gpsegrecovery would be */

struct seen {
	char phases[256];
	uint64_t last_done, last_total;
	unsigned progress_calls;
	char log[8192];
};
static struct seen seen;

static void host_log(int level, const char *fmt, va_list ap)
{
	char line[1024];
	size_t n = strlen(seen.log);

	(void) level;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (getenv("UNIT_VERBOSE"))
		fprintf(stderr, "log: %s\n", line);
	snprintf(seen.log + n, sizeof(seen.log) - n, "%s\n", line);
}

static void host_progress(struct recovery *r, uint64_t done, uint64_t total)
{
	(void) r;
	ck_assert_uint_ge(done, seen.last_done);
	seen.last_done = done;
	seen.last_total = total;
	seen.progress_calls++;
}

static void host_phase(struct recovery *r, const char *name)
{
	size_t n = strlen(seen.phases);

	(void) r;
	snprintf(seen.phases + n, sizeof(seen.phases) - n, "%s ", name);
}

static const struct strategy_host host = {
	.log = host_log, .progress = host_progress, .phase = host_phase,
};

/* An empty target as gpsegrecovery leaves it before run(): its lock file and standby.signal. */
static char *new_target(void)
{
	char *tmpl = xasprintf("%s/work/target.XXXXXX", root);
	char *lock, *signal;
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	lock = path_join(tmpl, TARGET_LOCK_FILE);
	signal = path_join(tmpl, "standby.signal");
	fd = open(lock, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_eq(write(fd, "12345\n", 6), 6);
	close(fd);
	fd = open(signal, O_CREAT | O_WRONLY, 0600);
	close(fd);
	free(lock);
	free(signal);
	return tmpl;
}

static struct recovery recovery_for(const char *target)
{
	struct recovery r = {
		.dbid = 3,
		.content = 0,
		.target_datadir = target,
		.target_port = port + 1,
		.source_dbid = 2,
		.source_host = sock,
		.source_port = port,
		.source_datadir = src_dir,
		.host = &host,
	};

	memset(&seen, 0, sizeof(seen));
	return r;
}

static char *ts_target(void)
{
	return path_join(root, "ts/3");
}

static void clean_ts_target(void)
{
	char *t = ts_target();
	struct errbuf err;

	ck_assert_msg(remove_tree(t, &err) == 0, "%s", err.msg);
	free(t);
}

static void wait_for(PGconn *c, const char *sql, const char *what)
{
	for (int i = 0; i < 600; i++) {
		char *v = value(c, sql);
		bool ok = strcmp(v, "t") == 0;

		free(v);
		if (ok)
			return;
		usleep(100 * 1000);
	}
	ck_abort_msg("timed out waiting for %s", what);
}

START_TEST(copy_starts_as_a_streaming_standby_with_every_row)
{
	char *target, *path, *data, *conf, link[4096], *tsdir, *standby_sock, *pg_ctl, *opts,
		*log;
	struct recovery r;
	struct errbuf err;
	size_t len;
	ssize_t n;
	PGconn *primary, *standby;
	const char *checks[][2] = {
		{ "SELECT count(*) FROM t_main", "t_main_count" },
		{ "SELECT sum(hashtext(v)) FROM t_main", "t_main_sum" },
		{ "SELECT count(*) FROM t_big", "t_big_count" },
		{ "SELECT count(*) FROM t_ts", "t_ts_count" },
		{ "SELECT sum(hashtext(v)) FROM t_ts", "t_ts_sum" },
		{ "SELECT system_identifier FROM pg_control_system()", "system_identifier" },
	};

	clean_ts_target();
	target = new_target();
	r = recovery_for(target);
	ck_assert_msg(strategy_full.check(&r, &err) == 0, "check: %s", err.msg);
	ck_assert_msg(strategy_full.run(&r, &err) == 0, "run: %s", err.msg);

	ck_assert_str_eq(seen.phases, "checkpoint copy sync ");
	ck_assert_uint_gt(seen.progress_calls, 10);
	ck_assert_uint_gt(r.bytes_copied, 40u << 20);
	ck_assert_uint_eq(seen.last_done, r.bytes_copied);
	ck_assert_uint_eq(r.bytes_total, r.bytes_copied);

	/* The lock file is the caller's, the signal file too; the manifest is final. */
	path = path_join(target, TARGET_LOCK_FILE);
	ck_assert_msg(read_small_file(path, &data, &len, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(data, "12345\n");
	free(data);
	free(path);
	path = path_join(target, "standby.signal");
	ck_assert(path_exists(path));
	free(path);
	path = path_join(target, FULL_MANIFEST);
	ck_assert(path_exists(path));
	free(path);
	path = path_join(target, FULL_MANIFEST_TMP);
	ck_assert(!path_exists(path));
	free(path);
	/* The log directory is there, without the primary's logs. */
	path = path_join(target, "log");
	ck_assert(path_exists(path) && dir_is_empty(path));
	free(path);
	/* The tablespace is mapped per dbid: ts/2 on the source, ts/3 here. */
	tsdir = ts_target();
	{
		char *oid = info("ts_oid");
		char *rel = xasprintf("pg_tblspc/%s", oid);

		path = path_join(target, rel);
		n = readlink(path, link, sizeof(link) - 1);
		ck_assert_int_gt(n, 0);
		link[n] = '\0';
		ck_assert_str_eq(link, tsdir);
		free(rel);
		free(oid);
		free(path);
	}
	ck_assert(!dir_is_empty(tsdir));
	{
		struct stat st;

		ck_assert_int_eq(stat(target, &st), 0);
		ck_assert_uint_eq(st.st_mode & 0777, 0700);
	}

	/* What gpsegrecovery does next: the standby configuration, then start. */
	conf = path_join(target, "postgresql.auto.conf");
	{
		FILE *f = fopen(conf, "a");

		ck_assert_ptr_nonnull(f);
		fprintf(f, "primary_conninfo = 'host=%s port=%d application_name=full_test'\n", sock,
			port);
		fprintf(f, "primary_slot_name = '%s'\n", REPLICATION_SLOT);
		fclose(f);
	}
	standby_sock = xasprintf("%s/work", root);
	pg_ctl = pgbin_path("pg_ctl");
	opts = xasprintf("-p %d -c unix_socket_directories=%s -c logging_collector=off", port + 1,
			 sock);
	log = xasprintf("%s.log", target);
	{
		const char *argv[] = { pg_ctl, "-D", target, "-l", log, "-w", "-t", "60", "-o", opts,
				       "start", NULL };

		run_cmd(argv);
	}
	standby = connect_to(sock, port + 1);
	primary = connect_to(sock, port);
	data = value(standby, "SELECT pg_is_in_recovery()::text");
	ck_assert_str_eq(data, "true");
	free(data);
	wait_for(standby, "SELECT count(*) = 1 FROM pg_stat_wal_receiver WHERE status = 'streaming'",
		 "the copy to stream from the primary");
	wait_for(primary, "SELECT count(*) = 1 FROM pg_stat_replication WHERE application_name = "
			  "'full_test' AND state = 'streaming'",
		 "the primary to see its new standby");

	/* Every row of the copy, and what the primary writes afterwards. */
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		char *want = info(checks[i][1]);
		char *got = value(standby, checks[i][0]);

		ck_assert_msg(strcmp(want, got) == 0, "%s: standby has %s, expected %s", checks[i][0],
			      got, want);
		free(want);
		free(got);
	}
	exec_sql(primary, "INSERT INTO t_ts SELECT g, 'after' FROM generate_series(1, 1000) g");
	{
		char *lsn = value(primary, "SELECT pg_current_wal_lsn()::text");
		char *sql = xasprintf("SELECT pg_last_wal_replay_lsn() >= '%s'", lsn);

		wait_for(standby, sql, "the standby to replay the new rows");
		free(sql);
		free(lsn);
	}
	{
		char *want = info("t_ts_count");
		char *got = value(standby, "SELECT count(*) FROM t_ts");

		ck_assert_int_eq(atol(got), atol(want) + 1000);
		free(want);
		free(got);
	}
	exec_sql(primary, "DELETE FROM t_ts WHERE v = 'after'");

	/* The source preflight refuses a source in recovery: the copy itself, now a standby. */
	{
		struct recovery r2 = recovery_for("/nonexistent/target");

		r2.dbid = 4;
		r2.source_dbid = 3;
		r2.source_port = port + 1;
		ck_assert(source_preflight(&r2, &err) != 0);
		ck_assert_msg(strstr(err.msg, "in recovery") != NULL, "%s", err.msg);
	}
	PQfinish(standby);
	PQfinish(primary);
	stop_server(target);
	ck_assert_msg(remove_tree(target, &err) == 0, "%s", err.msg);
	clean_ts_target();
	free(log);
	free(opts);
	free(pg_ctl);
	free(standby_sock);
	free(conf);
	free(tsdir);
	free(target);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */

struct bg_run {
	struct recovery r;
	struct errbuf err;
	int rc;
};

static void *bg(void *arg)
{
	struct bg_run *b = arg;

	b->rc = strategy_full.run(&b->r, &b->err);
	return NULL;
}

START_TEST(source_dying_mid_copy_fails_cleanly)
{
	struct bg_run b;
	pthread_t t;
	PGconn *primary;
	char *target, *path;
	struct errbuf err;
	int killed = 0;

	clean_ts_target();
	target = new_target();
	b.r = recovery_for(target);
	b.r.max_rate_kbps = 512; /* slow enough to be caught in the middle */
	b.rc = 0;
	ck_assert_int_eq(pthread_create(&t, NULL, bg, &b), 0);
	primary = connect_to(sock, port);
	for (int i = 0; i < 300 && !killed; i++) {
		char *v;

		usleep(50 * 1000);
		if (seen.last_done < (1u << 20))
			continue;
		/* The walsender of the backup: terminate it, as a crash of the source would. */
		v = value(primary, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_replication "
				   "WHERE application_name = 'pg_basebackup'");
		killed = atoi(v);
		free(v);
	}
	ck_assert_msg(killed == 1, "the backup's walsender was not found");
	pthread_join(t, NULL);
	ck_assert_int_ne(b.rc, 0);
	ck_assert_msg(strstr(b.err.msg, sock) != NULL, "the source is not named: %s", b.err.msg);
	ck_assert_msg(strstr(b.err.msg, "run gprecoverseg -F again") != NULL, "%s", b.err.msg);
	ck_assert_msg(strstr(b.err.msg, target) != NULL, "the target is not named: %s", b.err.msg);
	if (getenv("UNIT_VERBOSE"))
		fprintf(stderr, "mid-copy failure: %s\n", b.err.msg);
	/* The target stays a standby-only directory. */
	path = path_join(target, "standby.signal");
	ck_assert(path_exists(path));
	free(path);
	PQfinish(primary);
	ck_assert_msg(remove_tree(target, &err) == 0, "%s", err.msg);
	clean_ts_target();
	free(target);
}
END_TEST

START_TEST(check_refuses_what_it_must)
{
	char *target = new_target(), *flat, *tsdir, *junk;
	struct recovery r = recovery_for(target);
	struct errbuf err;
	PGconn *primary = connect_to(sock, port);
	char *sql;
	int fd;

	clean_ts_target();
	ck_assert_msg(strategy_full.check(&r, &err) == 0, "%s", err.msg);
	{
		struct strategy_estimate e;

		ck_assert_msg(strategy_full.estimate(&r, &e, &err) == 0, "%s", err.msg);
		ck_assert_uint_gt(e.bytes, 40u << 20);
		ck_assert_uint_lt(e.bytes, 1u << 30);
	}

	/* Out-of-range rate. */
	r.max_rate_kbps = 5;
	ck_assert(strategy_full.check(&r, &err) != 0);
	ck_assert_msg(strstr(err.msg, "max-rate") != NULL, "%s", err.msg);
	r.max_rate_kbps = 0;

	/* A source that does not answer. */
	r.source_port = port + 7;
	ck_assert(strategy_full.check(&r, &err) != 0);
	ck_assert_msg(strstr(err.msg, "source dbid 2") != NULL, "%s", err.msg);
	r.source_port = port;

	/* The mapped tablespace directory holds something. */
	tsdir = ts_target();
	ck_assert_int_eq(mkdir(tsdir, 0700), 0);
	junk = path_join(tsdir, "PG_15_202209061");
	fd = open(junk, O_CREAT | O_WRONLY, 0600);
	close(fd);
	ck_assert(strategy_full.check(&r, &err) != 0);
	ck_assert_msg(strstr(err.msg, "not empty") != NULL && strstr(err.msg, tsdir) != NULL, "%s",
		      err.msg);
	clean_ts_target();

	/* A tablespace outside the per-dbid layout, on this host: the mirror would share it. */
	flat = path_join(root, "work/flat");
	ck_assert_int_eq(mkdir(flat, 0700), 0);
	sql = xasprintf("CREATE TABLESPACE flat LOCATION '%s'", flat);
	exec_sql(primary, sql);
	ck_assert(strategy_full.check(&r, &err) != 0);
	ck_assert_msg(strstr(err.msg, "primary's tablespace") != NULL && strstr(err.msg, flat),
		      "%s", err.msg);
	exec_sql(primary, "DROP TABLESPACE flat");
	rmdir(flat);

	PQfinish(primary);
	ck_assert_msg(remove_tree(target, &err) == 0, "%s", err.msg);
	free(sql);
	free(flat);
	free(junk);
	free(tsdir);
	free(target);
}
END_TEST

static Suite *full_server_suite(void)
{
	Suite *s = suite_create("full_server");
	TCase *tc = tcase_create("server");

	tcase_set_timeout(tc, 600);
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, copy_starts_as_a_streaming_standby_with_every_row);
	tcase_add_test(tc, source_dying_mid_copy_fails_cleanly);
	tcase_add_test(tc, check_refuses_what_it_must);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(full_server_suite)
