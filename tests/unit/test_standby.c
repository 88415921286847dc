/*
 * Unit tests of the standby commands' exact parts: gpinitstandby's journal (its text form both
 * ways, what it refuses, which steps count as done), gpinitstandby's option rules with
 * Greenplum's messages, primary_conninfo out of postgresql.auto.conf, the coordinator's own
 * files a copy never writes, and the agent's @removed line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errbuf.h"
#include "gpinitstandby/journal.h"
#include "gpinitstandby/options.h"
#include "proto/agentproto.h"
#include "standbyconf.h"
#include "strbuf.h"
#include "targetmark.h"
#include "unit.h"

static struct standby_journal sample(void)
{
	struct standby_journal j = { .action = JOURNAL_CREATE, .port = 7001, .dbid = 8,
				     .hba_hostnames = true, .step = STEP_HBA, .step_done = true };

	snprintf(j.hostname, sizeof(j.hostname), "smdw");
	snprintf(j.address, sizeof(j.address), "10.0.0.9");
	snprintf(j.datadir, sizeof(j.datadir), "/data/standby/gpseg-1");
	return j;
}

START_TEST(journal_round_trip)
{
	struct standby_journal j = sample(), back;
	struct strbuf sb = STRBUF_INIT;
	struct errbuf err;

	strbuf_init(&sb, 0);
	journal_format(&j, &sb);
	ck_assert_int_eq(journal_parse(sb.buf, &back, &err), 0);
	ck_assert_int_eq(back.action, JOURNAL_CREATE);
	ck_assert_str_eq(back.hostname, "smdw");
	ck_assert_str_eq(back.address, "10.0.0.9");
	ck_assert_str_eq(back.datadir, "/data/standby/gpseg-1");
	ck_assert_int_eq(back.port, 7001);
	ck_assert_int_eq(back.dbid, 8);
	ck_assert(back.hba_hostnames);
	ck_assert_int_eq(back.step, STEP_HBA);
	ck_assert(back.step_done);
	/* the file tells a DBA who finds it what to run */
	ck_assert_ptr_nonnull(strstr(sb.buf, "gpinitstandby -r"));
	strbuf_release(&sb);

	j.action = JOURNAL_REMOVE;
	j.step = STEP_SLOT;
	j.step_done = false;
	strbuf_init(&sb, 0);
	journal_format(&j, &sb);
	ck_assert_int_eq(journal_parse(sb.buf, &back, &err), 0);
	ck_assert_int_eq(back.action, JOURNAL_REMOVE);
	ck_assert_int_eq(back.step, STEP_SLOT);
	ck_assert(!back.step_done);
	strbuf_release(&sb);
}
END_TEST

START_TEST(journal_refuses_what_it_would_not_write)
{
	static const char *const bad[] = {
		"action=create\nhostname=h\naddress=h\nport=7001\n",                      /* no datadir */
		"action=fly\nhostname=h\naddress=h\nport=7001\ndatadir=/d\n",            /* action */
		"action=create\nhostname=h\naddress=h\nport=70001\ndatadir=/d\n",        /* port */
		"action=create\nhostname=h\naddress=h\nport=7001\ndatadir=d\n",          /* relative */
		"action=create\nhostname=h\naddress=h\nport=7001\ndatadir=/d\nstep=x\n", /* step */
		"action=create\nhostname=h\naddress=h\nport=7001\ndatadir=/d\nwho=me\n", /* key */
		"action=create\nhostname=h\naddress=h\nport=7x\ndatadir=/d\n",           /* number */
		"garbage\n",
	};
	struct standby_journal j;
	struct errbuf err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		j.port = 1;
		ck_assert_msg(journal_parse(bad[i], &j, &err) == -1, "accepted: %s", bad[i]);
		ck_assert_int_eq(j.port, 0); /* nothing half-parsed is left */
		ck_assert_ptr_nonnull(strstr(err.msg, "journal"));
	}
}
END_TEST

START_TEST(journal_steps_done)
{
	struct standby_journal j = sample();

	j.step = STEP_CATALOG;
	j.step_done = false;
	ck_assert(!journal_has_done(&j, STEP_CATALOG));
	j.step_done = true;
	ck_assert(journal_has_done(&j, STEP_CATALOG));
	ck_assert(!journal_has_done(&j, STEP_HBA));
	j.step = STEP_COPY;
	j.step_done = false;
	ck_assert(journal_has_done(&j, STEP_CATALOG));
	ck_assert(journal_has_done(&j, STEP_HBA));
	ck_assert(!journal_has_done(&j, STEP_COPY));
	/* a remove's order: catalog, directory, slot */
	j.action = JOURNAL_REMOVE;
	j.step = STEP_DIRECTORY;
	j.step_done = true;
	ck_assert(journal_has_done(&j, STEP_CATALOG));
	ck_assert(journal_has_done(&j, STEP_DIRECTORY));
	ck_assert(!journal_has_done(&j, STEP_SLOT));
}
END_TEST

START_TEST(journal_file_durable_and_cleared)
{
	char dir[] = "/tmp/segrecover-journal.XXXXXX";
	struct standby_journal j = sample(), back;
	struct errbuf err;
	char path[256];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(journal_read(dir, &back, &err), 0);
	ck_assert_int_eq(back.action, JOURNAL_NONE);
	ck_assert_int_eq(journal_mark(dir, &j, STEP_COPY, false, &err), 0);
	ck_assert_int_eq(journal_read(dir, &back, &err), 0);
	ck_assert_int_eq(back.step, STEP_COPY);
	ck_assert(!back.step_done);
	snprintf(path, sizeof(path), "%s/%s", dir, STANDBY_JOURNAL_FILE);
	ck_assert_int_eq(access(path, F_OK), 0);
	ck_assert_int_eq(journal_clear(dir, &err), 0);
	ck_assert_int_ne(access(path, F_OK), 0);
	ck_assert_int_eq(journal_clear(dir, &err), 0); /* already gone is fine */
	/* a damaged file is an error that names it, never an empty journal */
	{
		FILE *f = fopen(path, "w");

		ck_assert_ptr_nonnull(f);
		fputs("action=create\nport=1\n", f);
		fclose(f);
	}
	ck_assert_int_eq(journal_read(dir, &back, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, STANDBY_JOURNAL_FILE));
	unlink(path);
	rmdir(dir);
}
END_TEST

static int parse(struct initstandby_options *o, struct errbuf *err, ...)
{
	static char store[16][128];
	char *argv[17];
	int argc = 0;
	const char *a;
	va_list ap;

	snprintf(store[argc], sizeof(store[0]), "gpinitstandby");
	argv[argc] = store[argc];
	argc++;
	va_start(ap, err);
	while ((a = va_arg(ap, const char *)) != NULL && argc < 16) {
		snprintf(store[argc], sizeof(store[0]), "%s", a);
		argv[argc] = store[argc];
		argc++;
	}
	va_end(ap);
	argv[argc] = NULL;
	return initstandby_parse_options(argc, argv, o, err);
}

START_TEST(options_rules)
{
	struct initstandby_options o;
	struct errbuf err;

	ck_assert_int_eq(parse(&o, &err, "-s", "smdw", "-P", "7001", "-S", "/d/s", "-a",
			       "--hba-hostnames", "-q", NULL), 0);
	ck_assert_str_eq(o.standby_host, "smdw");
	ck_assert_int_eq(o.standby_port, 7001);
	ck_assert_str_eq(o.standby_datadir, "/d/s");
	ck_assert(o.yes && o.hba_hostnames);
	ck_assert_int_eq(parse(&o, &err, "-r", "-a", NULL), 0);
	ck_assert(o.remove);
	ck_assert_int_eq(parse(&o, &err, "-n", NULL), 0);
	ck_assert(o.start);
	ck_assert_int_eq(parse(&o, &err, "-?", NULL), 0);
	ck_assert(o.help);
	ck_assert_int_eq(parse(&o, &err, "-M", "fast", "-r", NULL), 0); /* accepted, ignored */

	ck_assert_int_eq(parse(&o, &err, NULL), -1);
	ck_assert_str_eq(err.msg, "No action provided in the options.");
	ck_assert_int_eq(parse(&o, &err, "-s", "h", "-n", NULL), -1);
	ck_assert_str_eq(err.msg, "Options -s and -n cannot be specified together.");
	ck_assert_int_eq(parse(&o, &err, "-S", "/d", "-n", NULL), -1);
	ck_assert_str_eq(err.msg, "Options -S and -n cannot be specified together.");
	ck_assert_int_eq(parse(&o, &err, "-s", "h", "-r", NULL), -1);
	ck_assert_str_eq(err.msg, "Options -s and -r cannot be specified together.");
	ck_assert_int_eq(parse(&o, &err, "-s", "h", "-P", "0", NULL), -1);
	ck_assert_int_eq(parse(&o, &err, "-s", "h", "-P", "7x", NULL), -1);
	ck_assert_int_eq(parse(&o, &err, "-P", "7001", "-r", NULL), -1);
	ck_assert_int_eq(parse(&o, &err, "-s", "", NULL), -1);
	ck_assert_int_eq(parse(&o, &err, "-s", "h", "extra", NULL), -1);
	ck_assert_int_eq(parse(&o, &err, "-x", NULL), -1);
	ck_assert_int_eq(parse(&o, &err, "-s", NULL), -1);
	ck_assert_int_eq(parse(&o, &err, "-s", "h", "-l", "/nonexistent/dir", NULL), -1);
	ck_assert_str_eq(err.msg, "Log directory /nonexistent/dir does not exist.");
}
END_TEST

START_TEST(primary_conninfo_read)
{
	char *ci;

	ci = standby_conninfo_of("# Do not edit\nport = '7001'\nprimary_conninfo = "
				 "'host=10.0.0.1 port=7000 application_name=gp_walreceiver'\n");
	ck_assert_str_eq(ci, "host=10.0.0.1 port=7000 application_name=gp_walreceiver");
	free(ci);
	/* the last setting wins; quotes doubled inside the GUC string */
	ci = standby_conninfo_of("primary_conninfo = 'host=a'\nprimary_conninfo = 'host=b "
				 "password=''x y'''\n");
	ck_assert_str_eq(ci, "host=b password='x y'");
	free(ci);
	ck_assert_ptr_null(standby_conninfo_of("primary_slot_name = 's'\n"));
}
END_TEST

START_TEST(primary_of_a_directory)
{
	char dir[] = "/tmp/segrecover-autoconf.XXXXXX";
	char path[256], host[64];
	struct errbuf err;
	FILE *f;
	int port = 0;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/postgresql.auto.conf", dir);
	ck_assert_int_eq(standby_read_primary(dir, host, sizeof(host), &port, &err), -1);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("primary_conninfo = 'user=gpadmin host=cdw port=7000'\n", f);
	fclose(f);
	ck_assert_int_eq(standby_read_primary(dir, host, sizeof(host), &port, &err), 0);
	ck_assert_str_eq(host, "cdw");
	ck_assert_int_eq(port, 7000);
	f = fopen(path, "w");
	fputs("primary_conninfo = 'port=7000'\n", f);
	fclose(f);
	ck_assert_int_eq(standby_read_primary(dir, host, sizeof(host), &port, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "names no host"));
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(coordinator_files_never_copied)
{
	ck_assert(targetmark_is_coordinator_file(STANDBY_JOURNAL_FILE));
	ck_assert(targetmark_is_coordinator_file("gpinitstandby.lock"));
	ck_assert(targetmark_is_coordinator_file("gpinitstandby.lock/PID"));
	ck_assert(targetmark_is_coordinator_file("gprecoverseg.lock/recovery_progress.file"));
	ck_assert(targetmark_is_coordinator_file("gpfts.lock"));
	ck_assert(!targetmark_is_coordinator_file("gpfts.lockx"));
	ck_assert(!targetmark_is_coordinator_file("base/1/gpfts.lock"));
	ck_assert(!targetmark_is_coordinator_file("postgresql.conf"));
}
END_TEST

START_TEST(removed_line)
{
	struct agent_line al;
	char buf[128];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	agentproto_removed(f, 9, true);
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	ck_assert_str_eq(buf, "@removed dbid=9 existed=yes");
	ck_assert_int_eq(agentproto_parse(buf, &al), 0);
	ck_assert_int_eq(al.kind, AGENT_REMOVED);
	ck_assert_int_eq(al.dbid, 9);
	ck_assert(al.flag);
	ck_assert_int_eq(agentproto_parse("@removed dbid=9 existed=maybe", &al), -1);
	ck_assert_int_eq(agentproto_parse("@removed dbid=9", &al), -1);
}
END_TEST

static Suite *standby_suite(void)
{
	Suite *s = suite_create("standby");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, journal_round_trip);
	tcase_add_test(tc, journal_refuses_what_it_would_not_write);
	tcase_add_test(tc, journal_steps_done);
	tcase_add_test(tc, journal_file_durable_and_cleared);
	tcase_add_test(tc, options_rules);
	tcase_add_test(tc, primary_conninfo_read);
	tcase_add_test(tc, primary_of_a_directory);
	tcase_add_test(tc, coordinator_files_never_copied);
	tcase_add_test(tc, removed_line);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(standby_suite)
