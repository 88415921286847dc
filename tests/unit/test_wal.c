/*
 * Unit tests of walreader against WAL written by real PostgreSQL 15 servers (fixture wal.sh):
 * every record is compared with pg_waldump's decoding of it; then damaged copies of the WAL.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/timeline.h"
#include "base/walreader.h"
#include "unit.h"
#include "xalloc.h"

/*
 * check's ck_assert reports every passing assertion to the runner (a write each): in loops over
 * 100,000 records, test first and only call into check on failure.
 */
#define EXPECT(cond, ...)                          \
	do {                                       \
		if (!(cond))                       \
			ck_abort_msg(__VA_ARGS__); \
	} while (0)

/* --- the fixture: X.info, X.waldump, X/pg_wal ------------------------------------------------- */

struct fixture_info {
	uint32_t seg_size;
	uint32_t tli;
	lsn_t start;
	lsn_t checkpoint;
	uint64_t system_identifier;
	size_t records;
};

static lsn_t parse_lsn(const char *text)
{
	unsigned hi, lo;

	ck_assert_msg(sscanf(text, "%X/%X", &hi, &lo) == 2, "not an LSN: \"%s\"", text);
	return ((lsn_t) hi << 32) | lo;
}

static char *fixture_path(const char *name, const char *suffix)
{
	return xasprintf("%s/wal/%s%s", unit_fixture_dir(), name, suffix);
}

static void load_info(const char *name, struct fixture_info *info)
{
	char *path = fixture_path(name, ".info");
	FILE *f = fopen(path, "r");
	char line[256];

	ck_assert_msg(f != NULL, "missing fixture %s: run tests/unit/fixtures/wal.sh", path);
	memset(info, 0, sizeof(*info));
	while (fgets(line, sizeof(line), f)) {
		char *eq = strchr(line, '=');

		if (!eq)
			continue;
		*eq++ = '\0';
		eq[strcspn(eq, "\n")] = '\0';
		if (strcmp(line, "seg_size") == 0)
			info->seg_size = (uint32_t) strtoul(eq, NULL, 10);
		else if (strcmp(line, "tli") == 0)
			info->tli = (uint32_t) strtoul(eq, NULL, 10);
		else if (strcmp(line, "start") == 0)
			info->start = parse_lsn(eq);
		else if (strcmp(line, "checkpoint") == 0)
			info->checkpoint = parse_lsn(eq);
		else if (strcmp(line, "system_identifier") == 0)
			info->system_identifier = strtoull(eq, NULL, 10);
		else if (strcmp(line, "records") == 0)
			info->records = strtoul(eq, NULL, 10);
	}
	fclose(f);
	ck_assert_msg(info->seg_size != 0 && info->tli != 0 && info->start != 0 &&
			  info->records > 0,
		      "incomplete fixture %s", path);
	free(path);
}

/* pg_waldump -b output, parsed. */
struct ref_block {
	unsigned id;
	struct wal_relfilenode rnode;
	char fork[8];
	uint32_t blkno;
	bool fpw;
	bool apply;
	bool compressed;
	unsigned hole_offset;
	unsigned hole_length;
};

struct ref_record {
	lsn_t lsn;
	lsn_t prev;
	char rmgr[24];
	char type[40]; /* first word of desc */
	uint32_t rec_len;
	uint32_t tot_len;
	uint32_t xid;
	size_t first_block;
	unsigned nblocks;
};

struct ref {
	struct ref_record *recs;
	size_t n;
	struct ref_block *blocks;
	size_t nblocks;
	lsn_t end_lsn; /* where pg_waldump found the end ("invalid record length at"), or 0 */
};

static void parse_block_line(struct ref *ref, const char *line)
{
	struct ref_block b;
	const char *p;
	size_t alloc_needed = ref->nblocks + 1;

	memset(&b, 0, sizeof(b));
	EXPECT(sscanf(line, "\tblkref #%u: rel %u/%u/%u fork %7s blk %u", &b.id, &b.rnode.spc,
		      &b.rnode.db, &b.rnode.rel, b.fork, &b.blkno) == 6,
	       "unexpected pg_waldump block line: %.200s", line);
	p = strstr(line, "(FPW");
	if (p) {
		b.fpw = true;
		b.apply = strncmp(p, "(FPW)", 5) == 0;
		b.compressed = strstr(p, "compression saved") != NULL;
		p = strstr(p, "hole: offset: ");
		EXPECT(p && sscanf(p, "hole: offset: %u, length: %u", &b.hole_offset,
				   &b.hole_length) == 2,
		       "no hole in pg_waldump block line: %.200s", line);
	}
	EXPECT(ref->n > 0, "block line before any record");
	/* Grow by doubling: the blocks array is big (one per block reference of the whole WAL). */
	if ((alloc_needed & (alloc_needed - 1)) == 0 || ref->blocks == NULL)
		ref->blocks = xrealloc(ref->blocks, 2 * alloc_needed * sizeof(*ref->blocks));
	ref->blocks[ref->nblocks++] = b;
	ref->recs[ref->n - 1].nblocks++;
}

static void load_ref(const char *name, struct ref *ref)
{
	char *path = fixture_path(name, ".waldump"), *errpath = fixture_path(name, ".waldump.err");
	FILE *f = fopen(path, "r");
	char *line = NULL, *p;
	size_t cap = 0, alloc = 0;
	ssize_t len;

	EXPECT(f != NULL, "missing fixture %s: run tests/unit/fixtures/wal.sh", path);
	memset(ref, 0, sizeof(*ref));
	while ((len = getline(&line, &cap, f)) > 0) {
		struct ref_record *r;
		unsigned lhi, llo, phi, plo;
		int n;

		if (strncmp(line, "\tblkref #", 9) == 0) {
			parse_block_line(ref, line);
			continue;
		}
		EXPECT(strncmp(line, "rmgr: ", 6) == 0, "unexpected pg_waldump line: %.200s", line);
		if (ref->n == alloc) {
			alloc = alloc ? alloc * 2 : 4096;
			ref->recs = xrealloc(ref->recs, alloc * sizeof(*ref->recs));
		}
		r = &ref->recs[ref->n++];
		memset(r, 0, sizeof(*r));
		n = sscanf(
		    line,
		    "rmgr: %23s len (rec/tot): %u/ %u, tx: %u, lsn: %X/%X, prev %X/%X, desc: %39s",
		    r->rmgr, &r->rec_len, &r->tot_len, &r->xid, &lhi, &llo, &phi, &plo, r->type);
		EXPECT(n >= 8, "cannot parse pg_waldump line: %.200s", line);
		r->lsn = ((lsn_t) lhi << 32) | llo;
		r->prev = ((lsn_t) phi << 32) | plo;
		r->first_block = ref->nblocks;
	}
	fclose(f);
	f = fopen(errpath, "r");
	EXPECT(f != NULL, "missing fixture %s", errpath);
	if (getline(&line, &cap, f) > 0 && (p = strstr(line, "invalid record length at ")) != NULL)
		ref->end_lsn = parse_lsn(p + strlen("invalid record length at "));
	fclose(f);
	free(line);
	free(path);
	free(errpath);
	EXPECT(ref->n > 0, "empty pg_waldump reference for %s", name);
}

static void free_ref(struct ref *ref)
{
	free(ref->recs);
	free(ref->blocks);
}

/* --- a reader on a fixture directory, with a log of the segments it opened --------------------- */

struct seglog {
	uint64_t segnos[4096];
	uint32_t tlis[4096];
	size_t n;
};

static void log_segment(void *arg, uint32_t tli, uint64_t segno, const char *path)
{
	struct seglog *log = arg;

	ck_assert_ptr_nonnull(path);
	if (log->n < 4096) {
		log->segnos[log->n] = segno;
		log->tlis[log->n] = tli;
		log->n++;
	}
}

static bool seglog_has(const struct seglog *log, uint64_t segno)
{
	size_t i;

	for (i = 0; i < log->n; i++)
		if (log->segnos[i] == segno)
			return true;
	return false;
}

static struct wal_reader *open_reader_in(const char *waldir, const struct fixture_info *info,
					 const char *history_dir, struct seglog *log)
{
	struct timeline_history history;
	struct wal_reader_options opts;
	struct wal_reader *r = NULL;
	struct errbuf err;

	ck_assert_msg(timeline_history_load(history_dir, info->tli, &history, &err) == 0, "%s",
		      err.msg);
	memset(&opts, 0, sizeof(opts));
	opts.waldir = waldir;
	opts.history = &history;
	opts.seg_size = info->seg_size;
	opts.system_identifier = info->system_identifier;
	if (log) {
		log->n = 0;
		opts.segment_opened = log_segment;
		opts.callback_arg = log;
	}
	ck_assert_msg(wal_reader_open(&opts, &r, &err) == 0, "%s", err.msg);
	timeline_history_release(&history);
	return r;
}

static struct wal_reader *open_reader(const char *name, const struct fixture_info *info,
				      struct seglog *log)
{
	char *dir = fixture_path(name, "/pg_wal");
	struct wal_reader *r = open_reader_in(dir, info, dir, log);

	free(dir);
	return r;
}

static const char *fork_name(uint8_t fork)
{
	static const char *const names[] = { "main", "fsm", "vm", "init" };

	return fork < 4 ? names[fork] : "?";
}

static void expect_matches(const struct wal_record *rec, const struct ref *ref, size_t i)
{
	const struct ref_record *want = &ref->recs[i];
	uint32_t image_bytes = 0;
	unsigned j;

	EXPECT(rec->lsn == want->lsn, "record %zu: LSN %X/%X, pg_waldump says %X/%X", i,
	       LSN_ARGS(rec->lsn), LSN_ARGS(want->lsn));
	EXPECT(rec->prev == want->prev, "record %zu at %X/%X: prev %X/%X, pg_waldump %X/%X", i,
	       LSN_ARGS(rec->lsn), LSN_ARGS(rec->prev), LSN_ARGS(want->prev));
	EXPECT(strcmp(wal_rmgr_name(rec->rmid), want->rmgr) == 0,
	       "record at %X/%X: rmgr %s, pg_waldump %s", LSN_ARGS(rec->lsn),
	       wal_rmgr_name(rec->rmid), want->rmgr);
	EXPECT(rec->tot_len == want->tot_len, "record at %X/%X: length %u, pg_waldump %u",
	       LSN_ARGS(rec->lsn), rec->tot_len, want->tot_len);
	EXPECT(rec->xid == want->xid, "record at %X/%X: xid %u, pg_waldump %u", LSN_ARGS(rec->lsn),
	       rec->xid, want->xid);
	EXPECT(rec->nblocks == want->nblocks, "record at %X/%X: %u blocks, pg_waldump %u",
	       LSN_ARGS(rec->lsn), rec->nblocks, want->nblocks);
	for (j = 0; j < rec->nblocks; j++) {
		const struct wal_block_ref *b = &rec->blocks[j];
		const struct ref_block *w = &ref->blocks[want->first_block + j];

		EXPECT(b->id == w->id && b->rnode.spc == w->rnode.spc &&
			   b->rnode.db == w->rnode.db && b->rnode.rel == w->rnode.rel &&
			   strcmp(fork_name(b->fork), w->fork) == 0 && b->blkno == w->blkno,
		       "record at %X/%X block #%u: %u/%u/%u %s %u, pg_waldump #%u %u/%u/%u %s %u",
		       LSN_ARGS(rec->lsn), b->id, b->rnode.spc, b->rnode.db, b->rnode.rel,
		       fork_name(b->fork), b->blkno, w->id, w->rnode.spc, w->rnode.db, w->rnode.rel,
		       w->fork, w->blkno);
		EXPECT(b->has_image == w->fpw, "record at %X/%X block #%u: image %d, pg_waldump %d",
		       LSN_ARGS(rec->lsn), b->id, b->has_image, w->fpw);
		if (b->has_image) {
			EXPECT(
			    b->apply_image == w->apply &&
				WAL_BKPIMAGE_COMPRESSED(b->bimg_info) == w->compressed &&
				b->hole_offset == w->hole_offset &&
				b->hole_length == w->hole_length,
			    "record at %X/%X block #%u: image apply %d compressed %d hole %u+%u; "
			    "pg_waldump %d %d %u+%u",
			    LSN_ARGS(rec->lsn), b->id, b->apply_image,
			    WAL_BKPIMAGE_COMPRESSED(b->bimg_info), b->hole_offset, b->hole_length,
			    w->apply, w->compressed, w->hole_offset, w->hole_length);
			EXPECT(b->image != NULL, "no image pointer");
			image_bytes += b->image_len;
		}
	}
	/* pg_waldump's "rec" length is the record without its images. */
	EXPECT(rec->tot_len - image_bytes == want->rec_len,
	       "record at %X/%X: %u bytes without images, pg_waldump %u", LSN_ARGS(rec->lsn),
	       rec->tot_len - image_bytes, want->rec_len);
}

/*
 * Decode a fixture's WAL from its first record to the end, comparing each record with
 * pg_waldump's. Returns the number of records read; *last_status and *msg tell how it ended.
 */
static size_t decode_all(struct wal_reader *r, const struct ref *ref, lsn_t start, int *last_status,
			 struct errbuf *msg)
{
	const struct wal_record *rec;
	size_t n = 0;
	int status = wal_reader_read_at(r, start, &rec, msg);

	while (status == WAL_READ_OK) {
		EXPECT(n < ref->n, "more records than pg_waldump found: extra at %X/%X",
		       LSN_ARGS(rec->lsn));
		expect_matches(rec, ref, n);
		n++;
		status = wal_reader_read_next(r, &rec, msg);
	}
	*last_status = status;
	return n;
}

static void check_whole_fixture(const char *name, size_t min_records)
{
	struct fixture_info info;
	struct ref ref;
	struct seglog *log = xcalloc(1, sizeof(*log));
	struct wal_reader *r;
	struct errbuf err;
	int status;
	size_t n, i;
	char end_text[40];

	load_info(name, &info);
	load_ref(name, &ref);
	ck_assert_uint_eq(ref.n, info.records);
	ck_assert_msg(ref.n >= min_records, "fixture %s has only %zu records", name, ref.n);
	r = open_reader(name, &info, log);
	n = decode_all(r, &ref, info.start, &status, &err);
	ck_assert_msg(status == WAL_READ_END, "%s: reading stopped after %zu of %zu records: %s",
		      name, n, ref.n, err.msg);
	ck_assert_uint_eq(n, ref.n);
	/* The end is where pg_waldump found it, and the message names it and the file. */
	if (ref.end_lsn != 0) {
		snprintf(end_text, sizeof(end_text), "end of WAL at %X/%X", LSN_ARGS(ref.end_lsn));
		ck_assert_msg(strstr(err.msg, end_text) != NULL, "\"%s\" does not say \"%s\"",
			      err.msg, end_text);
	}
	ck_assert_msg(strstr(err.msg, "WAL segment file ") != NULL, "%s", err.msg);
	/* Trying again at the end gives the end again (the WAL may grow; here it does not). */
	{
		const struct wal_record *rec;

		ck_assert_int_eq(wal_reader_read_next(r, &rec, &err), WAL_READ_END);
	}
	/* Each segment from the first to the last was opened once, in order. */
	ck_assert_uint_gt(log->n, 1);
	ck_assert_uint_eq(log->segnos[0], info.start / info.seg_size);
	for (i = 1; i < log->n; i++)
		ck_assert_msg(log->segnos[i] == log->segnos[i - 1] + 1,
			      "segments opened out of order");
	ck_assert_uint_eq(log->segnos[log->n - 1], ref.recs[ref.n - 1].lsn / info.seg_size);
	wal_reader_close(r);
	free_ref(&ref);
	free(log);
}

START_TEST(decodes_primary_wal_like_pg_waldump)
{
	check_whole_fixture("a", 10000);
}
END_TEST

START_TEST(decodes_wal_across_a_timeline_switch)
{
	struct fixture_info info;
	struct seglog *log = xcalloc(1, sizeof(*log));
	struct wal_reader *r;
	struct ref ref;
	int status;
	size_t i, switch_tli_2 = 0;
	struct errbuf err;

	check_whole_fixture("b", 10000);
	/* The segment of the switch is read from timeline 2's file, earlier ones from timeline 1's. */
	load_info("b", &info);
	load_ref("b", &ref);
	r = open_reader("b", &info, log);
	ck_assert_uint_eq(decode_all(r, &ref, info.start, &status, &err), ref.n);
	for (i = 0; i < log->n; i++) {
		if (log->tlis[i] == 2 && switch_tli_2 == 0)
			switch_tli_2 = i;
		ck_assert_msg(log->tlis[i] == (switch_tli_2 && i >= switch_tli_2 ? 2u : 1u),
			      "segment %zu read from timeline %u", i, log->tlis[i]);
	}
	ck_assert_uint_gt(switch_tli_2, 0);
	wal_reader_close(r);
	free_ref(&ref);
	free(log);
}
END_TEST

START_TEST(decodes_wal_across_two_timeline_switches)
{
	check_whole_fixture("c", 10000);
}
END_TEST

START_TEST(decodes_16mb_segments)
{
	check_whole_fixture("d", 2000);
}
END_TEST

/* The fixture must hold the cases the reader has to get right, or the other tests prove little. */
START_TEST(fixture_covers_the_hard_cases)
{
	struct fixture_info info;
	struct ref ref;
	size_t i, page_crossing = 0, segment_crossing = 0, switches = 0, no_apply = 0,
		  compressed = 0;
	size_t at_page_start = 0;

	load_info("a", &info);
	load_ref("a", &ref);
	for (i = 0; i < ref.n; i++) {
		const struct ref_record *rr = &ref.recs[i];
		lsn_t last = rr->lsn + rr->tot_len - 1;
		unsigned j;

		page_crossing += rr->lsn / WAL_BLCKSZ != last / WAL_BLCKSZ;
		segment_crossing += rr->lsn / info.seg_size != last / info.seg_size;
		switches += strcmp(rr->type, "SWITCH") == 0;
		at_page_start += rr->lsn % WAL_BLCKSZ == WAL_SHORT_PAGE_HEADER_SIZE;
		for (j = 0; j < rr->nblocks; j++) {
			const struct ref_block *b = &ref.blocks[rr->first_block + j];

			no_apply += b->fpw && !b->apply;
			compressed += b->compressed;
		}
	}
	ck_assert_uint_gt(page_crossing, 100);
	ck_assert_uint_gt(segment_crossing, 3);
	ck_assert_uint_ge(switches, 1);
	ck_assert_uint_gt(no_apply, 0);
	ck_assert_uint_gt(compressed, 100);
	ck_assert_uint_gt(at_page_start, 0);
	free_ref(&ref);
}
END_TEST

START_TEST(random_access_after_a_page_crossing_record)
{
	struct fixture_info info;
	struct ref ref;
	struct wal_reader *r;
	const struct wal_record *rec;
	struct errbuf err;
	size_t i, tried = 0;

	load_info("a", &info);
	load_ref("a", &ref);
	r = open_reader("a", &info, NULL);
	/* Fresh reads in the middle of the WAL, in backwards order, as the checkpoint search does. */
	for (i = ref.n - 2; i > 0 && tried < 50; i--) {
		const struct ref_record *before = &ref.recs[i - 1];

		if (before->lsn / WAL_BLCKSZ == (before->lsn + before->tot_len - 1) / WAL_BLCKSZ ||
		    ref.recs[i].lsn % WAL_BLCKSZ <= WAL_LONG_PAGE_HEADER_SIZE)
			continue;
		ck_assert_msg(wal_reader_read_at(r, ref.recs[i].lsn, &rec, &err) == WAL_READ_OK,
			      "%s", err.msg);
		expect_matches(rec, &ref, i);
		ck_assert_msg(wal_reader_read_next(r, &rec, &err) == WAL_READ_OK, "%s", err.msg);
		expect_matches(rec, &ref, i + 1);
		ck_assert_msg(wal_reader_read_at(r, before->lsn, &rec, &err) == WAL_READ_OK, "%s",
			      err.msg);
		expect_matches(rec, &ref, i - 1);
		ck_assert_uint_eq(rec->end_lsn, ref.recs[i].lsn);
		tried++;
	}
	ck_assert_uint_eq(tried, 50);
	wal_reader_close(r);
	free_ref(&ref);
}
END_TEST

START_TEST(random_access_at_page_boundaries)
{
	struct fixture_info info;
	struct ref ref;
	struct wal_reader *r;
	const struct wal_record *rec;
	struct errbuf err;
	size_t i, boundary_records = 0, continuation_pages = 0;

	load_info("a", &info);
	load_ref("a", &ref);
	r = open_reader("a", &info, NULL);
	for (i = 1; i < ref.n; i++) {
		lsn_t lsn = ref.recs[i].lsn;
		lsn_t page = lsn - lsn % WAL_BLCKSZ;

		/* A record right after a page header: the page boundary means that record. */
		if (lsn - page == wal_page_header_size(page, info.seg_size)) {
			ck_assert_msg(wal_reader_read_at(r, page, &rec, &err) == WAL_READ_OK, "%s",
				      err.msg);
			expect_matches(rec, &ref, i);
			boundary_records++;
		}
	}
	/* A page that begins with the rest of a record has no record at its boundary. */
	for (i = 0; i < ref.n && continuation_pages < 20; i++) {
		lsn_t last = ref.recs[i].lsn + ref.recs[i].tot_len - 1;
		lsn_t page = last - last % WAL_BLCKSZ;

		if (page <= ref.recs[i].lsn)
			continue;
		ck_assert_int_eq(wal_reader_read_at(r, page, &rec, &err), WAL_READ_ERROR);
		ck_assert_msg(strstr(err.msg, "rest of an earlier record") != NULL, "%s", err.msg);
		continuation_pages++;
	}
	ck_assert_uint_gt(boundary_records, 0);
	ck_assert_uint_eq(continuation_pages, 20);
	/* Inside a page header, or not 8-aligned: a caller's mistake, not the end of WAL. */
	ck_assert_int_eq(
	    wal_reader_read_at(r, ref.recs[1].lsn - ref.recs[1].lsn % WAL_BLCKSZ + 8, &rec, &err),
	    WAL_READ_ERROR);
	ck_assert_int_eq(wal_reader_read_at(r, ref.recs[1].lsn + 4, &rec, &err), WAL_READ_ERROR);
	ck_assert_msg(strstr(err.msg, "8-byte") != NULL, "%s", err.msg);
	ck_assert_int_eq(wal_reader_read_next(r, &rec, &err), WAL_READ_ERROR);
	wal_reader_close(r);
	free_ref(&ref);
}
END_TEST

START_TEST(reads_records_across_segment_boundaries)
{
	struct fixture_info info;
	struct ref ref;
	struct seglog *log = xcalloc(1, sizeof(*log));
	struct wal_reader *r;
	const struct wal_record *rec;
	struct errbuf err;
	size_t i, crossing = 0, biggest = 0;

	load_info("a", &info);
	load_ref("a", &ref);
	r = open_reader("a", &info, log);
	for (i = 0; i + 1 < ref.n; i++) {
		const struct ref_record *rr = &ref.recs[i];
		uint64_t first = rr->lsn / info.seg_size;
		uint64_t last = (rr->lsn + rr->tot_len - 1) / info.seg_size;

		if (first == last)
			continue;
		/* A fresh reader, so that it opens (and reports) every file the record is in. */
		wal_reader_close(r);
		r = open_reader("a", &info, log);
		ck_assert_msg(wal_reader_read_at(r, rr->lsn, &rec, &err) == WAL_READ_OK, "%s",
			      err.msg);
		expect_matches(rec, &ref, i);
		ck_assert_msg(seglog_has(log, first) && seglog_has(log, last),
			      "record at %X/%X spans segments %llu-%llu", LSN_ARGS(rr->lsn),
			      (unsigned long long) first, (unsigned long long) last);
		ck_assert_msg(wal_reader_read_next(r, &rec, &err) == WAL_READ_OK, "%s", err.msg);
		expect_matches(rec, &ref, i + 1);
		if (rr->tot_len > ref.recs[biggest].tot_len)
			biggest = i;
		crossing++;
	}
	ck_assert_uint_gt(crossing, 3);
	/* The 2.5 MB logical message spans three segment files, one of them wholly. */
	ck_assert_msg(wal_reader_read_at(r, ref.recs[biggest].lsn, &rec, &err) == WAL_READ_OK, "%s",
		      err.msg);
	ck_assert_uint_eq(rec->rmid, WAL_RM_LOGICALMSG);
	ck_assert_uint_gt(rec->tot_len, 2 * info.seg_size);
	ck_assert_uint_gt(rec->main_data_len, 2560000);
	ck_assert_ptr_eq(rec->main_data + rec->main_data_len, rec->raw + rec->tot_len);
	wal_reader_close(r);
	free_ref(&ref);
	free(log);
}
END_TEST

START_TEST(switch_record_skips_the_rest_of_the_segment)
{
	struct fixture_info info;
	struct ref ref;
	struct wal_reader *r;
	const struct wal_record *rec;
	struct errbuf err;
	size_t i, switches = 0;

	load_info("a", &info);
	load_ref("a", &ref);
	r = open_reader("a", &info, NULL);
	for (i = 0; i + 1 < ref.n; i++) {
		if (strcmp(ref.recs[i].type, "SWITCH") != 0)
			continue;
		ck_assert_msg(wal_reader_read_at(r, ref.recs[i].lsn, &rec, &err) == WAL_READ_OK,
			      "%s", err.msg);
		ck_assert_uint_eq(rec->info & WAL_XLR_RMGR_INFO_MASK, WAL_XLOG_SWITCH);
		ck_assert_uint_eq(rec->end_lsn % info.seg_size, 0);
		ck_assert_uint_gt(rec->end_lsn, rec->lsn);
		ck_assert_msg(wal_reader_read_next(r, &rec, &err) == WAL_READ_OK, "%s", err.msg);
		expect_matches(rec, &ref, i + 1);
		ck_assert_uint_eq(rec->lsn % info.seg_size, WAL_LONG_PAGE_HEADER_SIZE);
		switches++;
	}
	ck_assert_uint_ge(switches, 2);
	wal_reader_close(r);
	free_ref(&ref);
}
END_TEST

/* --- damaged copies of the WAL ---------------------------------------------------------------- */

/*
 * A new scratch directory: under tests/run's work directory when there is one (so that a failed
 * test leaves nothing behind elsewhere), else under /tmp.
 */
static char *new_scratch_dir(void)
{
	const char *work = getenv("SEGRECOVER_CHECK_WORK");
	char *tmpl = xasprintf("%s/test_wal.XXXXXX", work && work[0] ? work : "/tmp");

	ck_assert_msg(mkdtemp(tmpl) != NULL, "cannot create a scratch directory %s", tmpl);
	return tmpl;
}

/*
 * A scratch pg_wal: links to the fixture's files, except SKIP (left out) and COPY (a real copy,
 * to be damaged). Returns the directory; remove it with drop_scratch().
 */
static char *make_scratch(const char *name, const char *skip_from, const char *copy)
{
	char *src = fixture_path(name, "/pg_wal");
	char *dir = new_scratch_dir();
	DIR *d = opendir(src);
	struct dirent *de;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		char *from, *to;

		if (de->d_name[0] == '.')
			continue;
		/* SKIP_FROM: leave out that file, or with a trailing '+' every file from it on. */
		if (skip_from) {
			size_t n = strlen(skip_from);

			bool from_on = skip_from[n - 1] == '+';

			if (from_on ? strlen(de->d_name) == WAL_FILE_NAME_LEN &&
					  strncmp(de->d_name, skip_from, 8) == 0 &&
					  strncmp(de->d_name, skip_from, n - 1) >= 0
				    : strcmp(de->d_name, skip_from) == 0)
				continue;
		}
		from = xasprintf("%s/%s", src, de->d_name);
		to = xasprintf("%s/%s", dir, de->d_name);
		if (copy && strcmp(de->d_name, copy) == 0) {
			char *cmd = xasprintf("cp '%s' '%s'", from, to);

			ck_assert_int_eq(system(cmd), 0);
			free(cmd);
		} else {
			ck_assert_int_eq(symlink(from, to), 0);
		}
		free(from);
		free(to);
	}
	closedir(d);
	free(src);
	return dir;
}

static void drop_scratch(char *dir)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	free(dir);
}

/* Overwrite LEN bytes at OFFSET of DIR/FILE. */
static void patch_file(const char *dir, const char *file, off_t offset, const void *data,
		       size_t len)
{
	char *path = xasprintf("%s/%s", dir, file);
	int fd = open(path, O_WRONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, data, len, offset), (ssize_t) len);
	close(fd);
	free(path);
}

static void segment_name_of(const struct fixture_info *info, lsn_t lsn,
			    char name[WAL_FILE_NAME_LEN + 1])
{
	wal_file_name(name, info->tli, lsn / info->seg_size, info->seg_size);
}

START_TEST(bad_crc_is_an_error_naming_the_record_and_file)
{
	struct fixture_info info;
	struct ref ref;
	struct wal_reader *r;
	const struct wal_record *rec;
	struct errbuf err;
	char seg[WAL_FILE_NAME_LEN + 1], lsn_text[32], *dir;
	size_t i, n;
	int status;
	uint8_t byte;

	load_info("a", &info);
	load_ref("a", &ref);
	/* A record in the middle that lies within one page. */
	for (i = ref.n / 2; i < ref.n; i++)
		if (ref.recs[i].tot_len >= 64 &&
		    ref.recs[i].lsn / WAL_BLCKSZ ==
			(ref.recs[i].lsn + ref.recs[i].tot_len) / WAL_BLCKSZ)
			break;
	ck_assert_uint_lt(i, ref.n);
	segment_name_of(&info, ref.recs[i].lsn, seg);
	dir = make_scratch("a", NULL, seg);
	{
		char *path = xasprintf("%s/%s", dir, seg);
		int fd = open(path, O_RDONLY);

		ck_assert_int_eq(
		    pread(fd, &byte, 1, (off_t) (ref.recs[i].lsn % info.seg_size + 40)), 1);
		close(fd);
		free(path);
	}
	byte ^= 0x20;
	patch_file(dir, seg, (off_t) (ref.recs[i].lsn % info.seg_size + 40), &byte, 1);

	r = open_reader_in(dir, &info, dir, NULL);
	n = decode_all(r, &ref, info.start, &status, &err);
	ck_assert_int_eq(status, WAL_READ_ERROR);
	ck_assert_uint_eq(n, i);
	snprintf(lsn_text, sizeof(lsn_text), "%X/%X", LSN_ARGS(ref.recs[i].lsn));
	ck_assert_msg(strstr(err.msg, lsn_text) && strstr(err.msg, seg) && strstr(err.msg, "CRC"),
		      "%s", err.msg);
	/* The same by random access. */
	ck_assert_int_eq(wal_reader_read_at(r, ref.recs[i].lsn, &rec, &err), WAL_READ_ERROR);
	ck_assert_msg(strstr(err.msg, lsn_text) && strstr(err.msg, seg), "%s", err.msg);
	wal_reader_close(r);
	drop_scratch(dir);
	free_ref(&ref);
}
END_TEST

/* Records that lie wholly before LIMIT. */
static size_t records_before(const struct ref *ref, lsn_t limit)
{
	size_t i;

	for (i = 0; i < ref->n; i++)
		if (ref->recs[i].lsn + ref->recs[i].tot_len > limit)
			break;
	return i;
}

static void check_damaged_page(bool zero_it)
{
	struct fixture_info info;
	struct ref ref;
	struct wal_reader *r;
	struct errbuf err;
	char seg[WAL_FILE_NAME_LEN + 1], *dir;
	lsn_t page;
	size_t n;
	int status;

	load_info("a", &info);
	load_ref("a", &ref);
	/* A page in the middle of the WAL, not a segment's first. */
	page = ref.recs[ref.n / 3].lsn;
	page -= page % WAL_BLCKSZ;
	if (page % info.seg_size == 0)
		page += WAL_BLCKSZ;
	segment_name_of(&info, page, seg);
	dir = make_scratch("a", NULL, seg);
	if (zero_it) {
		uint8_t zeros[WAL_BLCKSZ];

		memset(zeros, 0, sizeof(zeros));
		patch_file(dir, seg, (off_t) (page % info.seg_size), zeros, sizeof(zeros));
	} else {
		/* What a recycled segment holds: a page of an older segment. */
		lsn_t old = page - 4 * (lsn_t) info.seg_size;

		patch_file(dir, seg, (off_t) (page % info.seg_size + 8), &old, sizeof(old));
	}
	r = open_reader_in(dir, &info, dir, NULL);
	n = decode_all(r, &ref, info.start, &status, &err);
	ck_assert_msg(status == WAL_READ_END, "status %d: %s", status, err.msg);
	ck_assert_uint_eq(n, records_before(&ref, page));
	ck_assert_msg(strstr(err.msg, "end of WAL") && strstr(err.msg, seg) &&
			  strstr(err.msg, zero_it ? "never written" : "recycled"),
		      "%s", err.msg);
	wal_reader_close(r);
	drop_scratch(dir);
	free_ref(&ref);
}

START_TEST(recycled_page_is_the_end_of_wal)
{
	check_damaged_page(false);
}
END_TEST

START_TEST(unwritten_page_is_the_end_of_wal)
{
	check_damaged_page(true);
}
END_TEST

START_TEST(missing_segment_in_the_middle_is_an_error)
{
	struct fixture_info info;
	struct ref ref;
	struct wal_reader *r;
	struct errbuf err;
	char seg[WAL_FILE_NAME_LEN + 1], *dir;
	lsn_t seg_start;
	size_t n;
	int status;

	load_info("a", &info);
	load_ref("a", &ref);
	segment_name_of(&info, ref.recs[ref.n / 2].lsn, seg);
	seg_start = ref.recs[ref.n / 2].lsn - ref.recs[ref.n / 2].lsn % info.seg_size;
	dir = make_scratch("a", seg, NULL);
	r = open_reader_in(dir, &info, dir, NULL);
	n = decode_all(r, &ref, info.start, &status, &err);
	ck_assert_msg(status == WAL_READ_ERROR, "status %d: %s", status, err.msg);
	ck_assert_uint_eq(n, records_before(&ref, seg_start));
	ck_assert_msg(strstr(err.msg, seg) && strstr(err.msg, "missing"), "%s", err.msg);
	wal_reader_close(r);
	drop_scratch(dir);
	free_ref(&ref);
}
END_TEST

START_TEST(missing_segment_at_the_end_is_the_end_of_wal)
{
	struct fixture_info info;
	struct ref ref;
	struct wal_reader *r;
	struct errbuf err;
	char seg[WAL_FILE_NAME_LEN + 2], *dir;
	lsn_t seg_start;
	size_t n;
	int status;

	load_info("a", &info);
	load_ref("a", &ref);
	segment_name_of(&info, ref.recs[ref.n / 2].lsn, seg);
	seg_start = ref.recs[ref.n / 2].lsn - ref.recs[ref.n / 2].lsn % info.seg_size;
	strcat(seg, "+");
	dir = make_scratch("a", seg, NULL);
	seg[WAL_FILE_NAME_LEN] = '\0';
	r = open_reader_in(dir, &info, dir, NULL);
	n = decode_all(r, &ref, info.start, &status, &err);
	ck_assert_msg(status == WAL_READ_END, "status %d: %s", status, err.msg);
	ck_assert_uint_eq(n, records_before(&ref, seg_start));
	ck_assert_msg(strstr(err.msg, seg) && strstr(err.msg, "does not exist"), "%s", err.msg);
	wal_reader_close(r);
	drop_scratch(dir);
	free_ref(&ref);
}
END_TEST

START_TEST(rejects_wal_of_another_system)
{
	struct fixture_info info;
	struct wal_reader *r;
	const struct wal_record *rec;
	struct errbuf err;

	load_info("a", &info);
	info.system_identifier++;
	r = open_reader("a", &info, NULL);
	ck_assert_int_eq(wal_reader_read_at(r, info.start, &rec, &err), WAL_READ_ERROR);
	ck_assert_msg(strstr(err.msg, "different database system"), "%s", err.msg);
	wal_reader_close(r);

	/* Wrong segment size: the files are not of that size. */
	load_info("a", &info);
	info.seg_size *= 2;
	r = open_reader("a", &info, NULL);
	/* The file named for the segment of 2 MB number N is the 1 MB segment number N. */
	ck_assert_int_eq(
	    wal_reader_read_at(r, info.start / (info.seg_size / 2) * info.seg_size, &rec, &err),
	    WAL_READ_ERROR);
	ck_assert_msg(strstr(err.msg, "bytes, expected"), "%s", err.msg);
	wal_reader_close(r);
}
END_TEST

START_TEST(open_checks_its_options)
{
	struct timeline_history history;
	struct wal_reader_options opts;
	struct wal_reader *r = NULL;
	struct errbuf err;

	timeline_history_init_first(&history);
	memset(&opts, 0, sizeof(opts));
	opts.waldir = "/nonexistent/pg_wal";
	opts.history = &history;
	opts.seg_size = 16u << 20;
	ck_assert_int_eq(wal_reader_open(&opts, &r, &err), -1);
	ck_assert_msg(strstr(err.msg, "/nonexistent/pg_wal"), "%s", err.msg);
	opts.waldir = "/tmp";
	opts.seg_size = 3u << 20;
	ck_assert_int_eq(wal_reader_open(&opts, &r, &err), -1);
	ck_assert_msg(strstr(err.msg, "segment size"), "%s", err.msg);
	opts.seg_size = 1u << 20;
	ck_assert_int_eq(wal_reader_open(&opts, &r, &err), 0);
	ck_assert_uint_eq(wal_reader_seg_size(r), 1u << 20);
	wal_reader_close(r);
	timeline_history_release(&history);
	ck_assert_str_eq(wal_rmgr_name(WAL_RM_HEAP2), "Heap2");
	ck_assert_str_eq(wal_rmgr_name(WAL_RM_LOGICALMSG), "LogicalMessage");
	ck_assert_str_eq(wal_rmgr_name(22), "invalid");
	ck_assert_str_eq(wal_rmgr_name(200), "custom");
}
END_TEST

/* --- decoding crafted records ----------------------------------------------------------------- */

struct builder {
	uint8_t buf[4096];
	uint32_t len;
};

static void put(struct builder *b, const void *data, uint32_t len)
{
	memcpy(b->buf + b->len, data, len);
	b->len += len;
}

static void put8(struct builder *b, uint8_t v)
{
	put(b, &v, 1);
}

static void put16(struct builder *b, uint16_t v)
{
	put(b, &v, 2);
}

static void put32(struct builder *b, uint32_t v)
{
	put(b, &v, 4);
}

/* Header with xl_tot_len and xl_crc filled in by finish(). */
static void start_record(struct builder *b, uint8_t rmid, uint8_t info, uint32_t xid)
{
	uint64_t prev = 0x1000028;

	memset(b, 0, sizeof(*b));
	put32(b, 0);
	put32(b, xid);
	put(b, &prev, 8);
	put8(b, info);
	put8(b, rmid);
	put16(b, 0);
	put32(b, 0);
}

static void finish(struct builder *b)
{
	uint32_t crc;

	memcpy(b->buf, &b->len, 4);
	crc = wal_record_crc(b->buf, b->len);
	memcpy(b->buf + 20, &crc, 4);
}

START_TEST(decodes_crafted_records)
{
	struct builder b;
	struct wal_record rec;
	struct errbuf err;
	uint8_t image[100], data[7] = { 1, 2, 3, 4, 5, 6, 7 }, main_data[300];
	lsn_t lsn = 0x1234560;

	memset(image, 0xAB, sizeof(image));
	memset(main_data, 0xCD, sizeof(main_data));
	start_record(&b, WAL_RM_HEAP, 0x10, 777);
	/* block 0: compressed image with a hole, data, its own relation */
	put8(&b, 0);
	put8(&b, WAL_FORK_MAIN | WAL_BKPBLOCK_HAS_IMAGE | WAL_BKPBLOCK_HAS_DATA);
	put16(&b, sizeof(data));
	put16(&b, sizeof(image));
	put16(&b, 200); /* hole offset */
	put8(&b, WAL_BKPIMAGE_HAS_HOLE | WAL_BKPIMAGE_APPLY | WAL_BKPIMAGE_COMPRESS_LZ4);
	put16(&b, 1000); /* hole length, stored because compressed */
	put32(&b, 1663);
	put32(&b, 5);
	put32(&b, 16384);
	put32(&b, 42);
	/* block 3: same relation, vm fork, will_init, no data */
	put8(&b, 3);
	put8(&b, WAL_FORK_VM | WAL_BKPBLOCK_WILL_INIT | WAL_BKPBLOCK_SAME_REL);
	put16(&b, 0);
	put32(&b, 7);
	/* origin, top-level xid, long main data */
	put8(&b, 253);
	put16(&b, 9);
	put8(&b, 252);
	put32(&b, 555);
	put8(&b, 254);
	put32(&b, sizeof(main_data));
	put(&b, image, sizeof(image));
	put(&b, data, sizeof(data));
	put(&b, main_data, sizeof(main_data));
	finish(&b);

	ck_assert_msg(wal_record_decode(b.buf, b.len, lsn, &rec, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(rec.lsn, lsn);
	ck_assert_uint_eq(rec.end_lsn, lsn + ((b.len + 7) & ~7u));
	ck_assert_uint_eq(rec.xid, 777);
	ck_assert_uint_eq(rec.rmid, WAL_RM_HEAP);
	ck_assert_uint_eq(rec.info, 0x10);
	ck_assert_uint_eq(rec.prev, 0x1000028);
	ck_assert(rec.has_origin);
	ck_assert_uint_eq(rec.origin, 9);
	ck_assert_uint_eq(rec.toplevel_xid, 555);
	ck_assert_uint_eq(rec.nblocks, 2);
	ck_assert_uint_eq(rec.blocks[0].id, 0);
	ck_assert(rec.blocks[0].has_image && rec.blocks[0].apply_image);
	ck_assert_uint_eq(rec.blocks[0].image_len, sizeof(image));
	ck_assert_uint_eq(rec.blocks[0].hole_offset, 200);
	ck_assert_uint_eq(rec.blocks[0].hole_length, 1000);
	ck_assert(memcmp(rec.blocks[0].image, image, sizeof(image)) == 0);
	ck_assert_uint_eq(rec.blocks[0].data_len, sizeof(data));
	ck_assert(memcmp(rec.blocks[0].data, data, sizeof(data)) == 0);
	ck_assert_uint_eq(rec.blocks[0].rnode.rel, 16384);
	ck_assert_uint_eq(rec.blocks[0].blkno, 42);
	ck_assert_uint_eq(rec.blocks[1].id, 3);
	ck_assert_uint_eq(rec.blocks[1].fork, WAL_FORK_VM);
	ck_assert(rec.blocks[1].will_init && !rec.blocks[1].has_image);
	ck_assert_ptr_null(rec.blocks[1].data);
	ck_assert_uint_eq(rec.blocks[1].rnode.spc, 1663);
	ck_assert_uint_eq(rec.blocks[1].rnode.db, 5);
	ck_assert_uint_eq(rec.blocks[1].rnode.rel, 16384);
	ck_assert_uint_eq(rec.blocks[1].blkno, 7);
	ck_assert_uint_eq(rec.main_data_len, sizeof(main_data));
	ck_assert(memcmp(rec.main_data, main_data, sizeof(main_data)) == 0);

	/* An uncompressed image without hole is a whole block; short main data; no blocks at all. */
	start_record(&b, WAL_RM_XLOG, 0xB0, 0);
	put8(&b, 255);
	put8(&b, 3);
	put(&b, "abc", 3);
	finish(&b);
	ck_assert_msg(wal_record_decode(b.buf, b.len, lsn, &rec, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(rec.nblocks, 0);
	ck_assert_uint_eq(rec.main_data_len, 3);
	ck_assert(!rec.has_origin);

	/* A record with only a header. */
	start_record(&b, WAL_RM_XLOG, 0x20, 0);
	finish(&b);
	ck_assert_msg(wal_record_decode(b.buf, b.len, lsn, &rec, &err) == 0, "%s", err.msg);
	ck_assert_ptr_null(rec.main_data);
}
END_TEST

/* Each malformed body must be refused with a message naming the record's LSN. */
static void expect_decode_error(struct builder *b, const char *what)
{
	struct wal_record rec;
	struct errbuf err;

	finish(b);
	ck_assert_int_eq(wal_record_decode(b->buf, b->len, 0xABC0, &rec, &err), -1);
	ck_assert_msg(strstr(err.msg, "0/ABC0") && strstr(err.msg, what), "\"%s\" lacks \"%s\"",
		      err.msg, what);
}

static void block_header(struct builder *b, uint8_t id, uint8_t flags, uint16_t data_len)
{
	put8(b, id);
	put8(b, flags);
	put16(b, data_len);
}

START_TEST(refuses_malformed_records)
{
	struct builder b;

	/* Block ids must increase. */
	start_record(&b, WAL_RM_HEAP, 0, 1);
	block_header(&b, 2, 0, 0);
	put32(&b, 1), put32(&b, 2), put32(&b, 3), put32(&b, 4);
	block_header(&b, 1, 0, 0);
	put32(&b, 1), put32(&b, 2), put32(&b, 3), put32(&b, 4);
	expect_decode_error(&b, "out-of-order");

	/* SAME_REL on the first block. */
	start_record(&b, WAL_RM_HEAP, 0, 1);
	block_header(&b, 0, WAL_BKPBLOCK_SAME_REL, 0);
	put32(&b, 4);
	expect_decode_error(&b, "same-relation");

	/* HAS_DATA without data, and data without HAS_DATA. */
	start_record(&b, WAL_RM_HEAP, 0, 1);
	block_header(&b, 0, WAL_BKPBLOCK_HAS_DATA, 0);
	put32(&b, 1), put32(&b, 2), put32(&b, 3), put32(&b, 4);
	expect_decode_error(&b, "has-data");
	start_record(&b, WAL_RM_HEAP, 0, 1);
	block_header(&b, 0, 0, 2);
	put32(&b, 1), put32(&b, 2), put32(&b, 3), put32(&b, 4);
	put16(&b, 0);
	expect_decode_error(&b, "has-data");

	/* An id that is neither a block nor a known special. */
	start_record(&b, WAL_RM_HEAP, 0, 1);
	put8(&b, 40);
	expect_decode_error(&b, "invalid block id 40");

	/* Uncompressed image with a hole flag but whole-block length. */
	start_record(&b, WAL_RM_HEAP, 0, 1);
	block_header(&b, 0, WAL_BKPBLOCK_HAS_IMAGE, 0);
	put16(&b, 8192), put16(&b, 100), put8(&b, WAL_BKPIMAGE_HAS_HOLE | WAL_BKPIMAGE_APPLY);
	put32(&b, 1), put32(&b, 2), put32(&b, 3), put32(&b, 4);
	expect_decode_error(&b, "hole");

	/* Headers promise more payload than the record has. */
	start_record(&b, WAL_RM_HEAP, 0, 1);
	put8(&b, 255);
	put8(&b, 200);
	put(&b, "short", 5);
	expect_decode_error(&b, "invalid length");

	/* A fragment header cut short by the end of the record. */
	start_record(&b, WAL_RM_HEAP, 0, 1);
	block_header(&b, 0, 0, 0);
	put16(&b, 1663);
	expect_decode_error(&b, "invalid length");
}
END_TEST

/* --- synthetic segments: situations a healthy server does not leave behind ---------------------- */

#define SYN_SEG_SIZE (1u << 20)
#define SYN_SYSID 7000000000000000001ULL

/* A 1 MB segment being written, record by record, with the server's page layout. */
struct synth {
	uint8_t *buf;
	lsn_t base; /* LSN of the segment's first byte */
	lsn_t pos;  /* where the next record goes */
	lsn_t prev; /* xl_prev for the next record */
	uint32_t tli;
};

static void synth_page_header(struct synth *s, lsn_t page, uint16_t info, uint32_t rem_len)
{
	uint8_t *p = s->buf + (page - s->base);
	uint16_t magic = WAL_PAGE_MAGIC;

	if (page % SYN_SEG_SIZE == 0) {
		uint64_t sysid = SYN_SYSID;
		uint32_t seg = SYN_SEG_SIZE, blck = WAL_BLCKSZ;

		info |= 0x0002; /* XLP_LONG_HEADER */
		memcpy(p + 24, &sysid, 8);
		memcpy(p + 32, &seg, 4);
		memcpy(p + 36, &blck, 4);
	}
	memcpy(p, &magic, 2);
	memcpy(p + 2, &info, 2);
	memcpy(p + 4, &s->tli, 4);
	memcpy(p + 8, &page, 8);
	memcpy(p + 16, &rem_len, 4);
}

static void synth_init(struct synth *s, uint64_t segno)
{
	s->buf = xcalloc(1, SYN_SEG_SIZE);
	s->base = segno * SYN_SEG_SIZE;
	s->tli = 1;
	s->prev = s->base - 0x100;
	synth_page_header(s, s->base, 0, 0);
	s->pos = s->base + WAL_LONG_PAGE_HEADER_SIZE;
}

/* Lay BYTES down from s->pos on, continuing on new pages as the server does. */
static void synth_lay(struct synth *s, const uint8_t *bytes, uint32_t len)
{
	uint32_t done = 0;

	while (done < len) {
		uint32_t room = WAL_BLCKSZ - (uint32_t) (s->pos % WAL_BLCKSZ);
		uint32_t n = len - done < room ? len - done : room;

		memcpy(s->buf + (s->pos - s->base), bytes + done, n);
		done += n;
		s->pos += n;
		if (done < len) {
			synth_page_header(s, s->pos, 0x0001 /* XLP_FIRST_IS_CONTRECORD */,
					  len - done);
			s->pos += wal_page_header_size(s->pos, SYN_SEG_SIZE);
		}
	}
	s->pos = (s->pos + 7) & ~(lsn_t) 7;
	if (s->pos % WAL_BLCKSZ == 0) {
		synth_page_header(s, s->pos, 0, 0);
		s->pos += wal_page_header_size(s->pos, SYN_SEG_SIZE);
	}
}

/* A record with MAIN_LEN bytes of main data; returns its LSN. */
static lsn_t synth_record(struct synth *s, uint8_t rmid, uint8_t info, uint32_t main_len)
{
	uint32_t len =
	    WAL_RECORD_HEADER_SIZE + (main_len ? (main_len < 256 ? 2 : 5) : 0) + main_len;
	uint8_t *rec = xcalloc(1, len), *p = rec + WAL_RECORD_HEADER_SIZE;
	lsn_t lsn = s->pos;
	uint32_t crc, i;

	memcpy(rec, &len, 4);
	memcpy(rec + 8, &s->prev, 8);
	rec[16] = info;
	rec[17] = rmid;
	if (main_len > 0 && main_len < 256) {
		*p++ = 255;
		*p++ = (uint8_t) main_len;
	} else if (main_len > 0) {
		*p++ = 254;
		memcpy(p, &main_len, 4);
		p += 4;
	}
	for (i = 0; i < main_len; i++)
		p[i] = (uint8_t) (i * 7);
	crc = wal_record_crc(rec, len);
	memcpy(rec + 20, &crc, 4);
	synth_lay(s, rec, len);
	free(rec);
	s->prev = lsn;
	return lsn;
}

/* Write the segment into a new scratch directory; returns the directory. */
static char *synth_write(struct synth *s)
{
	char *dir = new_scratch_dir();
	char name[WAL_FILE_NAME_LEN + 1];
	char *path;
	int fd;

	wal_file_name(name, 1, s->base / SYN_SEG_SIZE, SYN_SEG_SIZE);
	path = xasprintf("%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, s->buf, SYN_SEG_SIZE), (ssize_t) SYN_SEG_SIZE);
	close(fd);
	free(path);
	free(s->buf);
	return dir;
}

static struct wal_reader *synth_reader(const char *dir)
{
	struct fixture_info info;

	memset(&info, 0, sizeof(info));
	info.seg_size = SYN_SEG_SIZE;
	info.tli = 1;
	info.system_identifier = SYN_SYSID;
	return open_reader_in(dir, &info, dir, NULL);
}

START_TEST(skips_a_record_overwritten_after_a_crash)
{
	struct synth s;
	struct wal_reader *r;
	const struct wal_record *rec;
	struct errbuf err;
	lsn_t first, aborted, page, overwrite, after;
	uint8_t torn[WAL_BLCKSZ];
	uint32_t len = 20000;
	char *dir;

	synth_init(&s, 5);
	first = synth_record(&s, WAL_RM_XLOG, 0x20, 10);
	/*
	 * The server crashed while writing a 20000-byte record: its first page made it to disk, the
	 * next did not. Recovery ended there and new WAL went to that next page, flagged
	 * XLP_FIRST_IS_OVERWRITE_CONTRECORD, starting with an OVERWRITE_CONTRECORD record.
	 */
	aborted = s.pos;
	memset(torn, 0x55, sizeof(torn));
	memcpy(torn, &len, 4);
	memcpy(torn + 8, &first, 8);
	torn[17] = WAL_RM_HEAP;
	page = aborted - aborted % WAL_BLCKSZ + WAL_BLCKSZ;
	memcpy(s.buf + (aborted - s.base), torn, page - aborted);
	synth_page_header(&s, page, 0x0008 /* XLP_FIRST_IS_OVERWRITE_CONTRECORD */, 0);
	s.pos = page + WAL_SHORT_PAGE_HEADER_SIZE;
	overwrite = synth_record(&s, WAL_RM_XLOG, 0xD0, 16);
	after = synth_record(&s, WAL_RM_XLOG, 0x20, 9000);
	dir = synth_write(&s);

	r = synth_reader(dir);
	ck_assert_msg(wal_reader_read_at(r, first, &rec, &err) == WAL_READ_OK, "%s", err.msg);
	ck_assert_uint_eq(rec->end_lsn, aborted);
	ck_assert_msg(wal_reader_read_next(r, &rec, &err) == WAL_READ_OK, "%s", err.msg);
	ck_assert_uint_eq(rec->lsn, overwrite);
	ck_assert_uint_eq(rec->prev, first);
	ck_assert_uint_eq(rec->info, 0xD0);
	ck_assert_msg(wal_reader_read_next(r, &rec, &err) == WAL_READ_OK, "%s", err.msg);
	ck_assert_uint_eq(rec->lsn, after);
	ck_assert_uint_eq(rec->main_data_len, 9000);
	ck_assert_int_eq(wal_reader_read_next(r, &rec, &err), WAL_READ_END);
	/* Asked for the aborted record itself, the reader gives the record that replaced it. */
	ck_assert_msg(wal_reader_read_at(r, aborted, &rec, &err) == WAL_READ_OK, "%s", err.msg);
	ck_assert_uint_eq(rec->lsn, overwrite);
	wal_reader_close(r);
	drop_scratch(dir);
}
END_TEST

/* Build a segment with three records, let DAMAGE spoil it, read it all: expect an error with WANT. */
static void synth_expect_error(void (*damage)(struct synth *s, lsn_t second, lsn_t third),
			       const char *want)
{
	struct synth s;
	struct wal_reader *r;
	const struct wal_record *rec;
	struct errbuf err;
	lsn_t first, second, third;
	int status;
	char *dir;

	synth_init(&s, 9);
	first = synth_record(&s, WAL_RM_XLOG, 0x20, 100);
	second = synth_record(&s, WAL_RM_HEAP, 0x00, 12000);
	third = synth_record(&s, WAL_RM_XLOG, 0x20, 100);
	damage(&s, second, third);
	dir = synth_write(&s);
	r = synth_reader(dir);
	status = wal_reader_read_at(r, first, &rec, &err);
	while (status == WAL_READ_OK)
		status = wal_reader_read_next(r, &rec, &err);
	ck_assert_msg(status == WAL_READ_ERROR, "status %d: %s", status, err.msg);
	ck_assert_msg(strstr(err.msg, want) && strstr(err.msg, "000000010000000000000009"),
		      "\"%s\" lacks \"%s\" or the file name", err.msg, want);
	wal_reader_close(r);
	drop_scratch(dir);
}

static void set_u16(struct synth *s, lsn_t at, uint16_t v)
{
	memcpy(s->buf + (at - s->base), &v, 2);
}

static void set_u32(struct synth *s, lsn_t at, uint32_t v)
{
	memcpy(s->buf + (at - s->base), &v, 4);
}

static lsn_t next_page(lsn_t lsn)
{
	return lsn - lsn % WAL_BLCKSZ + WAL_BLCKSZ;
}

static void damage_page_tli(struct synth *s, lsn_t second, lsn_t third)
{
	(void) third;
	set_u32(s, s->base + 4, 3);           /* first page: timeline 3 */
	set_u32(s, next_page(second) + 4, 2); /* the next: timeline 2, going back */
}

static void damage_info_bits(struct synth *s, lsn_t second, lsn_t third)
{
	(void) third;
	set_u16(s, next_page(second) + 2, 0x0041);
}

static void damage_contrecord_flag(struct synth *s, lsn_t second, lsn_t third)
{
	(void) third;
	set_u16(s, next_page(second) + 2, 0);
}

static void damage_rem_len(struct synth *s, lsn_t second, lsn_t third)
{
	(void) third;
	set_u32(s, next_page(second) + 16, 11000);
}

static void damage_rmid(struct synth *s, lsn_t second, lsn_t third)
{
	(void) second;
	s->buf[third - s->base + 17] = 77;
}

static void damage_prev(struct synth *s, lsn_t second, lsn_t third)
{
	lsn_t wrong = second - 8;

	memcpy(s->buf + (third - s->base) + 8, &wrong, 8);
}

static void damage_magic(struct synth *s, lsn_t second, lsn_t third)
{
	(void) third;
	set_u16(s, next_page(second), 0xD10D);
}

static void damage_length(struct synth *s, lsn_t second, lsn_t third)
{
	(void) second;
	set_u32(s, third, 0x7FFFFFFF);
}

START_TEST(reports_damaged_pages_and_headers)
{
	synth_expect_error(damage_page_tli, "out-of-sequence timeline ID 2");
	synth_expect_error(damage_info_bits, "invalid info bits 0041");
	synth_expect_error(damage_contrecord_flag, "no continuation flag");
	synth_expect_error(damage_rem_len, "invalid continuation length 11000");
	synth_expect_error(damage_rmid, "invalid resource manager ID 77");
	synth_expect_error(damage_prev, "incorrect prev-link");
	synth_expect_error(damage_magic, "invalid magic number D10D");
	synth_expect_error(damage_length, "impossible length");
}
END_TEST

static Suite *wal_suite(void)
{
	Suite *s = suite_create("wal");
	TCase *fixture = tcase_create("fixture");
	TCase *damaged = tcase_create("damaged");
	TCase *crafted = tcase_create("crafted");

	tcase_set_timeout(fixture, 120);
	tcase_add_test(fixture, decodes_primary_wal_like_pg_waldump);
	tcase_add_test(fixture, decodes_wal_across_a_timeline_switch);
	tcase_add_test(fixture, decodes_wal_across_two_timeline_switches);
	tcase_add_test(fixture, decodes_16mb_segments);
	tcase_add_test(fixture, fixture_covers_the_hard_cases);
	tcase_add_test(fixture, random_access_after_a_page_crossing_record);
	tcase_add_test(fixture, random_access_at_page_boundaries);
	tcase_add_test(fixture, reads_records_across_segment_boundaries);
	tcase_add_test(fixture, switch_record_skips_the_rest_of_the_segment);
	tcase_add_test(fixture, rejects_wal_of_another_system);
	suite_add_tcase(s, fixture);

	tcase_set_timeout(damaged, 120);
	tcase_add_test(damaged, bad_crc_is_an_error_naming_the_record_and_file);
	tcase_add_test(damaged, recycled_page_is_the_end_of_wal);
	tcase_add_test(damaged, unwritten_page_is_the_end_of_wal);
	tcase_add_test(damaged, missing_segment_in_the_middle_is_an_error);
	tcase_add_test(damaged, missing_segment_at_the_end_is_the_end_of_wal);
	suite_add_tcase(s, damaged);

	tcase_add_test(crafted, open_checks_its_options);
	tcase_add_test(crafted, decodes_crafted_records);
	tcase_add_test(crafted, refuses_malformed_records);
	tcase_add_test(crafted, skips_a_record_overwritten_after_a_crash);
	tcase_add_test(crafted, reports_damaged_pages_and_headers);
	suite_add_tcase(s, crafted);
	return s;
}

UNIT_MAIN(wal_suite)
