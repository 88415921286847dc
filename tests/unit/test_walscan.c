/*
 * Unit tests of walscan on the wal fixture: the last common checkpoint before the divergence of a
 * (old primary, timeline 1) and b (promoted, timeline 2), the forward walk with its exact end, the
 * classification of pg_rewind's special records. pg_waldump's output is the reference.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timeline.h"
#include "base/walreader.h"
#include "incremental/walscan.h"
#include "unit.h"
#include "xalloc.h"

/* Only call into check on failure in loops (each passing ck_assert costs a write). */
#define EXPECT(cond, ...)                          \
	do {                                       \
		if (!(cond))                       \
			ck_abort_msg(__VA_ARGS__); \
	} while (0)

/* What these tests need of pg_waldump's output: record starts, types, checkpoint contents. */
struct ref_record {
	lsn_t lsn;
	uint32_t tot_len;
	char rmgr[24];
	char type[40];
	bool has_rels; /* a commit/abort that drops relations ("rels:") */
	unsigned nblocks;
	lsn_t redo;   /* checkpoints only */
	uint32_t tli; /* checkpoints only */
};

struct ref {
	struct ref_record *recs;
	size_t n;
};

static lsn_t parse_lsn(const char *text)
{
	unsigned hi, lo;

	EXPECT(sscanf(text, "%X/%X", &hi, &lo) == 2, "not an LSN: \"%.40s\"", text);
	return ((lsn_t) hi << 32) | lo;
}

static void load_ref(const char *name, struct ref *ref)
{
	char *path = xasprintf("%s/wal/%s.waldump", unit_fixture_dir(), name);
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, alloc = 0;

	ck_assert_msg(f != NULL, "missing fixture %s: run tests/unit/fixtures/wal.sh", path);
	memset(ref, 0, sizeof(*ref));
	while (getline(&line, &cap, f) > 0) {
		struct ref_record *r;
		unsigned hi, lo;
		char *p;

		if (line[0] == '\t') {
			EXPECT(ref->n > 0, "block before a record");
			ref->recs[ref->n - 1].nblocks++;
			continue;
		}
		if (ref->n == alloc) {
			alloc = alloc ? 2 * alloc : 4096;
			ref->recs = xrealloc(ref->recs, alloc * sizeof(*ref->recs));
		}
		r = &ref->recs[ref->n++];
		memset(r, 0, sizeof(*r));
		EXPECT(
		    sscanf(
			line,
			"rmgr: %23s len (rec/tot): %*u/ %u, tx: %*u, lsn: %X/%X, prev %*X/%*X, desc: %39s",
			r->rmgr, &r->tot_len, &hi, &lo, r->type) == 5,
		    "cannot parse pg_waldump line: %.200s", line);
		r->lsn = ((lsn_t) hi << 32) | lo;
		r->has_rels = strstr(line, "; rels:") != NULL;
		if (strncmp(r->type, "CHECKPOINT_", 11) == 0) {
			p = strstr(line, "redo ");
			EXPECT(p != NULL, "checkpoint without redo: %.200s", line);
			r->redo = parse_lsn(p + 5);
			p = strstr(line, "; tli ");
			EXPECT(p != NULL, "checkpoint without tli: %.200s", line);
			r->tli = (uint32_t) strtoul(p + 6, NULL, 10);
		}
	}
	fclose(f);
	free(line);
	free(path);
	ck_assert_uint_gt(ref->n, 1000);
}

static struct ref_record *find_lsn(const struct ref *ref, lsn_t lsn)
{
	size_t lo = 0, hi = ref->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (ref->recs[mid].lsn < lsn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < ref->n && ref->recs[lo].lsn == lsn ? &ref->recs[lo] : NULL;
}

/* The last checkpoint record of the reference that starts before LIMIT. */
static const struct ref_record *last_checkpoint_before(const struct ref *ref, lsn_t limit)
{
	const struct ref_record *found = NULL;
	size_t i;

	for (i = 0; i < ref->n && ref->recs[i].lsn < limit; i++)
		if (strncmp(ref->recs[i].type, "CHECKPOINT_", 11) == 0)
			found = &ref->recs[i];
	ck_assert_ptr_nonnull(found);
	return found;
}

struct seglog {
	uint64_t segnos[1024];
	size_t n;
};

static void log_segment(void *arg, uint32_t tli, uint64_t segno, const char *path)
{
	struct seglog *log = arg;

	(void) tli;
	(void) path;
	if (log->n < 1024)
		log->segnos[log->n++] = segno;
}

static bool seglog_has(const struct seglog *log, uint64_t segno)
{
	size_t i;

	for (i = 0; i < log->n; i++)
		if (log->segnos[i] == segno)
			return true;
	return false;
}

static const uint32_t SEG_SIZE = 1u << 20;

static char *waldir_of(const char *cluster)
{
	return xasprintf("%s/wal/%s/pg_wal", unit_fixture_dir(), cluster);
}

static void load_history(const char *cluster, uint32_t tli, struct timeline_history *h)
{
	char *dir = waldir_of(cluster);
	struct errbuf err;

	ck_assert_msg(timeline_history_load(dir, tli, h, &err) == 0, "%s", err.msg);
	free(dir);
}

static struct wal_reader *reader_for(const char *cluster, uint32_t tli, struct seglog *log)
{
	struct timeline_history h;
	struct wal_reader_options opts;
	struct wal_reader *r;
	struct errbuf err;
	char *dir = waldir_of(cluster);

	load_history(cluster, tli, &h);
	memset(&opts, 0, sizeof(opts));
	opts.waldir = dir;
	opts.history = &h;
	opts.seg_size = SEG_SIZE;
	if (log) {
		opts.segment_opened = log_segment;
		opts.callback_arg = log;
	}
	ck_assert_msg(wal_reader_open(&opts, &r, &err) == 0, "%s", err.msg);
	timeline_history_release(&h);
	free(dir);
	return r;
}

/* The divergence of a (target, timeline 1) and b (source, timeline 2): b's switch point. */
static lsn_t divergence_a_b(void)
{
	struct timeline_history a, b;
	struct timeline_divergence d;
	struct errbuf err;

	load_history("a", 1, &a);
	load_history("b", 2, &b);
	ck_assert_msg(timeline_find_common_ancestor(&b, &a, &d, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(d.tli, 1);
	ck_assert_uint_ne(d.lsn, LSN_INVALID);
	timeline_history_release(&a);
	timeline_history_release(&b);
	return d.lsn;
}

static void expect_checkpoint(const struct walscan_checkpoint *got, const struct ref_record *want)
{
	ck_assert_msg(got->lsn == want->lsn,
		      "checkpoint at %X/%X, pg_waldump's last one is at %X/%X", LSN_ARGS(got->lsn),
		      LSN_ARGS(want->lsn));
	ck_assert_msg(got->redo == want->redo, "redo %X/%X, pg_waldump %X/%X", LSN_ARGS(got->redo),
		      LSN_ARGS(want->redo));
	ck_assert_uint_eq(got->tli, want->tli);
	ck_assert_int_eq(got->shutdown, strcmp(want->type, "CHECKPOINT_SHUTDOWN") == 0);
	ck_assert_uint_gt(got->end_lsn, got->lsn);
}

START_TEST(finds_last_checkpoint_before_divergence)
{
	struct ref ref;
	struct seglog log = { .n = 0 };
	struct wal_reader *r = reader_for("a", 1, &log);
	struct walscan_checkpoint cp;
	struct errbuf err;
	lsn_t div = divergence_a_b();
	const struct ref_record *want;

	load_ref("a", &ref);
	want = last_checkpoint_before(&ref, div);
	ck_assert_msg(walscan_find_last_checkpoint(r, div, &cp, &err) == 0, "%s", err.msg);
	expect_checkpoint(&cp, want);
	/* The segments it walked through are the ones to keep: from the checkpoint to the fork. */
	ck_assert(seglog_has(&log, want->lsn / SEG_SIZE));
	ck_assert(seglog_has(&log, div / SEG_SIZE));
	/* a's WAL goes on past the divergence (a kept writing), and the walk started there. */
	ck_assert_ptr_nonnull(find_lsn(&ref, div));
	wal_reader_close(r);
	free(ref.recs);
}
END_TEST

START_TEST(divergence_at_page_and_segment_boundaries)
{
	struct ref ref;
	struct wal_reader *r = reader_for("a", 1, NULL);
	struct walscan_checkpoint cp;
	const struct wal_record *rec;
	struct errbuf err;
	size_t i, page_cases = 0, segment_cases = 0;

	load_ref("a", &ref);
	/*
	 * A record that ends on a page boundary: the divergence point is that boundary, and the
	 * next record starts after the header. The checkpoint search must step over it.
	 */
	for (i = 1; i + 1 < ref.n; i++) {
		lsn_t end;

		ck_assert_msg(wal_reader_read_at(r, ref.recs[i].lsn, &rec, &err) == WAL_READ_OK,
			      "%s", err.msg);
		end = rec->end_lsn;
		if (end % WAL_BLCKSZ != 0)
			continue;
		ck_assert_uint_eq(ref.recs[i + 1].lsn, end + wal_page_header_size(end, SEG_SIZE));
		ck_assert_msg(walscan_find_last_checkpoint(r, end, &cp, &err) == 0, "%s", err.msg);
		expect_checkpoint(&cp, last_checkpoint_before(&ref, end));
		if (end % SEG_SIZE == 0)
			segment_cases++;
		else
			page_cases++;
	}
	/* Switch records end on segment boundaries; other records now and then on page ones. */
	ck_assert_uint_ge(segment_cases, 2);
	ck_assert_uint_ge(page_cases, 1);
	wal_reader_close(r);
	free(ref.recs);
}
END_TEST

START_TEST(checkpoint_at_the_divergence_point_is_not_common)
{
	struct ref ref;
	struct wal_reader *r = reader_for("a", 1, NULL);
	struct walscan_checkpoint cp;
	struct errbuf err;
	size_t i, tried = 0;

	load_ref("a", &ref);
	/* Diverging right where a checkpoint starts: that checkpoint is the target's own. */
	for (i = 0; i < ref.n; i++) {
		const struct ref_record *earlier;

		if (strcmp(ref.recs[i].type, "CHECKPOINT_ONLINE") != 0)
			continue;
		earlier = last_checkpoint_before(&ref, ref.recs[i].lsn);
		ck_assert_msg(walscan_find_last_checkpoint(r, ref.recs[i].lsn, &cp, &err) == 0,
			      "%s", err.msg);
		expect_checkpoint(&cp, earlier);
		/* Just after it, it is the one. */
		ck_assert_msg(walscan_find_last_checkpoint(r, ref.recs[i + 1].lsn, &cp, &err) == 0,
			      "%s", err.msg);
		expect_checkpoint(&cp, &ref.recs[i]);
		tried++;
	}
	ck_assert_uint_ge(tried, 3);
	wal_reader_close(r);
	free(ref.recs);
}
END_TEST

START_TEST(checkpoint_search_fails_without_wal_after_the_divergence)
{
	struct timeline_history b, c;
	struct timeline_divergence d;
	struct wal_reader *r = reader_for("b", 2, NULL);
	struct walscan_checkpoint cp;
	struct errbuf err;

	/* b stopped exactly where c forked: b is c's ancestor, there is nothing to search. */
	load_history("b", 2, &b);
	load_history("c", 3, &c);
	ck_assert_msg(timeline_find_common_ancestor(&c, &b, &d, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(walscan_find_last_checkpoint(r, d.lsn, &cp, &err), -1);
	ck_assert_msg(strstr(err.msg, "could not find") && strstr(err.msg, "end of WAL"), "%s",
		      err.msg);
	ck_assert_int_eq(walscan_find_last_checkpoint(r, LSN_INVALID, &cp, &err), -1);
	timeline_history_release(&b);
	timeline_history_release(&c);
	wal_reader_close(r);
}
END_TEST

static lsn_t controldata_lsn(const char *cluster, const char *label)
{
	char *path = xasprintf("%s/wal/%s.controldata", unit_fixture_dir(), cluster);
	FILE *f = fopen(path, "r");
	char line[256];
	size_t n = strlen(label);
	lsn_t value = LSN_INVALID;

	ck_assert_msg(f != NULL, "missing fixture %s", path);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, label, n) == 0 && line[n] == ':')
			value = parse_lsn(line + n + 1 + strspn(line + n + 1, " "));
	fclose(f);
	free(path);
	ck_assert_msg(value != LSN_INVALID, "no \"%s\" in %s.controldata", label, cluster);
	return value;
}

START_TEST(reads_the_end_of_the_control_file_checkpoint)
{
	struct ref ref;
	struct wal_reader *r = reader_for("a", 1, NULL);
	struct walscan_checkpoint cp;
	struct errbuf err;
	lsn_t at = controldata_lsn("a", "Latest checkpoint location");
	const struct ref_record *want;

	load_ref("a", &ref);
	want = find_lsn(&ref, at);
	ck_assert_ptr_nonnull(want);
	ck_assert_msg(walscan_read_checkpoint(r, at, &cp, &err) == 0, "%s", err.msg);
	expect_checkpoint(&cp, want);
	ck_assert(cp.shutdown);
	ck_assert_uint_eq(cp.redo, controldata_lsn("a", "Latest checkpoint's REDO location"));
	/* The last record of the WAL; it ends MAXALIGNed, on its own page here. */
	ck_assert_ptr_eq(want, &ref.recs[ref.n - 1]);
	ck_assert_uint_eq(cp.end_lsn, at + ((want->tot_len + 7) & ~7u));
	/* Not a checkpoint: refused. */
	ck_assert_int_eq(walscan_read_checkpoint(r, ref.recs[ref.n - 2].lsn, &cp, &err), -1);
	ck_assert_msg(strstr(err.msg, "not a checkpoint"), "%s", err.msg);
	/* Past the end: refused, not "end of WAL" silently. */
	ck_assert_int_eq(walscan_read_checkpoint(r, at + 0x100, &cp, &err), -1);
	wal_reader_close(r);
	free(ref.recs);
}
END_TEST

struct walk {
	const struct ref *ref;
	size_t next; /* index in ref of the record expected next */
	size_t records;
	size_t blocks;
	size_t file_level;
	size_t stop_after; /* 0: never */
};

static int count_record(const struct wal_record *rec, void *arg, struct errbuf *err)
{
	struct walk *w = arg;
	const struct ref_record *want = &w->ref->recs[w->next];

	EXPECT(w->next < w->ref->n && rec->lsn == want->lsn, "walk at %X/%X, expected %X/%X",
	       LSN_ARGS(rec->lsn), LSN_ARGS(want->lsn));
	EXPECT(rec->nblocks == want->nblocks, "record at %X/%X: %u blocks, pg_waldump %u",
	       LSN_ARGS(rec->lsn), rec->nblocks, want->nblocks);
	w->next++;
	w->records++;
	w->blocks += rec->nblocks;
	w->file_level += walscan_classify_record(rec) == WALSCAN_RECORD_FILE_LEVEL;
	if (w->stop_after && w->records == w->stop_after)
		return errbuf_set(err, "stopped by the callback at " LSN_FMT, LSN_ARGS(rec->lsn));
	return 0;
}

START_TEST(walks_forward_to_the_exact_end)
{
	struct ref ref;
	struct wal_reader *r = reader_for("a", 1, NULL);
	struct walscan_checkpoint start, last;
	struct walk w;
	struct errbuf err;
	lsn_t div = divergence_a_b();
	size_t i, want_blocks = 0, first;

	load_ref("a", &ref);
	/* pg_rewind: from the last common checkpoint to the end of the target's last checkpoint. */
	ck_assert_msg(walscan_find_last_checkpoint(r, div, &start, &err) == 0, "%s", err.msg);
	ck_assert_msg(walscan_read_checkpoint(r, controldata_lsn("a", "Latest checkpoint location"),
					      &last, &err) == 0,
		      "%s", err.msg);
	first = (size_t) (find_lsn(&ref, start.lsn) - ref.recs);
	for (i = first; i < ref.n; i++)
		want_blocks += ref.recs[i].nblocks;

	memset(&w, 0, sizeof(w));
	w.ref = &ref;
	w.next = first;
	ck_assert_msg(walscan_forward(r, start.lsn, last.end_lsn, count_record, &w, &err) == 0,
		      "%s", err.msg);
	ck_assert_uint_eq(w.records, ref.n - first);
	ck_assert_uint_eq(w.blocks, want_blocks);
	ck_assert_uint_gt(w.records, 1000);

	/* An end that is not a record boundary is an error naming it. */
	memset(&w, 0, sizeof(w));
	w.ref = &ref;
	w.next = first;
	ck_assert_int_eq(walscan_forward(r, start.lsn, last.end_lsn - 8, count_record, &w, &err),
			 -1);
	ck_assert_msg(strstr(err.msg, "not a valid end"), "%s", err.msg);
	/* An end beyond the WAL: the walk meets the end of WAL first. */
	memset(&w, 0, sizeof(w));
	w.ref = &ref;
	w.next = first;
	ck_assert_int_eq(
	    walscan_forward(r, start.lsn, last.end_lsn + 0x10000, count_record, &w, &err), -1);
	ck_assert_msg(strstr(err.msg, "end of WAL"), "%s", err.msg);
	/* The first record is always handed over, even when it already reaches the end. */
	memset(&w, 0, sizeof(w));
	w.ref = &ref;
	w.next = ref.n - 1;
	ck_assert_int_eq(walscan_forward(r, last.lsn, last.end_lsn, count_record, &w, &err), 0);
	ck_assert_uint_eq(w.records, 1);
	/* The callback can stop the walk. */
	memset(&w, 0, sizeof(w));
	w.ref = &ref;
	w.next = first;
	w.stop_after = 10;
	ck_assert_int_eq(walscan_forward(r, start.lsn, last.end_lsn, count_record, &w, &err), -1);
	ck_assert_msg(strstr(err.msg, "stopped by the callback"), "%s", err.msg);
	ck_assert_uint_eq(w.records, 10);
	wal_reader_close(r);
	free(ref.recs);
}
END_TEST

/* The kind pg_rewind gives a record, from pg_waldump's rmgr and record type names. */
static enum walscan_record_kind expected_kind(const struct ref_record *rr)
{
	if (strcmp(rr->rmgr, "Database") == 0 &&
	    (strcmp(rr->type, "CREATE_FILE_COPY") == 0 || strcmp(rr->type, "CREATE_WAL_LOG") == 0 ||
	     strcmp(rr->type, "DROP") == 0))
		return WALSCAN_RECORD_FILE_LEVEL;
	if (strcmp(rr->rmgr, "Storage") == 0 &&
	    (strcmp(rr->type, "CREATE") == 0 || strcmp(rr->type, "TRUNCATE") == 0))
		return WALSCAN_RECORD_FILE_LEVEL;
	if (strcmp(rr->rmgr, "Transaction") == 0 &&
	    (strcmp(rr->type, "COMMIT") == 0 || strcmp(rr->type, "ABORT") == 0 ||
	     strcmp(rr->type, "COMMIT_PREPARED") == 0 || strcmp(rr->type, "ABORT_PREPARED") == 0))
		return WALSCAN_RECORD_FILE_LEVEL;
	return WALSCAN_RECORD_BLOCKS;
}

START_TEST(classifies_the_special_records)
{
	struct ref ref;
	struct wal_reader *r = reader_for("a", 1, NULL);
	const struct wal_record *rec;
	struct errbuf err;
	size_t i;
	size_t file_copy = 0, wal_log = 0, db_drop = 0, smgr_create = 0, smgr_truncate = 0;
	size_t commit_drops = 0, special_flag = 0;
	int status;

	load_ref("a", &ref);
	status = wal_reader_read_at(r, ref.recs[0].lsn, &rec, &err);
	for (i = 0; status == WAL_READ_OK; i++) {
		const struct ref_record *rr = &ref.recs[i];
		enum walscan_record_kind kind = walscan_classify_record(rec);

		EXPECT(rec->lsn == rr->lsn, "at %X/%X, expected %X/%X", LSN_ARGS(rec->lsn),
		       LSN_ARGS(rr->lsn));
		EXPECT(kind == expected_kind(rr), "record at %X/%X (%s %s, info %02X): kind %d",
		       LSN_ARGS(rec->lsn), rr->rmgr, rr->type, rec->info, kind);
		special_flag += (rec->info & WAL_XLR_SPECIAL_REL_UPDATE) != 0;
		file_copy += rec->rmid == WAL_RM_DBASE && !strcmp(rr->type, "CREATE_FILE_COPY");
		wal_log += rec->rmid == WAL_RM_DBASE && !strcmp(rr->type, "CREATE_WAL_LOG");
		db_drop += rec->rmid == WAL_RM_DBASE && !strcmp(rr->type, "DROP");
		smgr_create += rec->rmid == WAL_RM_SMGR && !strcmp(rr->type, "CREATE");
		smgr_truncate += rec->rmid == WAL_RM_SMGR && !strcmp(rr->type, "TRUNCATE");
		commit_drops += rec->rmid == WAL_RM_XACT && rr->has_rels;
		/* Checkpoints: the type names and the info codes agree. */
		if (strcmp(rr->type, "CHECKPOINT_ONLINE") == 0)
			EXPECT(walscan_is_checkpoint(rec) && (rec->info & WAL_XLR_RMGR_INFO_MASK) ==
								 WAL_XLOG_CHECKPOINT_ONLINE,
			       "online checkpoint at %X/%X", LSN_ARGS(rec->lsn));
		else if (strcmp(rr->type, "CHECKPOINT_SHUTDOWN") == 0)
			EXPECT(walscan_is_checkpoint(rec) && (rec->info & WAL_XLR_RMGR_INFO_MASK) ==
								 WAL_XLOG_CHECKPOINT_SHUTDOWN,
			       "shutdown checkpoint at %X/%X", LSN_ARGS(rec->lsn));
		else
			EXPECT(!walscan_is_checkpoint(rec), "not a checkpoint at %X/%X",
			       LSN_ARGS(rec->lsn));
		status = wal_reader_read_next(r, &rec, &err);
	}
	ck_assert_msg(status == WAL_READ_END, "%s", err.msg);
	ck_assert_uint_eq(i, ref.n);
	/* The fixture holds each kind pg_rewind special-cases. */
	ck_assert_uint_ge(file_copy, 1);
	ck_assert_uint_ge(wal_log, 1);
	ck_assert_uint_ge(db_drop, 1);
	ck_assert_uint_ge(smgr_create, 1);
	ck_assert_uint_ge(smgr_truncate, 1);
	ck_assert_uint_ge(commit_drops, 1);
	/* In core only those records carry the special flag. */
	ck_assert_uint_ge(special_flag,
			  file_copy + wal_log + db_drop + smgr_create + smgr_truncate);
	wal_reader_close(r);
	free(ref.recs);
}
END_TEST

START_TEST(classifies_crafted_info_bytes)
{
	/* The recognised types, with and without flags in the low nibble. */
	ck_assert_int_eq(walscan_classify(WAL_RM_DBASE, 0x00 | 0x01), WALSCAN_RECORD_FILE_LEVEL);
	ck_assert_int_eq(walscan_classify(WAL_RM_DBASE, 0x10 | 0x01), WALSCAN_RECORD_FILE_LEVEL);
	ck_assert_int_eq(walscan_classify(WAL_RM_DBASE, 0x20 | 0x01), WALSCAN_RECORD_FILE_LEVEL);
	ck_assert_int_eq(walscan_classify(WAL_RM_SMGR, 0x10 | 0x01), WALSCAN_RECORD_FILE_LEVEL);
	ck_assert_int_eq(walscan_classify(WAL_RM_SMGR, 0x20 | 0x03), WALSCAN_RECORD_FILE_LEVEL);
	/* Transaction: only the op bits count; 0x80 is XLOG_XACT_HAS_INFO. */
	ck_assert_int_eq(walscan_classify(WAL_RM_XACT, 0x00), WALSCAN_RECORD_FILE_LEVEL);
	ck_assert_int_eq(walscan_classify(WAL_RM_XACT, 0x80), WALSCAN_RECORD_FILE_LEVEL);
	ck_assert_int_eq(walscan_classify(WAL_RM_XACT, 0x20 | 0x80), WALSCAN_RECORD_FILE_LEVEL);
	ck_assert_int_eq(walscan_classify(WAL_RM_XACT, 0x30), WALSCAN_RECORD_FILE_LEVEL);
	ck_assert_int_eq(walscan_classify(WAL_RM_XACT, 0x40 | 0x80), WALSCAN_RECORD_FILE_LEVEL);
	ck_assert_int_eq(walscan_classify(WAL_RM_XACT, 0x10), WALSCAN_RECORD_BLOCKS); /* PREPARE */
	ck_assert_int_eq(walscan_classify(WAL_RM_XACT, 0x50),
			 WALSCAN_RECORD_BLOCKS); /* ASSIGNMENT */
	/* Anything else with the special flag cannot be tracked by blocks. */
	ck_assert_int_eq(walscan_classify(WAL_RM_HEAP, 0x00 | 0x01), WALSCAN_RECORD_UNSUPPORTED);
	ck_assert_int_eq(walscan_classify(WAL_RM_XACT, 0x10 | 0x01), WALSCAN_RECORD_UNSUPPORTED);
	ck_assert_int_eq(walscan_classify(WAL_RM_SMGR, 0x30 | 0x01), WALSCAN_RECORD_UNSUPPORTED);
	ck_assert_int_eq(walscan_classify(WAL_RM_DBASE, 0x30 | 0x01), WALSCAN_RECORD_UNSUPPORTED);
	ck_assert_int_eq(walscan_classify(200, 0x01), WALSCAN_RECORD_UNSUPPORTED);
	/* Other flags do not matter: XLR_CHECK_CONSISTENCY. */
	ck_assert_int_eq(walscan_classify(WAL_RM_HEAP, 0x02), WALSCAN_RECORD_BLOCKS);
	ck_assert_int_eq(walscan_classify(WAL_RM_DBASE, 0x30), WALSCAN_RECORD_BLOCKS);
}
END_TEST

static Suite *walscan_suite(void)
{
	Suite *s = suite_create("walscan");
	TCase *tc = tcase_create("walscan");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, finds_last_checkpoint_before_divergence);
	tcase_add_test(tc, divergence_at_page_and_segment_boundaries);
	tcase_add_test(tc, checkpoint_at_the_divergence_point_is_not_common);
	tcase_add_test(tc, checkpoint_search_fails_without_wal_after_the_divergence);
	tcase_add_test(tc, reads_the_end_of_the_control_file_checkpoint);
	tcase_add_test(tc, walks_forward_to_the_exact_end);
	tcase_add_test(tc, classifies_the_special_records);
	tcase_add_test(tc, classifies_crafted_info_bytes);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(walscan_suite)
