#include "incremental/walblocks.h"

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "base/timeline.h"
#include "base/walreader.h"
#include "base/wire.h"
#include "crc32c.h"
#include "fsutil.h"
#include "pgconn.h"
#include "xalloc.h"

/* Frames from the helper (base/wire). */
enum {
	FRAME_CHECKPOINT = 'C', /* u64 lsn, u64 redo, u32 tli, u8 shutdown */
	FRAME_RELATION = 'R',   /* u32 spc, u32 db, u32 rel, u32 first byte, bitmap bytes */
	FRAME_UNSUPPORTED = 'U',/* u64 lsn, u8 rmid, u8 info */
	FRAME_COVERED = 'V',    /* as R: the blocks replay restores whole on first reference */
	FRAME_COVER_END = 'W',  /* u64 lsn (first references before it count), u64 file copy lsn */
	FRAME_DONE = 'Z',       /* u64 start, u64 end, u64 records, u64 peak kB, u32 slices */
	FRAME_ERROR = 'X',      /* the message */
};

#define ARG_FROM "from="
#define ARG_CHECKPOINT_BEFORE "checkpoint-before="
#define ARG_TO "to="
#define ARG_COVER_FROM "cover-from="
#define ARG_TO_OR_END "to-or-end"
#define ARG_TLI "tli="
#define ARG_SEG_SIZE "seg-size="
#define ARG_SYSID "sysid="
#define ARG_WORKERS "workers="

/*
 * A scan of much WAL is split into slices scanned at once: a cold scan waits on reading the
 * files into the page cache, a kernel's work done on the reading CPU, so two readers go almost
 * twice as fast on two CPUs (2.2 GB of WAL: 3.0-3.6 s in one, 1.6-1.9 s in two).
 */
#define MAX_WORKERS 4
#define MIN_SLICE_BYTES ((lsn_t) 64 << 20)

/* ---------------------------------------------------------------------------------------- */
/* The helper, next to the source data */


struct scan {
	struct blockset blocks;
	/* With a cover: blocks referenced since cover_from, and those first referenced whole. */
	bool cover;
	struct blockset seen, covered;
	lsn_t cover_end;
	lsn_t file_copy_lsn; /* the first CREATE DATABASE by file copy from cover_from on */
	uint64_t records;
	lsn_t start, end;
	/* The first record's xl_prev and the last record noted: where slices of a split scan meet. */
	lsn_t first_prev, last_lsn;
	uint32_t slices; /* how many slices it was scanned in, at once (1: in one piece) */
	bool unsupported;
	lsn_t bad_lsn;
	uint8_t bad_rmid, bad_info;
};

static bool take_lsn(const char *arg, const char *prefix, lsn_t *out)
{
	unsigned long long v;

	if (strncmp(arg, prefix, strlen(prefix)) != 0 || !pg_parse_lsn(arg + strlen(prefix), &v))
		return false;
	*out = (lsn_t) v;
	return true;
}

static int parse_args(const char *const *args, struct walblocks_request *req, struct errbuf *err)
{
	memset(req, 0, sizeof(*req));
	for (size_t i = 0; args && args[i]; i++) {
		const char *a = args[i];

		if (take_lsn(a, ARG_FROM, &req->from) || take_lsn(a, ARG_CHECKPOINT_BEFORE, &req->checkpoint_before) ||
		    take_lsn(a, ARG_TO, &req->to) ||
		    take_lsn(a, ARG_COVER_FROM, &req->cover_from))
			continue;
		if (strcmp(a, ARG_TO_OR_END) == 0)
			req->to_or_end = true;
		else if (strncmp(a, ARG_TLI, strlen(ARG_TLI)) == 0 && atol(a + strlen(ARG_TLI)) > 0)
			req->tli = (uint32_t) atol(a + strlen(ARG_TLI));
		else if (strncmp(a, ARG_SEG_SIZE, strlen(ARG_SEG_SIZE)) == 0)
			req->seg_size = (uint32_t) strtoul(a + strlen(ARG_SEG_SIZE), NULL, 10);
		else if (strncmp(a, ARG_WORKERS, strlen(ARG_WORKERS)) == 0 &&
			 atoi(a + strlen(ARG_WORKERS)) >= 1 && atoi(a + strlen(ARG_WORKERS)) <= MAX_WORKERS)
			req->workers = (unsigned) atoi(a + strlen(ARG_WORKERS));
		else if (strncmp(a, ARG_SYSID, strlen(ARG_SYSID)) == 0)
			req->system_identifier = strtoull(a + strlen(ARG_SYSID), NULL, 10);
		else
			return errbuf_set(err, "unknown argument \"%s\" of the incremental helper", a);
	}
	if ((req->from == LSN_INVALID) == (req->checkpoint_before == LSN_INVALID) || req->to == LSN_INVALID ||
	    req->tli == 0 || req->seg_size == 0 || (req->seg_size & (req->seg_size - 1)) != 0)
		return errbuf_set(err, "the incremental helper needs from= or checkpoint-before=, to=, tli= "
				       "and seg-size= (a power of two)");
	if (req->cover_from != LSN_INVALID && (req->from == LSN_INVALID || req->cover_from > req->from))
		return errbuf_set(err, "the incremental helper's cover-from= must come with from= and not "
				       "after it");
	return 0;
}

/*
 * Does replay from the cover's start read pages outside REC's block references (CREATE DATABASE
 * copies the template's files as they are then)? From there on, no first reference counts.
 */
static bool reads_other_pages(const struct wal_record *rec)
{
	return rec->rmid == WAL_RM_DBASE &&
	       (rec->info & WAL_XLR_RMGR_INFO_MASK) == WAL_DBASE_CREATE_FILE_COPY;
}

/* No first reference at or after LSN counts for the cover. */
static void stop_cover(struct scan *sc, lsn_t lsn)
{
	if (sc->cover) {
		sc->cover = false;
		sc->cover_end = lsn;
	}
}

/* The block references of REC into SC: changed ones from REQ->from on, first ones for the cover. */
static void note_record(const struct wal_record *rec, const struct walblocks_request *req,
			struct scan *sc)
{
	bool changed = rec->lsn >= req->from;

	for (unsigned i = 0; i < rec->nblocks; i++) {
		const struct wal_block_ref *b = &rec->blocks[i];
		const struct wal_relfilenode *n = &b->rnode;

		if (b->fork != WAL_FORK_MAIN)
			continue;
		if (changed)
			blockset_add(&sc->blocks, n->spc, n->db, n->rel, b->blkno);
		if (sc->cover && blockset_insert(&sc->seen, n->spc, n->db, n->rel, b->blkno) &&
		    (b->will_init || (b->has_image && b->apply_image)))
			blockset_add(&sc->covered, n->spc, n->db, n->rel, b->blkno);
	}
}

static int scan_from(struct wal_reader *reader, const struct walblocks_request *req, lsn_t start,
		     int status, const struct wal_record *rec, struct scan *sc, struct errbuf *err);

/*
 * Records from START while they begin before REQ->to; the blocks into SC. After a record whose
 * blocks are unknown the blocks way is out; with a cover the scan goes on, only to find a
 * database copied from its template's files, which rules the replay way out too.
 */
static int scan_records(struct wal_reader *reader, const struct walblocks_request *req, lsn_t start,
			struct scan *sc, struct errbuf *err)
{
	const struct wal_record *rec;
	int status = wal_reader_read_at(reader, start, &rec, err);

	return scan_from(reader, req, start, status, rec, sc, err);
}

/* scan_records from STATUS and REC, the first record read at START (or the failure to read it). */
static int scan_from(struct wal_reader *reader, const struct walblocks_request *req, lsn_t start,
		     int status, const struct wal_record *rec, struct scan *sc, struct errbuf *err)
{
	sc->start = start;
	sc->end = start;
	sc->slices = 1;
	if (status == WAL_READ_OK)
		sc->first_prev = rec->prev;
	while (status == WAL_READ_OK && rec->lsn < req->to) {
		sc->last_lsn = rec->lsn;
		if (!sc->unsupported && walscan_classify_record(rec) == WALSCAN_RECORD_UNSUPPORTED) {
			sc->unsupported = true;
			sc->bad_lsn = rec->lsn;
			sc->bad_rmid = rec->rmid;
			sc->bad_info = rec->info;
			stop_cover(sc, rec->lsn);
			if (req->cover_from == LSN_INVALID)
				return 0;
		}
		if (reads_other_pages(rec)) {
			if (sc->file_copy_lsn == LSN_INVALID)
				sc->file_copy_lsn = rec->lsn;
			stop_cover(sc, rec->lsn);
		}
		if (!sc->unsupported) {
			note_record(rec, req, sc);
			sc->records++;
			sc->end = rec->end_lsn;
		}
		if (rec->end_lsn >= req->to)
			break;
		status = wal_reader_read_next(reader, &rec, err);
	}
	if (status == WAL_READ_ERROR || (status == WAL_READ_END && !req->to_or_end))
		return errbuf_prefix(err, "the source's WAL from " LSN_FMT " to " LSN_FMT, LSN_ARGS(start),
				     LSN_ARGS(req->to));
	if (sc->cover)
		sc->cover_end = sc->end;
	return 0;
}

/* One slice of a split scan: records from the first one at or after FROM (a segment's start;
 * the scan's own start for the first) while they begin before its request's TO. */
struct slice {
	const char *waldir;
	const struct timeline_history *hist;
	struct walblocks_request req;
	lsn_t from;
	bool first;
	struct scan sc;
	bool empty;    /* no record starts in the slice */
	bool at_end;   /* the WAL ended in it, before its TO */
	int rc;
	struct errbuf err;
	pthread_t thread;
	bool started;
};

static void scan_free(struct scan *sc)
{
	blockset_free(&sc->blocks);
	blockset_free(&sc->seen);
	blockset_free(&sc->covered);
}

static void *scan_slice(void *arg)
{
	struct slice *s = arg;
	struct wal_reader_options wo = { .waldir = s->waldir, .history = s->hist,
					 .seg_size = s->req.seg_size,
					 .system_identifier = s->req.system_identifier };
	struct wal_reader *reader = NULL;
	const struct wal_record *rec = NULL;
	int status;

	s->rc = wal_reader_open(&wo, &reader, &s->err);
	if (s->rc != 0)
		return NULL;
	status = s->first ? wal_reader_read_at(reader, s->from, &rec, &s->err)
			  : wal_reader_read_first_in_segment(reader, s->from, &rec, &s->err);
	if (status == WAL_READ_END || (status == WAL_READ_OK && rec->lsn >= s->req.to)) {
		s->empty = true;
		s->at_end = status == WAL_READ_END;
	} else {
		/* The first slice starts where one scan would say it did, even past a skipped record. */
		s->rc = scan_from(reader, &s->req, s->first || status != WAL_READ_OK ? s->from : rec->lsn,
				  status, rec, &s->sc, &s->err);
		s->at_end = s->rc == 0 && !s->sc.unsupported && s->sc.end < s->req.to;
	}
	wal_reader_close(reader);
	return NULL;
}

/* How many slices for the scan from START: 1 unless the WAL is long and there are CPUs. */
static unsigned slice_count(const struct walblocks_request *req, lsn_t start)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	lsn_t len = req->to > start ? req->to - start : 0;
	unsigned n;

	if (req->workers > 0)
		return req->workers;
	n = cpus < 1 ? 1 : cpus > MAX_WORKERS ? MAX_WORKERS : (unsigned) cpus;
	while (n > 1 && len / n < MIN_SLICE_BYTES)
		n--;
	return n;
}

/*
 * The slices' findings into OUT in WAL order, as one scan from the first slice's start would
 * have made them: a block is covered only if its first reference overall is, a slice's block
 * references count only up to the first record whose blocks are unknown (and, without a cover,
 * nothing after it), the first database copy wins. False when the slices do not meet exactly
 * (the WAL ended or broke in one of them): the caller scans once instead.
 */
static bool merge_slices(struct slice *sl, unsigned n, const struct walblocks_request *req,
			 struct scan *out)
{
	bool counting = true; /* no record whose blocks are unknown yet */
	lsn_t last_lsn = LSN_INVALID;
	bool ended = false;

	out->start = sl[0].sc.start;
	out->end = out->start;
	for (unsigned i = 0; i < n; i++) {
		struct scan *sc = &sl[i].sc;

		if (sl[i].rc != 0)
			return false;
		if (sl[i].empty) {
			if (sl[i].at_end && !req->to_or_end)
				return false;
			ended = ended || sl[i].at_end;
			continue;
		}
		/* Each slice goes on from the last record before it, as one scan would. */
		if (ended || (i > 0 && sc->first_prev != last_lsn))
			return false;
		if (!counting && req->cover_from == LSN_INVALID)
			break;
		if (out->file_copy_lsn == LSN_INVALID)
			out->file_copy_lsn = sc->file_copy_lsn;
		if (out->cover) {
			/* Only first references overall: not the blocks earlier slices referenced. */
			blockset_subtract(&sc->covered, &out->seen);
			blockset_merge(&out->covered, &sc->covered);
			blockset_merge(&out->seen, &sc->seen);
			out->cover_end = sc->cover_end;
			out->cover = sc->cover;
		}
		if (counting) {
			blockset_merge(&out->blocks, &sc->blocks);
			out->records += sc->records;
			out->end = sc->end;
			if (sc->unsupported) {
				counting = false;
				out->unsupported = true;
				out->bad_lsn = sc->bad_lsn;
				out->bad_rmid = sc->bad_rmid;
				out->bad_info = sc->bad_info;
			}
		}
		last_lsn = sc->last_lsn;
		ended = sl[i].at_end;
		if (sc->unsupported && req->cover_from == LSN_INVALID)
			break;
	}
	return true;
}

/*
 * scan_records over the WAL from START, in slices at once when it is long (slice_count): each
 * slice but the first starts at a segment boundary, with the first record there. If the
 * slices do not meet exactly, the scan is made once, in one piece.
 */
static int scan_split(const char *waldir, const struct timeline_history *hist,
		      struct wal_reader *reader, const struct walblocks_request *req, lsn_t start,
		      struct scan *sc, struct errbuf *err)
{
	unsigned n = slice_count(req, start), made = 0;
	bool cover = sc->cover;
	struct slice sl[MAX_WORKERS];
	lsn_t bounds[MAX_WORKERS + 1];
	bool merged;

	bounds[0] = start;
	for (unsigned k = 1; k < n; k++) {
		lsn_t b = start + (req->to - start) / n * k;

		b -= b % req->seg_size;
		if (b > bounds[made])
			bounds[++made] = b;
	}
	n = made + 1;
	if (n < 2)
		return scan_records(reader, req, start, sc, err);
	bounds[n] = req->to;
	/* The CRC code picks its implementation on first use: not in two threads at once. */
	(void) crc32c_update(CRC32C_INIT, "", 0);
	for (unsigned i = 0; i < n; i++) {
		sl[i] = (struct slice){ .waldir = waldir, .hist = hist, .req = *req, .from = bounds[i],
					.first = i == 0,
					.sc = { .blocks = BLOCKSET_INIT, .seen = BLOCKSET_INIT,
						.covered = BLOCKSET_INIT, .cover = cover } };
		sl[i].req.to = bounds[i + 1];
		errbuf_clear(&sl[i].err);
		sl[i].started = pthread_create(&sl[i].thread, NULL, scan_slice, &sl[i]) == 0;
		/* Without a thread of its own, a slice is scanned here, while the others run. */
		if (!sl[i].started)
			scan_slice(&sl[i]);
	}
	for (unsigned i = 0; i < n; i++)
		if (sl[i].started)
			pthread_join(sl[i].thread, NULL);
	merged = merge_slices(sl, n, req, sc);
	for (unsigned i = 0; i < n; i++)
		scan_free(&sl[i].sc);
	if (merged) {
		sc->slices = n;
		return 0;
	}
	scan_free(sc);
	*sc = (struct scan){ .blocks = BLOCKSET_INIT, .seen = BLOCKSET_INIT, .covered = BLOCKSET_INIT,
			     .cover = cover };
	return scan_records(reader, req, start, sc, err);
}

static int send_blocks(struct wire_out *w, char type, const struct blockset *set, struct errbuf *err)
{
	for (size_t i = 0; i < set->nslots; i++) {
		const struct blockset_rel *r = blockset_slot(set, i);
		unsigned char hdr[16];
		size_t first = 0, last;

		if (r == NULL || r->blocks.count == 0)
			continue;
		last = r->blocks.nbytes;
		while (first < last && r->blocks.bits[first] == 0)
			first++;
		while (last > first && r->blocks.bits[last - 1] == 0)
			last--;
		wire_put_u32(hdr, r->spc);
		wire_put_u32(hdr + 4, r->db);
		wire_put_u32(hdr + 8, r->rel);
		/* A bitmap longer than one frame (over 128 GB of relation) goes in pieces. */
		while (first < last) {
			size_t n = last - first;

			if (n > WIRE_MAX_PAYLOAD - sizeof(hdr))
				n = WIRE_MAX_PAYLOAD - sizeof(hdr);
			wire_put_u32(hdr + 12, (uint32_t) first);
			if (wire_put(w, type, hdr, sizeof(hdr), r->blocks.bits + first, n, err) != 0)
				return -1;
			first += n;
		}
	}
	return 0;
}

static int helper_scan(const char *source_datadir, const struct walblocks_request *req,
		       struct wire_out *w, struct errbuf *err)
{
	struct timeline_history hist;
	struct wal_reader *reader = NULL;
	struct wal_reader_options wo = { 0 };
	struct scan sc = { .blocks = BLOCKSET_INIT, .seen = BLOCKSET_INIT, .covered = BLOCKSET_INIT };
	char *waldir = path_join(source_datadir, "pg_wal");
	lsn_t start = req->from;
	int rc;

	/* Segment size and system identifier come from the target's side: the live source's
	 * pg_control may be read in the middle of a write (see fetch_source_control). */
	memset(&hist, 0, sizeof(hist));
	if (req->tli == 1) {
		timeline_history_init_first(&hist);
		rc = 0;
	} else {
		rc = timeline_history_load(waldir, req->tli, &hist, err);
	}
	if (rc == 0) {
		wo.waldir = waldir;
		wo.history = &hist;
		wo.seg_size = req->seg_size;
		wo.system_identifier = req->system_identifier;
		rc = wal_reader_open(&wo, &reader, err);
	}
	if (rc == 0 && req->checkpoint_before != LSN_INVALID) {
		struct walscan_checkpoint ck;
		unsigned char p[21];

		rc = walscan_find_last_checkpoint(reader, req->checkpoint_before, &ck, err);
		if (rc == 0) {
			wire_put_u64(p, ck.lsn);
			wire_put_u64(p + 8, ck.redo);
			wire_put_u32(p + 16, ck.tli);
			p[20] = ck.shutdown;
			rc = wire_put(w, FRAME_CHECKPOINT, p, sizeof(p), NULL, 0, err);
			start = ck.lsn;
		}
	}
	if (rc == 0 && req->cover_from != LSN_INVALID) {
		const struct wal_record *rec;
		struct errbuf gone;

		/* Without the WAL from there (recycled) there is no cover: every block is copied. */
		errbuf_clear(&gone);
		if (wal_reader_read_at(reader, req->cover_from, &rec, &gone) == WAL_READ_OK) {
			sc.cover = true;
			start = req->cover_from;
		}
	}
	if (rc == 0)
		rc = scan_split(waldir, &hist, reader, req, start, &sc, err);
	if (rc == 0 && req->cover_from != LSN_INVALID && sc.cover_end != LSN_INVALID) {
		unsigned char p[16];

		wire_put_u64(p, sc.cover_end);
		wire_put_u64(p + 8, sc.file_copy_lsn);
		rc = send_blocks(w, FRAME_COVERED, &sc.covered, err);
		if (rc == 0)
			rc = wire_put(w, FRAME_COVER_END, p, sizeof(p), NULL, 0, err);
	}
	if (rc == 0 && sc.unsupported) {
		unsigned char p[10];

		wire_put_u64(p, sc.bad_lsn);
		p[8] = sc.bad_rmid;
		p[9] = sc.bad_info;
		rc = wire_put(w, FRAME_UNSUPPORTED, p, sizeof(p), NULL, 0, err);
	} else if (rc == 0) {
		rc = send_blocks(w, FRAME_RELATION, &sc.blocks, err);
	}
	if (rc == 0) {
		struct rusage ru;
		unsigned char p[36];

		wire_put_u64(p, sc.start);
		wire_put_u64(p + 8, sc.end);
		wire_put_u64(p + 16, sc.records);
		wire_put_u64(p + 24, getrusage(RUSAGE_SELF, &ru) == 0 ? (uint64_t) ru.ru_maxrss : 0);
		wire_put_u32(p + 32, sc.slices);
		rc = wire_put(w, FRAME_DONE, p, sizeof(p), NULL, 0, err);
	}
	scan_free(&sc);
	wal_reader_close(reader);
	timeline_history_release(&hist);
	free(waldir);
	return rc;
}

int walblocks_helper(const char *source_datadir, const char *const *args, int in_fd, int out_fd,
		     struct errbuf *err)
{
	struct walblocks_request req;
	struct wire_out w;
	int rc;

	(void) in_fd;
	wire_out_init(&w, out_fd);
	rc = parse_args(args, &req, err);
	if (rc == 0)
		rc = helper_scan(source_datadir, &req, &w, err);
	if (rc != 0) {
		/* The other end reads the reason from the stream; the agent's log has it too. */
		struct errbuf ignored;

		errbuf_clear(&ignored);
		wire_put(&w, FRAME_ERROR, err->msg, strlen(err->msg), NULL, 0, &ignored);
		wire_flush(&w, &ignored);
	} else {
		rc = wire_flush(&w, err);
	}
	wire_out_release(&w);
	return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* The target's side */

static int read_answer(int source_dbid, struct wire_in *in, struct walblocks_result *out,
		       struct errbuf *err);

static void add_bitmap(struct blockset *set, const unsigned char *p, size_t len)
{
	uint32_t spc = wire_get_u32(p), db = wire_get_u32(p + 4), rel = wire_get_u32(p + 8);
	uint64_t first = wire_get_u32(p + 12);

	for (size_t i = 16; i < len; i++) {
		unsigned bits = p[i];

		while (bits) {
			unsigned b = (unsigned) __builtin_ctz(bits);

			blockset_add(set, spc, db, rel, (uint32_t) ((first + (i - 16)) * 8 + b));
			bits &= bits - 1;
		}
	}
}

int walblocks_read(int fd, int source_dbid, struct walblocks_result *out, struct errbuf *err)
{
	struct wire_in in;
	int rc;

	memset(out, 0, sizeof(*out));
	wire_in_init(&in, fd, "the incremental helper");
	rc = read_answer(source_dbid, &in, out, err);
	wire_in_release(&in);
	if (rc != 0)
		walblocks_release(out);
	return rc;
}

static int read_answer(int source_dbid, struct wire_in *in, struct walblocks_result *out,
		       struct errbuf *err)
{
	for (;;) {
		const unsigned char *p;
		size_t len;
		char type;

		if (wire_next(in, &type, &p, &len, err) != 0)
			return -1;
		switch (type) {
		case FRAME_CHECKPOINT:
			if (len < 21)
				break;
			out->have_checkpoint = true;
			out->checkpoint.lsn = wire_get_u64(p);
			out->checkpoint.redo = wire_get_u64(p + 8);
			out->checkpoint.tli = wire_get_u32(p + 16);
			out->checkpoint.shutdown = p[20] != 0;
			continue;
		case FRAME_RELATION:
			if (len < 16)
				break;
			add_bitmap(&out->blocks, p, len);
			continue;
		case FRAME_COVERED:
			if (len < 16)
				break;
			add_bitmap(&out->covered, p, len);
			continue;
		case FRAME_COVER_END:
			if (len < 16)
				break;
			out->have_cover = true;
			out->cover_end = wire_get_u64(p);
			out->file_copy_lsn = wire_get_u64(p + 8);
			continue;
		case FRAME_UNSUPPORTED:
			if (len < 10)
				break;
			out->unsupported = true;
			out->unsupported_lsn = wire_get_u64(p);
			out->unsupported_rmid = p[8];
			out->unsupported_info = p[9];
			continue;
		case FRAME_DONE:
			if (len < 32)
				break;
			out->start = wire_get_u64(p);
			out->end = wire_get_u64(p + 8);
			out->records = wire_get_u64(p + 16);
			out->helper_peak_kb = wire_get_u64(p + 24);
			out->slices = len >= 36 ? wire_get_u32(p + 32) : 1;
			return 0;
		case FRAME_ERROR:
			return errbuf_set(err, "the incremental helper next to source dbid %d: %.*s",
					  source_dbid, (int) len, (const char *) p);
		default:
			break;
		}
		return errbuf_set(err, "the incremental helper next to source dbid %d sent a bad frame '%c' "
				       "(%zu bytes)",
				  source_dbid, type, len);
	}
}

int walblocks_start(struct recovery *r, const struct walblocks_request *req,
		    struct strategy_helper *h, struct errbuf *err)
{
	char from[64], to[64], cover[64], tli[32], seg[32], sysid[48];
	const char *args[9];
	size_t n = 0;

	*h = (struct strategy_helper){ .pid = -1, .to_fd = -1, .from_fd = -1 };
	if (req->checkpoint_before != LSN_INVALID)
		snprintf(from, sizeof(from), ARG_CHECKPOINT_BEFORE LSN_FMT, LSN_ARGS(req->checkpoint_before));
	else
		snprintf(from, sizeof(from), ARG_FROM LSN_FMT, LSN_ARGS(req->from));
	snprintf(to, sizeof(to), ARG_TO LSN_FMT, LSN_ARGS(req->to));
	snprintf(tli, sizeof(tli), ARG_TLI "%u", req->tli);
	snprintf(seg, sizeof(seg), ARG_SEG_SIZE "%u", req->seg_size);
	snprintf(sysid, sizeof(sysid), ARG_SYSID "%llu", (unsigned long long) req->system_identifier);
	args[n++] = from;
	args[n++] = to;
	args[n++] = tli;
	args[n++] = seg;
	args[n++] = sysid;
	if (req->cover_from != LSN_INVALID) {
		snprintf(cover, sizeof(cover), ARG_COVER_FROM LSN_FMT, LSN_ARGS(req->cover_from));
		args[n++] = cover;
	}
	if (req->to_or_end)
		args[n++] = ARG_TO_OR_END;
	args[n] = NULL;
	return r->host->start_helper(r, args, h, err);
}

int walblocks_finish(struct recovery *r, struct strategy_helper *h, bool abandon,
		     struct walblocks_result *out, struct errbuf *err)
{
	struct errbuf ignored;
	int rc = -1, status;

	memset(out, 0, sizeof(*out));
	errbuf_clear(&ignored);
	if (!abandon)
		rc = walblocks_read(h->from_fd, r->source_dbid, out, err);
	/* After a failure here the helper may be blocked writing to us: end it. */
	if (rc != 0 && h->pid > 0)
		kill(h->pid, SIGTERM);
	status = r->host->finish_helper(h, rc != 0 ? &ignored : err);
	if (rc == 0 && status != 0) {
		rc = errbuf_set(err, "the incremental helper next to source dbid %d exited with status %d",
				r->source_dbid, status);
		walblocks_release(out);
	}
	return rc;
}

int walblocks_fetch(struct recovery *r, const struct walblocks_request *req,
		    struct walblocks_result *out, struct errbuf *err)
{
	struct strategy_helper h;

	memset(out, 0, sizeof(*out));
	if (walblocks_start(r, req, &h, err) != 0)
		return -1;
	return walblocks_finish(r, &h, false, out, err);
}

void walblocks_release(struct walblocks_result *res)
{
	blockset_free(&res->blocks);
	blockset_free(&res->covered);
}
