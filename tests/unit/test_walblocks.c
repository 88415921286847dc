/*
 * Unit tests of blockset (the compact set of changed blocks) and of the walblocks helper on real
 * WAL (fixture wal/: a diverged pair a/b): the helper's bitmaps name exactly the main-fork blocks
 * a direct walk of the same records names, and it finds the last checkpoint before the
 * divergence in the source's copy of the common history as in the target's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/timeline.h"
#include "base/walreader.h"
#include "incremental/blockset.h"
#include "incremental/walblocks.h"
#include "incremental/walscan.h"
#include "unit.h"
#include "xalloc.h"

static const uint32_t SEG_SIZE = 1u << 20;

START_TEST(test_blockset)
{
	struct blockset a = BLOCKSET_INIT, b = BLOCKSET_INIT;
	uint64_t found = 0;

	for (uint32_t rel = 1; rel <= 5000; rel++) {
		blockset_add(&a, 1663, 5, rel, rel % 97);
		blockset_add(&a, 1663, 5, rel, rel % 97); /* twice: counted once */
		blockset_add(&a, 1663, 5, rel, 200000 + rel);
	}
	blockset_add(&a, 1663, 5, 0, 3); /* relfilenode 0 names no file */
	ck_assert_uint_eq(a.nrels, 5000);
	ck_assert_uint_eq(a.nblocks, 10000);
	for (size_t i = 0; i < a.nslots; i++) {
		const struct blockset_rel *r = blockset_slot(&a, i);

		if (r == NULL)
			continue;
		ck_assert(blockmap_has(&r->blocks, r->rel % 97) && blockmap_has(&r->blocks, 200000 + r->rel));
		found += r->blocks.count;
	}
	ck_assert_uint_eq(found, 10000);
	/* The same relation number in another database is another relation. */
	blockset_add(&b, 1663, 6, 1, 1);
	blockset_add(&b, 1663, 5, 1, 1 % 97);
	blockset_add(&b, 1663, 5, 1, 7);
	blockset_merge(&a, &b);
	ck_assert_uint_eq(a.nrels, 5001);
	ck_assert_uint_eq(a.nblocks, 10002);
	/* Compact: 5001 relations with blocks up to 205000 fit in well under 64 MB. */
	ck_assert_uint_lt(blockset_memory(&a), 256u << 20);
	/* b within a: all three of b's blocks are common; taking them out leaves the rest. */
	ck_assert(blockset_has(&a, 1663, 6, 1, 1) && !blockset_has(&a, 1663, 6, 1, 2) &&
		  !blockset_has(&a, 1663, 7, 1, 1));
	ck_assert_uint_eq(blockset_count_common(&a, &b), 3);
	ck_assert_uint_eq(blockset_count_common(&b, &a), 3);
	ck_assert_uint_eq(blockset_subtract(&a, &b), 3);
	ck_assert_uint_eq(a.nblocks, 9999);
	ck_assert(!blockset_has(&a, 1663, 5, 1, 7) && !blockset_has(&a, 1663, 5, 1, 1 % 97) &&
		  blockset_has(&a, 1663, 5, 1, 200001));
	ck_assert_uint_eq(blockset_subtract(&a, &b), 0);
	ck_assert_uint_eq(blockset_count_common(&a, &b), 0);
	ck_assert(blockset_insert(&b, 1663, 5, 1, 8) && !blockset_insert(&b, 1663, 5, 1, 8));
	blockset_free(&a);
	blockset_free(&b);
	ck_assert_uint_eq(a.nslots, 0);
}
END_TEST

static char *fixture(const char *what)
{
	return xasprintf("%s/wal/%s", unit_fixture_dir(), what);
}

static lsn_t divergence_a_b(void)
{
	struct timeline_history a, b;
	struct timeline_divergence d;
	struct errbuf err;
	char *wa = fixture("a/pg_wal"), *wb = fixture("b/pg_wal");

	ck_assert_msg(timeline_history_load(wa, 1, &a, &err) == 0, "%s", err.msg);
	ck_assert_msg(timeline_history_load(wb, 2, &b, &err) == 0, "%s", err.msg);
	ck_assert_msg(timeline_find_common_ancestor(&b, &a, &d, &err) == 0, "%s", err.msg);
	timeline_history_release(&a);
	timeline_history_release(&b);
	free(wa);
	free(wb);
	return d.lsn;
}

/* KEY's value in fixture X.info (a static buffer). */
static const char *info_value(const char *x, const char *key)
{
	static char value[256];
	char *path = xasprintf("%s/wal/%s.info", unit_fixture_dir(), x), line[256];
	FILE *f = fopen(path, "r");
	bool found = false;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		size_t k = strlen(key);

		if (strncmp(line, key, k) == 0 && line[k] == '=') {
			snprintf(value, sizeof(value), "%s", line + k + 1);
			value[strcspn(value, "\n")] = '\0';
			found = true;
		}
	}
	fclose(f);
	ck_assert_msg(found, "no %s= in %s", key, path);
	free(path);
	return value;
}

/* Run the helper next to fixture CLUSTER with ARGS in a child; read its answer. */
static int run_helper(const char *cluster, const char *const *args, struct walblocks_result *out,
		      struct errbuf *err)
{
	int fds[2], status, rc;
	pid_t pid;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char *dir = fixture(cluster);
		struct errbuf herr;

		close(fds[0]);
		_exit(walblocks_helper(dir, args, -1, fds[1], &herr) == 0 ? 0 : 1);
	}
	close(fds[1]);
	rc = walblocks_read(fds[0], 9, out, err);
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return rc;
}

/* A reader of fixture CLUSTER's WAL on timeline TLI (its history in *h, released by the caller). */
static struct wal_reader *open_reader(const char *cluster, uint32_t tli, struct timeline_history *h)
{
	char *dir = xasprintf("%s/wal/%s/pg_wal", unit_fixture_dir(), cluster);
	struct wal_reader_options wo;
	struct wal_reader *reader;
	struct errbuf err;

	ck_assert_msg(timeline_history_load(dir, tli, h, &err) == 0, "%s", err.msg);
	memset(&wo, 0, sizeof(wo));
	wo.waldir = dir;
	wo.history = h;
	wo.seg_size = SEG_SIZE;
	ck_assert_msg(wal_reader_open(&wo, &reader, &err) == 0, "%s", err.msg);
	free(dir);
	return reader;
}

struct walk {
	struct blockset blocks;
	uint64_t records;
};

static int collect(const struct wal_record *rec, void *arg, struct errbuf *err)
{
	struct walk *w = arg;

	(void) err;
	for (unsigned i = 0; i < rec->nblocks; i++)
		if (rec->blocks[i].fork == WAL_FORK_MAIN)
			blockset_add(&w->blocks, rec->blocks[i].rnode.spc, rec->blocks[i].rnode.db,
				     rec->blocks[i].rnode.rel, rec->blocks[i].blkno);
	w->records++;
	return 0;
}

START_TEST(test_helper_names_the_blocks_a_walk_names)
{
	lsn_t div = divergence_a_b();
	char from[64];
	const char *args[] = { from, "to=FFFFFFFF/FFFFFFFF", "to-or-end", "tli=2", "seg-size=1048576", NULL };
	struct walblocks_result res;
	struct errbuf err;
	struct timeline_history h;
	struct wal_reader *reader;
	struct walk w = { BLOCKSET_INIT, 0 };

	snprintf(from, sizeof(from), "from=" LSN_FMT, LSN_ARGS(div));
	ck_assert_msg(run_helper("b", args, &res, &err) == 0, "%s", err.msg);
	ck_assert(!res.unsupported && !res.have_checkpoint);
	ck_assert_uint_eq(res.start, div);
	ck_assert_uint_gt(res.records, 0);
	ck_assert_uint_gt(res.blocks.nblocks, 0);

	/* The reference: the same records walked here, from the divergence to where the helper stopped. */
	reader = open_reader("b", 2, &h);
	ck_assert_msg(walscan_forward(reader, div, res.end, collect, &w, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(w.records, res.records);
	ck_assert_uint_eq(w.blocks.nblocks, res.blocks.nblocks);
	ck_assert_uint_eq(w.blocks.nrels, res.blocks.nrels);
	for (size_t i = 0; i < w.blocks.nslots; i++) {
		const struct blockset_rel *r = blockset_slot(&w.blocks, i);
		uint32_t blk = 0;

		while (r != NULL && blockmap_next(&r->blocks, &blk)) {
			struct blockset probe = BLOCKSET_INIT;

			/* present in the helper's set: adding it there changes nothing */
			blockset_merge(&probe, &res.blocks);
			blockset_add(&probe, r->spc, r->db, r->rel, blk);
			ck_assert_uint_eq(probe.nblocks, res.blocks.nblocks);
			blockset_free(&probe);
			blk++;
			break; /* one per relation keeps the test fast; counts above cover the rest */
		}
	}
	wal_reader_close(reader);
	timeline_history_release(&h);
	blockset_free(&w.blocks);
	walblocks_release(&res);

	/* Up to a point: only records that start before it. */
	{
		char to[64];
		const char *args2[] = { from, to, "tli=2", "seg-size=1048576", NULL };
		struct walblocks_result part;

		snprintf(to, sizeof(to), "to=" LSN_FMT, LSN_ARGS(div + 4096));
		ck_assert_msg(run_helper("b", args2, &part, &err) == 0, "%s", err.msg);
		ck_assert_uint_ge(part.end, div + 4096);
		ck_assert_uint_lt(part.records, res.records);
		walblocks_release(&part);
	}
}
END_TEST

START_TEST(test_helper_finds_the_common_checkpoint)
{
	lsn_t div = divergence_a_b();
	char before[64];
	const char *args[] = { before, "to=FFFFFFFF/FFFFFFFF", "to-or-end", "tli=2", "seg-size=1048576", NULL };
	struct walblocks_result res;
	struct walscan_checkpoint target_view;
	struct timeline_history h;
	struct wal_reader *reader;
	struct errbuf err;

	snprintf(before, sizeof(before), "checkpoint-before=" LSN_FMT, LSN_ARGS(div));
	ck_assert_msg(run_helper("b", args, &res, &err) == 0, "%s", err.msg);
	ck_assert(res.have_checkpoint);
	ck_assert_uint_lt(res.checkpoint.lsn, div);
	ck_assert_uint_eq(res.start, res.checkpoint.lsn);
	/* The target (a) finds the same checkpoint in its own copy of the common history. */
	reader = open_reader("a", 1, &h);
	ck_assert_msg(walscan_find_last_checkpoint(reader, div, &target_view, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(target_view.lsn, res.checkpoint.lsn);
	ck_assert_uint_eq(target_view.redo, res.checkpoint.redo);
	wal_reader_close(reader);
	timeline_history_release(&h);
	walblocks_release(&res);
}
END_TEST

/* The reference for the cover: first references from the start on, classified as replay sees them. */
struct first_refs {
	struct blockset seen, covered;
	bool stopped;
	lsn_t stopped_at;
};

static int classify_first(const struct wal_record *rec, void *arg, struct errbuf *err)
{
	struct first_refs *f = arg;

	(void) err;
	if (!f->stopped && rec->rmid == WAL_RM_DBASE && (rec->info & 0xF0) == WAL_DBASE_CREATE_FILE_COPY) {
		f->stopped = true;
		f->stopped_at = rec->lsn;
	}
	for (unsigned i = 0; i < rec->nblocks && !f->stopped; i++) {
		const struct wal_block_ref *b = &rec->blocks[i];

		if (b->fork != WAL_FORK_MAIN || blockset_has(&f->seen, b->rnode.spc, b->rnode.db, b->rnode.rel, b->blkno))
			continue;
		blockset_add(&f->seen, b->rnode.spc, b->rnode.db, b->rnode.rel, b->blkno);
		if (b->will_init || (b->has_image && b->apply_image))
			blockset_add(&f->covered, b->rnode.spc, b->rnode.db, b->rnode.rel, b->blkno);
	}
	return 0;
}

START_TEST(test_helper_names_the_blocks_replay_restores_whole)
{
	lsn_t div = divergence_a_b();
	struct walscan_checkpoint common;
	struct timeline_history h;
	struct wal_reader *reader;
	struct walblocks_result res, plain;
	struct first_refs ref = { BLOCKSET_INIT, BLOCKSET_INIT, false, 0 };
	struct errbuf err;
	char from[64], cover[300], late[64];
	const char *args[] = { from, cover, "to=FFFFFFFF/FFFFFFFF", "to-or-end", "tli=2", "seg-size=1048576", NULL };
	const char *no_cover[] = { from, "to=FFFFFFFF/FFFFFFFF", "to-or-end", "tli=2", "seg-size=1048576", NULL };
	const char *after[] = { from, late, "to=FFFFFFFF/FFFFFFFF", "tli=2", "seg-size=1048576", NULL };

	/* The replay way starts at the last common checkpoint's redo (a's view of it). */
	reader = open_reader("a", 1, &h);
	ck_assert_msg(walscan_find_last_checkpoint(reader, div, &common, &err) == 0, "%s", err.msg);
	wal_reader_close(reader);
	timeline_history_release(&h);
	snprintf(from, sizeof(from), "from=" LSN_FMT, LSN_ARGS(div));
	snprintf(cover, sizeof(cover), "cover-from=" LSN_FMT, LSN_ARGS(common.redo));
	ck_assert_msg(run_helper("b", args, &res, &err) == 0, "%s", err.msg);
	ck_assert(res.have_cover && !res.unsupported && res.file_copy_lsn == LSN_INVALID);
	ck_assert_uint_eq(res.start, common.redo);
	ck_assert_uint_eq(res.cover_end, res.end);
	ck_assert_uint_gt(res.covered.nblocks, 0);

	/* The changed blocks are still those from the divergence on, as without the cover. */
	ck_assert_msg(run_helper("b", no_cover, &plain, &err) == 0, "%s", err.msg);
	ck_assert(!plain.have_cover && plain.covered.nblocks == 0);
	ck_assert_uint_eq(plain.blocks.nblocks, res.blocks.nblocks);
	ck_assert_uint_eq(blockset_count_common(&plain.blocks, &res.blocks), res.blocks.nblocks);

	/* Exactly the blocks whose first reference from the redo on is an applied image or an init. */
	reader = open_reader("b", 2, &h);
	ck_assert_msg(walscan_forward(reader, common.redo, res.end, classify_first, &ref, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(ref.covered.nblocks, res.covered.nblocks);
	ck_assert_uint_eq(blockset_count_common(&ref.covered, &res.covered), res.covered.nblocks);
	ck_assert(!ref.stopped);
	wal_reader_close(reader);
	timeline_history_release(&h);
	blockset_free(&ref.seen);
	blockset_free(&ref.covered);
	walblocks_release(&res);

	/*
	 * From b's first record on, the WAL holds a CREATE DATABASE by file copy, which copies the
	 * template's files as replay finds them: no first reference after it counts.
	 */
	snprintf(cover, sizeof(cover), "cover-from=%s", info_value("b", "start"));
	ck_assert_msg(run_helper("b", args, &res, &err) == 0, "%s", err.msg);
	ref = (struct first_refs){ BLOCKSET_INIT, BLOCKSET_INIT, false, 0 };
	reader = open_reader("b", 2, &h);
	ck_assert_msg(walscan_forward(reader, res.start, res.end, classify_first, &ref, &err) == 0, "%s", err.msg);
	ck_assert(ref.stopped && res.have_cover);
	ck_assert_uint_eq(res.cover_end, ref.stopped_at);
	ck_assert_uint_eq(res.file_copy_lsn, ref.stopped_at);
	ck_assert_uint_lt(res.cover_end, res.end);
	ck_assert_uint_eq(ref.covered.nblocks, res.covered.nblocks);
	ck_assert_uint_eq(blockset_count_common(&ref.covered, &res.covered), res.covered.nblocks);
	/* and the changed blocks are still only those from the divergence on */
	ck_assert_uint_eq(plain.blocks.nblocks, res.blocks.nblocks);
	wal_reader_close(reader);
	timeline_history_release(&h);
	blockset_free(&ref.seen);
	blockset_free(&ref.covered);
	walblocks_release(&plain);
	walblocks_release(&res);

	/* A cover that starts after the scan's own start is refused. */
	snprintf(late, sizeof(late), "cover-from=" LSN_FMT, LSN_ARGS(div + 8));
	ck_assert_int_eq(run_helper("b", after, &res, &err), -1);
	ck_assert_msg(strstr(err.msg, "cover-from=") != NULL, "%s", err.msg);
}
END_TEST

/* Every record's start, in WAL order: the reference for where slices begin. */
struct starts {
	lsn_t *lsn;
	size_t n, cap;
};

static int note_start(const struct wal_record *rec, void *arg, struct errbuf *err)
{
	struct starts *s = arg;

	(void) err;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 4096;
		s->lsn = xrealloc(s->lsn, s->cap * sizeof(*s->lsn));
	}
	s->lsn[s->n++] = rec->lsn;
	return 0;
}

START_TEST(test_first_record_in_each_segment)
{
	struct timeline_history h, hp;
	struct wal_reader *reader = open_reader("b", 2, &h), *probe = open_reader("b", 2, &hp);
	struct walblocks_result all;
	struct starts st = { NULL, 0, 0 };
	const char *args[] = { "from=0/900028", "to=FFFFFFFF/FFFFFFFF", "to-or-end", "tli=2",
			       "seg-size=1048576", NULL };
	struct errbuf err;
	size_t i = 0, checked = 0, continued = 0;

	ck_assert_msg(run_helper("b", args, &all, &err) == 0, "%s", err.msg);
	ck_assert_msg(walscan_forward(reader, all.start, all.end, note_start, &st, &err) == 0, "%s", err.msg);
	/* Each segment after the first: the first record a walk meets at or after its start. */
	for (lsn_t seg = all.start - all.start % SEG_SIZE + SEG_SIZE; seg < all.end; seg += SEG_SIZE) {
		const struct wal_record *rec;
		int status;

		while (i < st.n && st.lsn[i] < seg)
			i++;
		if (i == st.n)
			break;
		status = wal_reader_read_first_in_segment(probe, seg, &rec, &err);
		ck_assert_msg(status == WAL_READ_OK, "segment at " LSN_FMT ": %s", LSN_ARGS(seg), err.msg);
		ck_assert_msg(rec->lsn == st.lsn[i], "segment at " LSN_FMT ": found " LSN_FMT ", a walk " LSN_FMT,
			      LSN_ARGS(seg), LSN_ARGS(rec->lsn), LSN_ARGS(st.lsn[i]));
		ck_assert_uint_eq(rec->prev, st.lsn[i - 1]);
		/* and reading on follows the walk */
		ck_assert_int_eq(wal_reader_read_next(probe, &rec, &err), WAL_READ_OK);
		ck_assert_uint_eq(rec->lsn, st.lsn[i + 1]);
		checked++;
		if (st.lsn[i] > seg + 40) /* the long page header */
			continued++;
	}
	/* The fixture's records cross segment boundaries, so both cases are covered. */
	ck_assert_uint_ge(checked, 10);
	ck_assert_uint_ge(continued, 1);
	ck_assert_uint_lt(continued, checked);
	{
		const struct wal_record *rec;

		/* Only a segment's start is a place to start a slice. */
		ck_assert_int_eq(wal_reader_read_first_in_segment(probe, SEG_SIZE * 9 + 8192, &rec, &err),
				 WAL_READ_ERROR);
	}
	free(st.lsn);
	wal_reader_close(reader);
	wal_reader_close(probe);
	timeline_history_release(&h);
	timeline_history_release(&hp);
	walblocks_release(&all);
}
END_TEST

/* The same findings, whether scanned in one piece or in slices at once. */
static void assert_same_result(const struct walblocks_result *a, const struct walblocks_result *b,
			       const char *what)
{
	ck_assert_msg(a->start == b->start && a->end == b->end && a->records == b->records,
		      "%s: start " LSN_FMT "/" LSN_FMT ", end " LSN_FMT "/" LSN_FMT ", records %llu/%llu",
		      what, LSN_ARGS(a->start), LSN_ARGS(b->start), LSN_ARGS(a->end), LSN_ARGS(b->end),
		      (unsigned long long) a->records, (unsigned long long) b->records);
	ck_assert_msg(a->blocks.nblocks == b->blocks.nblocks &&
			      blockset_count_common(&a->blocks, &b->blocks) == a->blocks.nblocks,
		      "%s: %llu and %llu blocks", what, (unsigned long long) a->blocks.nblocks,
		      (unsigned long long) b->blocks.nblocks);
	ck_assert_msg(a->have_cover == b->have_cover && a->cover_end == b->cover_end &&
			      a->file_copy_lsn == b->file_copy_lsn,
		      "%s: cover end " LSN_FMT "/" LSN_FMT ", file copy " LSN_FMT "/" LSN_FMT, what,
		      LSN_ARGS(a->cover_end), LSN_ARGS(b->cover_end), LSN_ARGS(a->file_copy_lsn),
		      LSN_ARGS(b->file_copy_lsn));
	ck_assert_msg(a->covered.nblocks == b->covered.nblocks &&
			      blockset_count_common(&a->covered, &b->covered) == a->covered.nblocks,
		      "%s: %llu and %llu covered blocks", what, (unsigned long long) a->covered.nblocks,
		      (unsigned long long) b->covered.nblocks);
	ck_assert_msg(a->unsupported == b->unsupported && a->unsupported_lsn == b->unsupported_lsn,
		      "%s: unsupported", what);
	ck_assert_msg(a->have_checkpoint == b->have_checkpoint && a->checkpoint.lsn == b->checkpoint.lsn,
		      "%s: checkpoint", what);
}

START_TEST(test_helper_scans_in_slices_as_in_one_piece)
{
	lsn_t div = divergence_a_b();
	struct walscan_checkpoint common;
	struct timeline_history h;
	struct wal_reader *reader;
	char from[64], cover_redo[64], cover_start[64], before[64], to[64], workers[32], cover_mid[4][64];
	const char *start = info_value("b", "start");
	struct walblocks_result end_of_wal;
	struct errbuf err;
	const char *to_end[] = { from, "to=FFFFFFFF/FFFFFFFF", "to-or-end", "tli=2", "seg-size=1048576", NULL };

	reader = open_reader("a", 1, &h);
	ck_assert_msg(walscan_find_last_checkpoint(reader, div, &common, &err) == 0, "%s", err.msg);
	wal_reader_close(reader);
	timeline_history_release(&h);
	snprintf(from, sizeof(from), "from=" LSN_FMT, LSN_ARGS(div));
	snprintf(cover_redo, sizeof(cover_redo), "cover-from=" LSN_FMT, LSN_ARGS(common.redo));
	snprintf(cover_start, sizeof(cover_start), "cover-from=%s", start);
	snprintf(before, sizeof(before), "checkpoint-before=" LSN_FMT, LSN_ARGS(div));
	/* A real end, so that the slices lie inside the WAL. */
	ck_assert_msg(run_helper("b", to_end, &end_of_wal, &err) == 0, "%s", err.msg);
	snprintf(to, sizeof(to), "to=" LSN_FMT, LSN_ARGS(end_of_wal.end));
	walblocks_release(&end_of_wal);
	/*
	 * Covers that start between checkpoints: a block first referenced without an image in one
	 * slice and with one after the next checkpoint, in a later slice, is not covered.
	 */
	{
		struct starts st = { NULL, 0, 0 };
		struct walblocks_result all;
		char from_start[64];
		const char *whole[] = { from_start, to, "tli=2", "seg-size=1048576", NULL };

		snprintf(from_start, sizeof(from_start), "from=%s", start);
		ck_assert_msg(run_helper("b", whole, &all, &err) == 0, "%s", err.msg);
		reader = open_reader("b", 2, &h);
		ck_assert_msg(walscan_forward(reader, all.start, all.end, note_start, &st, &err) == 0, "%s", err.msg);
		wal_reader_close(reader);
		timeline_history_release(&h);
		for (size_t k = 0; k < 4; k++) {
			lsn_t at = st.lsn[st.n * (k == 0 ? 10 : k * 20 + 20) / 100];

			ck_assert_uint_le(at, div);
			snprintf(cover_mid[k], sizeof(cover_mid[k]), "cover-from=" LSN_FMT, LSN_ARGS(at));
		}
		free(st.lsn);
		walblocks_release(&all);
	}
	{
		/* changed blocks only; a cover from the common redo; one stopped by the fixture's
		 * CREATE DATABASE by file copy; the common checkpoint first; the WAL's own end;
		 * covers from 10, 40, 60 and 80 % of the way through the fixture's records */
		const char *cases[][8] = {
			{ from, to, "tli=2", "seg-size=1048576", workers, NULL },
			{ from, cover_redo, to, "tli=2", "seg-size=1048576", workers, NULL },
			{ from, cover_start, to, "tli=2", "seg-size=1048576", workers, NULL },
			{ before, to, "tli=2", "seg-size=1048576", workers, NULL },
			{ from, "to=0/7FFFFFF", "to-or-end", "tli=2", "seg-size=1048576", workers, NULL },
			{ from, cover_mid[0], to, "tli=2", "seg-size=1048576", workers, NULL },
			{ from, cover_mid[1], to, "tli=2", "seg-size=1048576", workers, NULL },
			{ from, cover_mid[2], to, "tli=2", "seg-size=1048576", workers, NULL },
			{ from, cover_mid[3], to, "tli=2", "seg-size=1048576", workers, NULL },
		};
		for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
			struct walblocks_result one, sliced;

			snprintf(workers, sizeof(workers), "workers=1");
			ck_assert_msg(run_helper("b", cases[c], &one, &err) == 0, "case %zu: %s", c, err.msg);
			ck_assert_uint_gt(one.records, 0);
			ck_assert_uint_eq(one.slices, 1);
			for (unsigned n = 2; n <= 4; n++) {
				char what[64];

				snprintf(workers, sizeof(workers), "workers=%u", n);
				snprintf(what, sizeof(what), "case %zu, %u slices", c, n);
				ck_assert_msg(run_helper("b", cases[c], &sliced, &err) == 0, "%s: %s", what, err.msg);
				assert_same_result(&one, &sliced, what);
				/* in slices indeed, not in one piece after slices that did not meet */
				ck_assert_msg(sliced.slices >= 2, "%s: scanned in %u", what, sliced.slices);
				walblocks_release(&sliced);
			}
			if (c == 2)
				ck_assert(one.file_copy_lsn != LSN_INVALID && one.cover_end < one.end);
			walblocks_release(&one);
		}
	}
}
END_TEST

START_TEST(test_helper_refuses_bad_arguments)
{
	const char *no_seg[] = { "from=0/1000000", "to=0/2000000", "tli=2", NULL };
	const char *odd[] = { "from=0/1000000", "to=0/2000000", "tli=2", "seg-size=1000", "bogus", NULL };
	struct walblocks_result res;
	struct errbuf err;

	ck_assert_int_eq(run_helper("b", no_seg, &res, &err), -1);
	ck_assert_msg(strstr(err.msg, "seg-size=") != NULL, "%s", err.msg);
	ck_assert_int_eq(run_helper("b", odd, &res, &err), -1);
	ck_assert_msg(strstr(err.msg, "unknown argument \"bogus\"") != NULL, "%s", err.msg);
}
END_TEST

static Suite *walblocks_suite(void)
{
	Suite *s = suite_create("walblocks");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_blockset);
	tcase_add_test(tc, test_helper_names_the_blocks_a_walk_names);
	tcase_add_test(tc, test_helper_finds_the_common_checkpoint);
	tcase_add_test(tc, test_helper_names_the_blocks_replay_restores_whole);
	tcase_add_test(tc, test_helper_refuses_bad_arguments);
	tcase_add_test(tc, test_first_record_in_each_segment);
	tcase_add_test(tc, test_helper_scans_in_slices_as_in_one_piece);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(walblocks_suite)
