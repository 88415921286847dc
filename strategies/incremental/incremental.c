/*
 * incremental: the pg_rewind-style strategy, the default type of gprecoverseg. Finds where the
 * target's timeline left the source's, reads the target's own WAL from the last common
 * checkpoint to its end to learn which blocks it changed, and copies from the source only those
 * blocks and the files that differ. Then one of two ways, whichever costs less:
 *   replay: replay starts at the last common checkpoint, so the new mirror replays every WAL
 *     record the source wrote since (pg_rewind's way); cheap after a short outage. The target's
 *     blocks whose first reference in that WAL is a full-page image are not copied: replay
 *     overwrites them before reading them;
 *   blocks: the source's own WAL since the divergence, scanned where it lies by a helper, names
 *     the blocks the source changed; they are copied too, inside a pg_backup_start/stop bracket
 *     whose backup_label the target gets, so that replay starts at the backup's start and the
 *     cost follows what changed, not how long the outage lasted.
 * Unlike pg_rewind it copies none of the source's WAL segments but the one or two replay starts
 * in: the new mirror streams the rest from its replication slot.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/sourcecheck.h"
#include "base/tablespace.h"
#include "base/timeline.h"
#include "base/walreader.h"
#include "base/zstream.h"
#include "exec.h"
#include "fsutil.h"
#include "incremental/crashrecovery.h"
#include "incremental/filemap.h"
#include "incremental/prefetch.h"
#include "incremental/walblocks.h"
#include "incremental/ratio.h"
#include "incremental/rewindlabel.h"
#include "incremental/sender.h"
#include "incremental/source.h"
#include "base/targetio.h"
#include "incremental/walscan.h"
#include "inject.h"
#include "log.h"
#include "pgconn.h"
#include "pgcontrol.h"
#include "registry.h"
#include "replication.h"
#include "strategy.h"
#include "targetmark.h"
#include "units.h"
#include "xalloc.h"

static const char *const keep_target_names[] = { TARGET_LOCK_FILE, TARGET_MARK_FILE, "standby.signal",
						  "recovery.signal", NULL };

/* A failure that only a full copy repairs: the remedy the agent reports. Returns -1. */
static int full_copy_needed(struct recovery *r)
{
	r->remedy = STRATEGY_REMEDY_FULL;
	return -1;
}

/*
 * What the blocks way costs beyond copying the blocks, in bytes of WAL replay it is worth: the
 * backup's checkpoint and the WAL segment it starts in. Below this much WAL to replay, the
 * replay way is always cheaper.
 */
#define BLOCKS_FIXED_COST (16ull << 20)

/* Blocks read to learn how the copy compresses: about 10 ms of reads and lz4 here. */
#define RATIO_SAMPLE 256

enum incr_method { METHOD_REPLAY = 0, METHOD_BLOCKS };

/* Everything one run needs; owned here, freed by release. */
struct incr {
	struct recovery *r;
	struct pgcontrol target_ctl, source_ctl;
	bool target_is_standby;
	struct timeline_history target_hist, source_hist;
	struct timeline_divergence div;
	struct walscan_checkpoint target_last_ckpt; /* pg_control's checkpoint record, with its end */
	lsn_t target_end;
	struct walscan_checkpoint common_ckpt;     /* the last common checkpoint */
	struct targetio *tio;
	struct source *src;
	struct filemap *fm;
	char *log_directory;
	bool source_local;
	bool estimate_only;      /* incremental_estimate: change nothing anywhere */
	/* The target lost its WAL at the last common checkpoint: that common history is read
	 * from the source, the target's own WAL only from the divergence point on. */
	bool target_lost_common;
	char target_wal_error[ERRBUF_SIZE];
	enum incr_method method;
	uint64_t replay_bytes;   /* WAL the new mirror replays in the replay way */
	struct blockset target_blocks;         /* what the target's own WAL changed */
	struct walblocks_result source_blocks; /* the blocks way: what the source changed */
	lsn_t scanned_to;        /* the source's WAL scanned up to here */
	PGconn *backup_conn;     /* the session that holds pg_backup_start */
	lsn_t backup_start;
	struct sender *sender;   /* with --compress: the copy comes through it, not over libpq */
	double ratio;            /* with --compress: compressed bytes per byte of blocks, sampled */
	char ratio_text[160];    /* that, for the cost line; "" without compression */
	uint64_t sent_bytes;     /* what crossed the network through the sender */
};

static void progress_cb(void *arg, uint64_t written)
{
	struct recovery *r = arg;

	r->host->progress(r, written, r->bytes_total);
}

static char *target_path(const struct recovery *r, const char *name)
{
	return path_join(r->target_datadir, name);
}

static bool target_has(const struct recovery *r, const char *name)
{
	char *p = target_path(r, name);
	bool yes = path_exists(p);

	free(p);
	return yes;
}

/* What an incremental recovery needs of its source, over a normal connection (check and run). */
static int check_source(PGconn *conn, struct recovery *r, uint64_t target_sysid,
			struct errbuf *err)
{
	char *v = NULL;
	int rc = -1;

	/* Version and role were checked by the agent's source preflight (base/sourcecheck). */
	if (pg_query_value(conn,
			   "SELECT (current_setting('data_checksums')::bool OR "
			   "current_setting('wal_log_hints')::bool)::text || ' ' || "
			   "current_setting('full_page_writes') || ' ' || "
			   "(SELECT system_identifier FROM pg_control_system())",
			   0, NULL, &v, err) != 0)
		goto out;
	{
		char hints[8] = "", fpw[8] = "";
		unsigned long long sysid = 0;

		if (v == NULL || sscanf(v, "%7s %7s %llu", hints, fpw, &sysid) != 3) {
			errbuf_set(err, "cannot read the source's settings");
			goto out;
		}
		if (strcmp(hints, "true") != 0) {
			errbuf_set(err, "the source %s:%d has neither data checksums nor wal_log_hints: "
					"its WAL does not record every change an incremental recovery must "
					"see; use gprecoverseg -F",
				   r->source_host, r->source_port);
			full_copy_needed(r);
			goto out;
		}
		if (strcmp(fpw, "on") != 0) {
			errbuf_set(err, "the source %s:%d has full_page_writes off; turn it on or use "
					"gprecoverseg -F",
				   r->source_host, r->source_port);
			goto out;
		}
		if (target_sysid && sysid != target_sysid) {
			errbuf_set(err, "the target's system identifier %llu differs from the source's "
					"%llu: they are not the same cluster; use gprecoverseg -F",
				   (unsigned long long) target_sysid, sysid);
			full_copy_needed(r);
			goto out;
		}
	}
	rc = 0;
out:
	free(v);
	return rc;
}

static int incremental_check(struct recovery *r, struct errbuf *err)
{
	struct pgcontrol ctl;
	struct pgconn_params params = { .host = r->source_host, .port = r->source_port, .connect_timeout = 10 };
	struct target_mark mark;
	PGconn *conn;
	int rc;

	if (r->compression != NULL && zstream_check_codec(r->compression, err) != 0)
		return -1;
	/*
	 * The marker says an earlier run changed the directory and did not finish: a full copy
	 * left part of the files, a rewind mixes two histories. Only a full copy repairs either.
	 */
	targetmark_read(r->target_datadir, &mark);
	if (mark.state == TARGET_MARK_COPYING) {
		errbuf_set(err, "an earlier %s recovery of \"%s\" did not finish (it holds "
				TARGET_MARK_FILE "): %s; only a differential or a full copy repairs it",
			   mark.strategy[0] ? mark.strategy : "segrecover", r->target_datadir,
			   strcmp(mark.strategy, "incremental") == 0 ? "the directory mixes two histories"
								  : "the copy is partial");
		return full_copy_needed(r);
	}
	if (!is_pg_datadir(r->target_datadir)) {
		errbuf_set(err, "\"%s\" is not a PostgreSQL data directory: there is nothing to "
				"repair in place; use gprecoverseg -F",
			   r->target_datadir);
		return full_copy_needed(r);
	}
	if (pgcontrol_read(r->target_datadir, &ctl, err) != 0) {
		errbuf_append(err, "Use gprecoverseg -F.");
		return full_copy_needed(r);
	}
	if (ctl.data_checksum_version == 0 && !ctl.wal_log_hints) {
		errbuf_set(err, "\"%s\" has neither data checksums nor wal_log_hints: its WAL does "
				"not show every block it changed; use gprecoverseg -F",
			   r->target_datadir);
		return full_copy_needed(r);
	}
	if (target_has(r, "standby.signal") && ctl.state != DB_SHUTDOWNED_IN_RECOVERY &&
	    ctl.state != DB_IN_ARCHIVE_RECOVERY && ctl.state != DB_SHUTDOWNED) {
		errbuf_set(err, "\"%s\" holds standby.signal but its control file says \"%s\"; "
				"use gprecoverseg -F",
			   r->target_datadir, pgcontrol_state_name(ctl.state));
		return full_copy_needed(r);
	}
	conn = pg_connect(&params, err);
	if (conn == NULL)
		return errbuf_prefix(err, "source dbid %d", r->source_dbid);
	rc = check_source(conn, r, ctl.system_identifier, err);
	PQfinish(conn);
	return rc;
}

/* The target's control file, after crash recovery when the old primary did not shut down cleanly. */
static int inspect_target(struct incr *c, struct errbuf *err)
{
	struct recovery *r = c->r;

	if (pgcontrol_read(r->target_datadir, &c->target_ctl, err) != 0)
		return -1;
	c->target_is_standby = target_has(r, "standby.signal");
	if (pgcontrol_is_shut_down(&c->target_ctl))
		return 0;
	if (c->target_is_standby) {
		/* A standby that stopped hard: consistent up to minRecoveryPoint, wrote no WAL of its own. */
		if (c->target_ctl.state == DB_IN_ARCHIVE_RECOVERY)
			return 0;
		errbuf_set(err, "standby \"%s\" is in state \"%s\"; use gprecoverseg -F",
			   r->target_datadir, pgcontrol_state_name(c->target_ctl.state));
		return full_copy_needed(r);
	}
	r->host->phase(r, "crash-recovery");
	strategy_log(r, LOG_INFO, "dbid %d: \"%s\" was not shut down cleanly (%s); running crash "
				  "recovery in single-user mode first",
		     r->dbid, r->target_datadir, pgcontrol_state_name(c->target_ctl.state));
	if (crash_recover(r->target_datadir, err) != 0) {
		errbuf_append(err, "Use gprecoverseg -F.");
		return full_copy_needed(r);
	}
	if (pgcontrol_read(r->target_datadir, &c->target_ctl, err) != 0)
		return -1;
	if (!pgcontrol_is_shut_down(&c->target_ctl)) {
		errbuf_set(err, "after crash recovery \"%s\" is still \"%s\"; use gprecoverseg -F",
			   r->target_datadir, pgcontrol_state_name(c->target_ctl.state));
		return full_copy_needed(r);
	}
	return 0;
}

/* The source's pg_control, read over SQL; a read racing a write fails the CRC, so retry. */
static int fetch_source_control(struct incr *c, struct pgcontrol *out, struct errbuf *err)
{
	for (int attempt = 0;; attempt++) {
		char *data = NULL;
		size_t len = 0;
		int rc = source_fetch_file(c->src, "global/pg_control", &data, &len, err);

		if (rc == 0)
			rc = pgcontrol_parse(data, len, out, err);
		free(data);
		if (rc == 0)
			return 0;
		if (attempt == 4)
			return errbuf_prefix(err, "the source's global/pg_control");
		usleep(100 * 1000);
	}
}

static int load_histories(struct incr *c, struct errbuf *err)
{
	struct recovery *r = c->r;
	uint32_t ttli = c->target_ctl.timeline;
	uint32_t stli = c->source_ctl.timeline;
	char *waldir = target_path(r, "pg_wal");
	int rc = 0;

	/* A standby may have followed a newer timeline than its last restartpoint's. */
	if (c->target_ctl.min_recovery_point_tli > ttli)
		ttli = c->target_ctl.min_recovery_point_tli;
	if (ttli == 1)
		timeline_history_init_first(&c->target_hist);
	else
		rc = timeline_history_load(waldir, ttli, &c->target_hist, err);
	free(waldir);
	if (rc != 0)
		return -1;
	if (stli == 1) {
		timeline_history_init_first(&c->source_hist);
	} else {
		char name[64], *text = NULL;
		size_t len;

		snprintf(name, sizeof(name), "pg_wal/%08X.history", stli);
		if (source_fetch_file(c->src, name, &text, &len, err) != 0)
			return errbuf_prefix(err, "the source's timeline history");
		rc = timeline_history_parse(text, len, stli, name, &c->source_hist, err);
		free(text);
	}
	return rc;
}

/* Where the target's WAL ends: the end of its last checkpoint record, or minRecoveryPoint. */
static int find_target_end(struct incr *c, struct wal_reader *reader, struct errbuf *err)
{
	if (walscan_read_checkpoint(reader, c->target_ctl.checkpoint, &c->target_last_ckpt, err) != 0)
		return errbuf_prefix(err, "reading the target's last checkpoint record");
	c->target_end = c->target_last_ckpt.end_lsn;
	if (c->target_ctl.min_recovery_point > c->target_end)
		c->target_end = c->target_ctl.min_recovery_point;
	return 0;
}

static void list_cb_source(void *arg, const char *path, enum file_type type, uint64_t size,
			   const char *link)
{
	filemap_add_source(arg, path, type, size, link);
}

static void list_cb_target(void *arg, const char *path, enum file_type type, uint64_t size,
			   const char *link)
{
	filemap_add_target(arg, path, type, size, link);
}

static int note_blocks(const struct wal_record *rec, void *arg, struct errbuf *err)
{
	struct incr *c = arg;

	if (walscan_classify_record(rec) == WALSCAN_RECORD_UNSUPPORTED) {
		errbuf_set(err, "WAL record at " LSN_FMT " (%s, info 0x%02X) changes a relation "
				"in a way that cannot be followed block by block; use "
				"gprecoverseg -F",
			   LSN_ARGS(rec->lsn), wal_rmgr_name(rec->rmid), rec->info);
		return full_copy_needed(c->r);
	}
	for (unsigned i = 0; i < rec->nblocks; i++) {
		const struct wal_block_ref *b = &rec->blocks[i];

		/* Other forks are copied whole (filemap). */
		if (b->fork == WAL_FORK_MAIN)
			blockset_add(&c->target_blocks, b->rnode.spc, b->rnode.db, b->rnode.rel, b->blkno);
	}
	return 0;
}

/* Every block of SET into the file map (those the file's own action does not cover). */
static void note_set(struct filemap *fm, const struct blockset *set)
{
	for (size_t i = 0; i < set->nslots; i++) {
		const struct blockset_rel *rel = blockset_slot(set, i);
		uint32_t blk = 0;

		while (rel != NULL && blockmap_next(&rel->blocks, &blk)) {
			filemap_note_block(fm, rel->spc, rel->db, rel->rel, WAL_FORK_MAIN, blk);
			blk++;
		}
	}
}

static void wal_path(char *buf, size_t len, uint32_t tli, uint64_t segno, uint32_t seg_size)
{
	char name[WAL_FILE_NAME_LEN + 1];

	wal_file_name(name, tli, segno, seg_size);
	snprintf(buf, len, "pg_wal/%s", name);
}

/*
 * WAL: the target keeps its own segments from the last common checkpoint's redo pointer to the
 * divergence point (replay reads them); the source's segment holding the divergence point is
 * copied, so that replay takes that segment from the source's timeline and never reads the
 * target's diverged records past the switch; everything after it is streamed from the source,
 * which must still have it.
 */
static int plan_wal(struct incr *c, lsn_t source_insert, struct errbuf *err)
{
	uint32_t seg = c->target_ctl.xlog_seg_size;
	uint64_t first = c->common_ckpt.redo / seg, div_seg = c->div.lsn / seg;
	uint64_t last = source_insert / seg;
	char path[64];

	/* The blocks way: replay starts at the backup's start; finish_blocks copies that segment. */
	if (c->method == METHOD_BLOCKS)
		return 0;

	for (uint64_t s = first; s <= div_seg; s++) {
		wal_path(path, sizeof(path), timeline_tli_of_segment(&c->target_hist, s, seg), s, seg);
		filemap_keep_wal(c->fm, path);
	}
	wal_path(path, sizeof(path), timeline_tli_of_segment(&c->source_hist, div_seg, seg), div_seg, seg);
	if (filemap_force_copy(c->fm, path, err) != 0) {
		errbuf_set(err, "the source no longer has %s, the WAL segment holding the "
				"divergence point " LSN_FMT "; use gprecoverseg -F",
			   path, LSN_ARGS(c->div.lsn));
		return full_copy_needed(c->r);
	}
	for (uint64_t s = div_seg + 1; s <= last; s++) {
		struct file_entry *e;

		wal_path(path, sizeof(path), timeline_tli_of_segment(&c->source_hist, s, seg), s, seg);
		e = filemap_lookup(c->fm, path);
		if (e == NULL || e->source_type != FILE_TYPE_REGULAR) {
			errbuf_set(err, "the source no longer has %s, which the recovered mirror "
					"must replay; use gprecoverseg -F",
				   path);
			return full_copy_needed(c->r);
		}
	}
	return 0;
}

/* A tablespace link created on the target points at the target's own per-dbid directory. */
static int create_link(struct incr *c, const struct file_entry *e, struct errbuf *err)
{
	char *mapped = NULL;
	unsigned oid = 0;
	int rc;

	if (strncmp(e->path, "pg_tblspc/", 10) == 0)
		oid = (unsigned) strtoul(e->path + 10, NULL, 10);
	if (oid == 0)
		return errbuf_set(err, "the source has a symlink \"%s\" outside pg_tblspc; only "
				       "tablespace links are supported",
				  e->path);
	if (tablespace_map(e->source_link, oid, c->r->source_dbid, c->r->dbid, c->source_local,
			   &mapped, err) != 0)
		return -1;
	rc = mkdir_p(mapped, 0700, err);
	if (rc == 0)
		rc = targetio_symlink(c->tio, e->path, mapped, err);
	free(mapped);
	return rc;
}

/* A range of a source file into the same place in the target: through the sender, or libpq. */
static int copy_range(struct incr *c, const char *path, uint64_t off, uint64_t len,
		      struct errbuf *err)
{
	if (c->sender == NULL)
		return source_queue_range(c->src, path, off, len, err);
	return sender_queue(c->sender, path, off, len, err);
}

/* A whole source file (it may have grown since it was listed) in place of the target's. */
static int copy_file(struct incr *c, const char *path, uint64_t len, struct errbuf *err)
{
	if (c->sender == NULL)
		return source_queue_file(c->src, path, len, err);
	/* targetio refuses a path outside the target, sender_queue one outside the source. */
	if (targetio_truncate_whole(c->tio, path, err) != 0)
		return -1;
	return sender_queue(c->sender, path, 0, SENDER_WHOLE, err);
}

static int queue_everything(struct incr *c, struct errbuf *err)
{
	size_t n = filemap_count(c->fm);

	for (size_t i = 0; i < n; i++) {
		struct file_entry *e = filemap_entry(c->fm, i);
		uint32_t blk = 0;
		int rc = 0;

		if (e->action != ACTION_COPY)
			while (blockmap_next(&e->blocks, &blk)) {
				if (copy_range(c, e->path, (uint64_t) blk * BLOCK_SIZE, BLOCK_SIZE,
					       err) != 0)
					return -1;
				blk++;
			}
		switch (e->action) {
		case ACTION_CREATE:
			rc = e->source_type == FILE_TYPE_DIRECTORY ? targetio_mkdir(c->tio, e->path, err)
								    : create_link(c, e, err);
			break;
		case ACTION_COPY:
			rc = copy_file(c, e->path, e->source_size, err);
			break;
		case ACTION_COPY_TAIL:
			rc = copy_range(c, e->path, e->target_size, e->source_size - e->target_size,
					err);
			break;
		case ACTION_TRUNCATE:
			rc = targetio_truncate(c->tio, e->path, e->source_size, err);
			break;
		case ACTION_REMOVE:
			rc = targetio_remove(c->tio, e->path, e->target_type, err);
			break;
		case ACTION_NONE:
		case ACTION_UNDECIDED:
			break;
		}
		if (rc != 0)
			return -1;
	}
	return c->sender != NULL ? sender_finish(c->r, c->sender, err) : source_flush(c->src, err);
}

/*
 * The copy: every action of the file map. The ranges are fetched over libpq while a helper next
 * to the source asks its kernel to read them ahead (prefetch); without that helper the copy works
 * the same, reading as it goes. With --compress, a helper next to the source reads them itself
 * and sends them compressed (sender), reading ahead as the requests arrive.
 */
static int execute(struct incr *c, struct errbuf *err)
{
	struct recovery *r = c->r;
	struct prefetch pf;
	struct sender snd;
	struct errbuf perr;
	uint64_t advised = 0;
	int rc;

	if (r->compression != NULL) {
		if (sender_start(r, c->tio, &snd, err) != 0)
			return -1;
		c->sender = &snd;
		rc = queue_everything(c, err);
		c->sender = NULL;
		if (rc != 0) {
			sender_abort(r, &snd);
			return -1;
		}
		c->sent_bytes = snd.wire_bytes;
		strategy_log(r, LOG_INFO, "dbid %d: the source sent %llu ranges, %llu MB compressed by "
					  "%s to %llu MB (%.0f %%)",
			     r->dbid, (unsigned long long) snd.requests, units_whole_mb(snd.raw_bytes),
			     r->compression, units_whole_mb(snd.wire_bytes),
			     snd.raw_bytes > 0 ? 100.0 * (double) snd.wire_bytes / (double) snd.raw_bytes : 0.0);
		return 0;
	}
	errbuf_clear(&perr);
	if (prefetch_start(r, &pf, &perr) == 0) {
		source_set_hint(c->src, prefetch_hint, &pf);
	} else {
		strategy_log(r, LOG_INFO, "dbid %d: no read-ahead next to the source (%s); the copy "
					  "reads as it goes",
			     r->dbid, perr.msg);
		errbuf_clear(&perr);
	}
	rc = queue_everything(c, err);
	source_set_hint(c->src, NULL, NULL);
	if (prefetch_finish(r, &pf, &advised, &perr) != 0)
		strategy_log(r, LOG_INFO, "dbid %d: the read-ahead helper next to the source: %s", r->dbid,
			     perr.msg);
	else if (pf.hinted > 0)
		strategy_log(r, LOG_INFO, "dbid %d: read ahead on the source: %llu ranges (%llu MB)%s",
			     r->dbid, (unsigned long long) pf.hinted, units_whole_mb(advised),
			     pf.dropped > 0 ? "; some hints were dropped while the helper was busy" : "");
	return rc;
}

/*
 * The source's history files, so that the new mirror can follow its timeline from the start.
 * Only the current timeline's is required (it lists every ancestor), and a long-lived cluster
 * may have lost older ones (a mirror built by a base copy streams only the newest), so we copy
 * the ones the source has.
 */
static int copy_history_files(struct incr *c, struct errbuf *err)
{
	static const char *const list_sql =
		"SELECT name FROM pg_catalog.pg_ls_dir('pg_wal') AS name"
		" WHERE name ~ '^[0-9A-F]{8}\\.history$' ORDER BY 1";
	PGresult *res = pg_query(source_conn(c->src), list_sql, 0, NULL, err);
	bool have_current = c->source_ctl.timeline == 1;
	int rc = 0;

	if (res == NULL)
		return errbuf_prefix(err, "listing the source's timeline history files");
	for (int i = 0; i < PQntuples(res) && rc == 0; i++) {
		const char *file = PQgetvalue(res, i, 0);
		char name[64], *text = NULL;
		size_t len;

		snprintf(name, sizeof(name), "pg_wal/%s", file);
		if (strtoul(file, NULL, 16) == c->source_ctl.timeline)
			have_current = true;
		rc = source_fetch_file(c->src, name, &text, &len, err);
		if (rc == 0)
			rc = targetio_write_file(c->tio, name, text, len, err);
		free(text);
	}
	PQclear(res);
	if (rc == 0 && !have_current) {
		rc = errbuf_set(err, "the source has no history file for its timeline %u "
				     "(pg_wal/%08X.history); use gprecoverseg -F",
				c->source_ctl.timeline, c->source_ctl.timeline);
		full_copy_needed(c->r);
	}
	return rc;
}

static int finish(struct incr *c, struct errbuf *err)
{
	struct recovery *r = c->r;
	struct rewind_start start = {
		.redo = c->common_ckpt.redo,
		.checkpoint = c->common_ckpt.lsn,
		.tli = c->common_ckpt.tli,
		.seg_size = c->target_ctl.xlog_seg_size,
	};
	struct strbuf label = STRBUF_INIT;
	struct pgcontrol after;
	lsn_t consistent_at;
	int rc;

	/* pg_control last, as pg_rewind does: fetched after every other byte. */
	if (fetch_source_control(c, &after, err) != 0 || source_insert_lsn(c->src, &consistent_at, err) != 0)
		return -1;
	strbuf_init(&label, 256);
	rewindlabel_render(&label, &start, time(NULL));
	rc = targetio_write_file(c->tio, "backup_label", label.buf, label.len, err);
	strbuf_release(&label);
	if (rc != 0 || targetio_sync(c->tio, err) != 0)
		return -1;
	if (rewindlabel_write_control(r->target_datadir, &after, consistent_at, after.timeline, err) != 0)
		return -1;
	strategy_log(r, LOG_INFO, "dbid %d: replay starts at the common checkpoint " LSN_FMT " (redo "
				  LSN_FMT ", timeline %u) and is consistent past " LSN_FMT " on timeline %u",
		     r->dbid, LSN_ARGS(start.checkpoint), LSN_ARGS(start.redo), start.tli,
		     LSN_ARGS(consistent_at), after.timeline);
	return 0;
}

static void release(struct incr *c)
{
	/* Ending the session ends a backup it still holds (PostgreSQL 15's non-exclusive backup). */
	PQfinish(c->backup_conn);
	walblocks_release(&c->source_blocks);
	blockset_free(&c->target_blocks);
	source_close(c->src);
	targetio_free(c->tio);
	filemap_free(c->fm);
	timeline_history_release(&c->target_hist);
	timeline_history_release(&c->source_hist);
	free(c->log_directory);
}

static int rewind_needed(struct incr *c, struct errbuf *err)
{
	struct wal_reader *reader = NULL;
	struct wal_reader_options wo = {
		.history = &c->target_hist,
		.seg_size = c->target_ctl.xlog_seg_size,
		.system_identifier = c->target_ctl.system_identifier,
	};
	char *waldir = target_path(c->r, "pg_wal");
	int rc;

	wo.waldir = waldir;
	rc = wal_reader_open(&wo, &reader, err);
	if (rc == 0)
		rc = find_target_end(c, reader, err);
	if (rc == 0 && c->div.lsn != LSN_INVALID && c->target_end > c->div.lsn) {
		struct errbuf lost;

		rc = 1;
		errbuf_clear(&lost);
		if (walscan_find_last_checkpoint(reader, c->div.lsn, &c->common_ckpt, &lost) != 0) {
			/*
			 * Greenplum's most reported incremental failure: the target recycled the WAL
			 * before the divergence. That history is common: the source's WAL has it too,
			 * and choose_method reads it there.
			 */
			c->target_lost_common = true;
			snprintf(c->target_wal_error, sizeof(c->target_wal_error), "%s", lost.msg);
		}
	}
	if (rc < 0) {
		errbuf_append(err, "Use gprecoverseg -F.");
		full_copy_needed(c->r);
	}
	wal_reader_close(reader);
	free(waldir);
	return rc;
}

/*
 * pg_rewind's extractPageMap: the target's own WAL from the last common checkpoint (or, when
 * its pg_wal lost that, from the divergence point; the common part then comes from the
 * source's WAL) to its end, into c->target_blocks.
 */
static int scan_target_wal(struct incr *c, struct errbuf *err)
{
	struct recovery *r = c->r;
	struct wal_reader *reader = NULL;
	struct wal_reader_options wo = {
		.history = &c->target_hist,
		.seg_size = c->target_ctl.xlog_seg_size,
		.system_identifier = c->target_ctl.system_identifier,
	};
	char *waldir = target_path(r, "pg_wal");
	int rc;

	r->host->phase(r, "reading-wal");
	wo.waldir = waldir;
	rc = wal_reader_open(&wo, &reader, err);
	if (rc == 0)
		rc = walscan_forward(reader, c->target_lost_common ? c->div.lsn : c->common_ckpt.lsn,
				     c->target_end, note_blocks, c, err);
	wal_reader_close(reader);
	free(waldir);
	if (rc != 0 && c->target_lost_common && r->remedy != STRATEGY_REMEDY_FULL) {
		/* What the target wrote after the divergence exists nowhere else. */
		errbuf_prefix(err, "the target no longer has its own WAL from the divergence point "
				   LSN_FMT " on, which no other instance has, so its changed blocks are "
				   "unknown; use gprecoverseg --differential (it compares every page) or "
				   "gprecoverseg -F",
			      LSN_ARGS(c->div.lsn));
		return full_copy_needed(r);
	}
	return rc;
}

static int build_filemap(struct incr *c, lsn_t source_insert, struct errbuf *err)
{
	struct recovery *r = c->r;
	struct filemap_rules rules = { .log_directory = c->log_directory, .keep_target = keep_target_names };
	int rc;

	c->fm = filemap_create();
	r->host->phase(r, "file-lists");
	/* The source walks its directory while we walk ours: both mostly wait for the disk. */
	rc = source_list_files_start(c->src, err);
	if (rc == 0) {
		rc = targetio_list_files(r->target_datadir, list_cb_target, c->fm, err);
		if (source_list_files_finish(c->src, list_cb_source, c->fm,
					     rc == 0 ? err : &(struct errbuf){ 0 }) != 0)
			rc = -1;
	}
	if (rc != 0)
		return -1;
	note_set(c->fm, &c->target_blocks);
	if (c->method == METHOD_BLOCKS)
		note_set(c->fm, &c->source_blocks.blocks);
	if (plan_wal(c, source_insert, err) != 0)
		return -1;
	return filemap_decide(c->fm, &rules, err);
}

/*
 * The rest of the source's WAL (REQ: from where the first scan stopped) merged into
 * c->source_blocks: only ever after scan_both_wals filled it.
 */
static int scan_source_wal(struct incr *c, const struct walblocks_request *req, struct errbuf *err)
{
	struct walblocks_result more;

	c->r->host->phase(c->r, "reading-source-wal");
	if (walblocks_fetch(c->r, req, &more, err) != 0)
		return -1;
	blockset_merge(&c->source_blocks.blocks, &more.blocks);
	c->source_blocks.records += more.records;
	c->source_blocks.end = more.end;
	if (more.slices > c->source_blocks.slices)
		c->source_blocks.slices = more.slices;
	if (more.helper_peak_kb > c->source_blocks.helper_peak_kb)
		c->source_blocks.helper_peak_kb = more.helper_peak_kb;
	if (more.unsupported) {
		c->source_blocks.unsupported = true;
		c->source_blocks.unsupported_lsn = more.unsupported_lsn;
		c->source_blocks.unsupported_rmid = more.unsupported_rmid;
		c->source_blocks.unsupported_info = more.unsupported_info;
	}
	walblocks_release(&more);
	return 0;
}

static void unsupported_text(const struct walblocks_result *b, char *buf, size_t len)
{
	snprintf(buf, len, "the source's WAL record at " LSN_FMT " (%s, info 0x%02X) changes a relation "
			   "in a way that cannot be followed block by block",
		 LSN_ARGS(b->unsupported_lsn), wal_rmgr_name(b->unsupported_rmid), b->unsupported_info);
}

/* Neither way works: the replay way would copy a template as the target holds it, the blocks
 * way lacks a record's blocks. */
static int copy_and_unsupported(struct incr *c, const char *why, struct errbuf *err)
{
	errbuf_set(err, "the source's WAL creates a database from its template's files at " LSN_FMT
			", which replay from the last common checkpoint would copy as the target holds "
			"them, and %s; use gprecoverseg --differential or gprecoverseg -F",
		   LSN_ARGS(c->source_blocks.file_copy_lsn), why);
	return full_copy_needed(c->r);
}

/* Neither way works: the replay way lacks the target's WAL, the blocks way a record's blocks. */
static int lost_and_unsupported(struct incr *c, const char *why, struct errbuf *err)
{
	errbuf_set(err, "the target's pg_wal no longer holds the last common checkpoint (%s), and %s; "
			"use gprecoverseg --differential or gprecoverseg -F",
		   c->target_wal_error, why);
	return full_copy_needed(c->r);
}

/*
 * The source's WAL (through its helper, into c->source_blocks) and the target's (here) at the
 * same time: both mostly wait for their disks. -1: the target's scan failed (err); 1: only the
 * source's did (err says why); 0: both worked.
 */
static int scan_both_wals(struct incr *c, const struct walblocks_request *req, struct errbuf *err)
{
	struct strategy_helper h;
	struct errbuf serr;

	errbuf_clear(&serr);
	if (walblocks_start(c->r, req, &h, &serr) != 0) {
		if (scan_target_wal(c, err) != 0)
			return -1;
		errbuf_set(err, "%s", serr.msg);
		return 1;
	}
	if (scan_target_wal(c, err) != 0) {
		walblocks_finish(c->r, &h, true, &c->source_blocks, &serr);
		return -1;
	}
	if (walblocks_finish(c->r, &h, false, &c->source_blocks, &serr) != 0) {
		errbuf_set(err, "%s", serr.msg);
		return 1;
	}
	return 0;
}

/*
 * The replay way: the target's changed blocks that replay restores whole from a full-page image
 * (or initialises) before any record reads them need not be copied; whatever the target holds
 * there is overwritten first, as a base backup's torn pages are (walblocks.h, covered).
 */
static void skip_covered_blocks(struct incr *c)
{
	struct recovery *r = c->r;
	uint64_t before = c->target_blocks.nblocks, skipped;
	char bytes[32];

	if (!c->source_blocks.have_cover)
		return;
	skipped = blockset_subtract(&c->target_blocks, &c->source_blocks.covered);
	units_format_bytes(skipped * BLOCK_SIZE, bytes, sizeof(bytes));
	strategy_log(r, LOG_INFO, "dbid %d: %llu of the target's %llu changed blocks (%s) are not "
				  "copied: replay from the common checkpoint restores each from a "
				  "full-page image in the source's WAL before any record reads it "
				  "(first references up to " LSN_FMT ")",
		     r->dbid, (unsigned long long) skipped, (unsigned long long) before, bytes,
		     LSN_ARGS(c->source_blocks.cover_end));
}

/*
 * With --compress: what the copied blocks weigh on the network for each byte of them, from a
 * sample of both sides' changed blocks read in the target (the same relations' pages); TEXT
 * says so for the cost line. 1 without compression, or when no sample could be read.
 */
static double block_ratio(struct incr *c, char *text, size_t len)
{
	struct recovery *r = c->r;
	struct ratio_sample rs = { 0 };
	struct errbuf err;

	text[0] = '\0';
	if (r->compression == NULL)
		return 1.0;
	errbuf_clear(&err);
	if (ratio_add(&rs, r->target_datadir, &c->target_blocks, r->compression, RATIO_SAMPLE / 2,
		      &err) != 0 ||
	    ratio_add(&rs, r->target_datadir, &c->source_blocks.blocks, r->compression,
		      RATIO_SAMPLE / 2, &err) != 0) {
		strategy_log(r, LOG_WARNING, "dbid %d: cannot sample how the blocks compress (%s); "
					     "counting them uncompressed",
			     r->dbid, err.msg);
		return 1.0;
	}
	if (rs.blocks > 0)
		snprintf(text, len, " (compressed by %s to about %.0f %%, from a sample of %llu blocks)",
			 r->compression, 100.0 * ratio_of(&rs), (unsigned long long) rs.blocks);
	return ratio_of(&rs);
}

/*
 * Replay or blocks (see the top of the file): the cost of replaying the source's WAL since the
 * last common checkpoint and copying the target's blocks replay does not restore whole, against
 * copying the blocks either side changed since the divergence, scanned up to now. The source's
 * WAL is always scanned: that scan also finds what makes the replay way wrong (a database copied
 * from its template's files). The choice and both figures go to the log (and, through estimate,
 * to the plan).
 */
static int choose_method(struct incr *c, struct errbuf *err)
{
	struct recovery *r = c->r;
	struct walblocks_request req = { .to_or_end = true, .tli = c->source_ctl.timeline,
					 .seg_size = c->target_ctl.xlog_seg_size,
					 .system_identifier = c->target_ctl.system_identifier };
	const struct walblocks_result *sb = &c->source_blocks;
	char replay[32], blocks[32], peak[32], replay_total[32], blocks_total[32], why[ERRBUF_SIZE];
	uint64_t block_bytes, cost_replay, cost_blocks;
	double ratio;
	lsn_t now;
	int rc;

	c->method = METHOD_REPLAY;
	if (source_insert_lsn(c->src, &now, err) != 0)
		return -1;
	if (!c->target_lost_common) {
		c->replay_bytes = now > c->common_ckpt.redo ? now - c->common_ckpt.redo : 0;
		req.from = c->div.lsn;
		/* The replay way starts there: which blocks does it restore whole? (walblocks.h) */
		req.cover_from = c->common_ckpt.redo;
	} else {
		req.checkpoint_before = c->div.lsn;
	}
	units_format_bytes(c->replay_bytes, replay, sizeof(replay));
	req.to = now;
	rc = scan_both_wals(c, &req, err);
	if (rc < 0)
		return -1;
	if (rc > 0) {
		if (c->target_lost_common) {
			errbuf_prefix(err, "the target's pg_wal no longer holds the last common checkpoint "
					   "before the divergence point " LSN_FMT " (%s), and the source "
					   "cannot give that common history either",
				      LSN_ARGS(c->div.lsn), c->target_wal_error);
			errbuf_append(err, "Neither instance has the WAL an incremental recovery must "
					   "read: use gprecoverseg --differential (it compares every page) "
					   "or gprecoverseg -F.");
			return full_copy_needed(r);
		}
		/* The replay way needs nothing of this scan (pg_rewind's way): say why it is taken. */
		strategy_log(r, LOG_WARNING, "dbid %d: cannot scan the source's WAL for the blocks it "
					     "changed (%s); the new mirror replays %s of WAL instead, and "
					     "every block the target changed is copied",
			     r->dbid, err->msg, replay);
		errbuf_clear(err);
		return 0;
	}
	c->scanned_to = sb->end;
	c->ratio = block_ratio(c, c->ratio_text, sizeof(c->ratio_text));
	if (sb->unsupported) {
		unsupported_text(sb, why, sizeof(why));
		if (c->target_lost_common)
			return lost_and_unsupported(c, why, err);
		if (sb->file_copy_lsn != LSN_INVALID)
			return copy_and_unsupported(c, why, err);
		strategy_log(r, LOG_INFO, "dbid %d: %s: the new mirror replays %s of WAL instead",
			     r->dbid, why, replay);
		skip_covered_blocks(c);
		return 0;
	}
	block_bytes = sb->blocks.nblocks * BLOCK_SIZE;
	units_format_bytes(block_bytes, blocks, sizeof(blocks));
	if (c->target_lost_common) {
		c->common_ckpt = sb->checkpoint;
		c->method = METHOD_BLOCKS;
		strategy_log(r, LOG_INFO, "dbid %d: the target's pg_wal no longer holds the last common "
					  "checkpoint (%s); read that common history from the source's "
					  "WAL instead: checkpoint " LSN_FMT ", then %llu blocks (%s) "
					  "changed up to " LSN_FMT ", copied from the source; replay starts "
					  "at the backup's start",
			     r->dbid, c->target_wal_error, LSN_ARGS(c->common_ckpt.lsn),
			     (unsigned long long) sb->blocks.nblocks, blocks, LSN_ARGS(c->scanned_to));
		return 0;
	}
	if (sb->file_copy_lsn != LSN_INVALID) {
		c->method = METHOD_BLOCKS;
		strategy_log(r, LOG_INFO, "dbid %d: the source's WAL creates a database from its "
					  "template's files at " LSN_FMT ", which replay from the common "
					  "checkpoint would copy as the target holds them: the %llu blocks "
					  "(%s) the source changed since the divergence are copied instead; "
					  "replay starts at the backup's start",
			     r->dbid, LSN_ARGS(sb->file_copy_lsn), (unsigned long long) sb->blocks.nblocks,
			     blocks);
		return 0;
	}
	/*
	 * Both ways copy the target's changed blocks: the replay way those replay does not
	 * restore whole, the blocks way those the source did not change as well. Compressed, the
	 * blocks weigh what a sample of them does; the streamed WAL is never compressed.
	 */
	ratio = c->ratio;
	cost_replay = c->replay_bytes +
		      (uint64_t) ((double) ((c->target_blocks.nblocks -
					     (sb->have_cover ? blockset_count_common(&c->target_blocks,
										     &sb->covered)
							     : 0)) *
					    BLOCK_SIZE) *
				  ratio);
	cost_blocks = (uint64_t) ((double) ((sb->blocks.nblocks + c->target_blocks.nblocks -
					     blockset_count_common(&c->target_blocks, &sb->blocks)) *
					    BLOCK_SIZE) *
				  ratio) +
		      BLOCKS_FIXED_COST;
	c->method = cost_blocks < cost_replay ? METHOD_BLOCKS : METHOD_REPLAY;
	units_format_bytes(sb->helper_peak_kb * 1024, peak, sizeof(peak));
	units_format_bytes(cost_replay, replay_total, sizeof(replay_total));
	units_format_bytes(cost_blocks, blocks_total, sizeof(blocks_total));
	strategy_log(r, LOG_INFO, "dbid %d: replaying the source's WAL since the last common checkpoint "
				  "means %s; the source changed %llu blocks (%s) since the divergence "
				  "(%llu WAL records scanned next to it in %u slice%s at once, helper's "
				  "peak memory %s); with "
				  "the target's blocks%s, the replay way costs %s, the blocks way %s: %s",
		     r->dbid, replay, (unsigned long long) sb->blocks.nblocks, blocks,
		     (unsigned long long) sb->records, sb->slices, sb->slices == 1 ? "" : "s", peak,
		     c->ratio_text, replay_total, blocks_total,
		     c->method == METHOD_BLOCKS ? "copying them is cheaper; replay starts at the "
						  "backup's start"
						: "replaying is cheaper");
	if (c->method == METHOD_REPLAY)
		skip_covered_blocks(c);
	return 0;
}

/*
 * The blocks way's bracket: pg_backup_start on a session of its own, held until finish_blocks;
 * then the rest of the source's WAL up to the backup's start is scanned too, so that every
 * block changed before it is copied and every change after it is replayed.
 */
static int begin_backup(struct incr *c, struct errbuf *err)
{
	struct recovery *r = c->r;
	struct pgconn_params params = { .host = r->source_host, .port = r->source_port,
					 .connect_timeout = 10 };
	char label[64], *value = NULL;
	const char *pv[1] = { label };
	unsigned long long lsn = 0;
	int rc;

	snprintf(label, sizeof(label), "segrecover incremental dbid %d", r->dbid);
	r->host->phase(r, "backup-start");
	c->backup_conn = pg_connect(&params, err);
	if (c->backup_conn == NULL)
		return errbuf_prefix(err, "source dbid %d", r->source_dbid);
	rc = pg_query_value(c->backup_conn, "SELECT pg_catalog.pg_backup_start($1, true)", 1, pv,
			    &value, err);
	if (rc == 0 && (value == NULL || !pg_parse_lsn(value, &lsn)))
		rc = errbuf_set(err, "pg_backup_start gave no start position");
	free(value);
	if (rc != 0)
		return errbuf_prefix(err, "cannot start a backup on source dbid %d (%s:%d)",
				     r->source_dbid, r->source_host, r->source_port);
	c->backup_start = lsn;
	if (c->scanned_to < c->backup_start) {
		struct walblocks_request req = { .from = c->scanned_to, .to = c->backup_start,
						 .tli = c->source_ctl.timeline,
						 .seg_size = c->target_ctl.xlog_seg_size,
						 .system_identifier = c->target_ctl.system_identifier };

		if (scan_source_wal(c, &req, err) != 0)
			return -1;
		c->scanned_to = c->source_blocks.end;
	}
	if (c->source_blocks.unsupported) {
		char why[ERRBUF_SIZE];

		unsupported_text(&c->source_blocks, why, sizeof(why));
		/* The replay way would need the target's WAL of the common checkpoint. */
		if (c->target_lost_common)
			return lost_and_unsupported(c, why, err);
		/* Replay follows any record: give up the bracket, go the replay way. */
		strategy_log(r, LOG_INFO, "dbid %d: %s: the new mirror replays the WAL instead",
			     r->dbid, why);
		PQfinish(c->backup_conn);
		c->backup_conn = NULL;
		c->method = METHOD_REPLAY;
	}
	return 0;
}

/* The LSN after "KEY: " in a backup_label text. */
static bool label_lsn(const char *label, const char *key, lsn_t *out)
{
	const char *p = strstr(label, key);
	unsigned long long v;
	char buf[32];

	if (p == NULL || sscanf(p + strlen(key), " %31s", buf) != 1 || !pg_parse_lsn(buf, &v))
		return false;
	*out = (lsn_t) v;
	return true;
}

/*
 * The end of the blocks way: pg_control as the backup saw it, pg_backup_stop, the WAL segments
 * from the backup's start to its checkpoint record (complete now: the stop switched segments),
 * the backup's own backup_label. The target then replays from the backup's start and is
 * consistent at its end, as a base backup is.
 */
static int finish_blocks(struct incr *c, struct errbuf *err)
{
	struct recovery *r = c->r;
	uint32_t seg = c->target_ctl.xlog_seg_size;
	struct pgcontrol after;
	PGresult *res;
	unsigned long long stop = 0;
	lsn_t checkpoint = LSN_INVALID;
	const char *label;
	int rc = 0;

	if (fetch_source_control(c, &after, err) != 0)
		return -1;
	r->host->phase(r, "backup-stop");
	/* Not waiting for archiving: the mirror streams this WAL through its slot. */
	res = pg_query(c->backup_conn, "SELECT lsn, labelfile FROM pg_catalog.pg_backup_stop(false)", 0,
		       NULL, err);
	if (res == NULL)
		return errbuf_prefix(err, "cannot end the backup on source dbid %d", r->source_dbid);
	label = PQntuples(res) == 1 ? PQgetvalue(res, 0, 1) : "";
	if (PQntuples(res) != 1 || !pg_parse_lsn(PQgetvalue(res, 0, 0), &stop) ||
	    !label_lsn(label, "CHECKPOINT LOCATION:", &checkpoint) || checkpoint < c->backup_start)
		rc = errbuf_set(err, "pg_backup_stop on source dbid %d gave no usable backup_label",
				r->source_dbid);
	for (uint64_t s = c->backup_start / seg; rc == 0 && s <= checkpoint / seg; s++) {
		char path[64];

		wal_path(path, sizeof(path), after.timeline, s, seg);
		rc = source_queue_file(c->src, path, seg, err);
	}
	if (rc == 0)
		rc = source_flush(c->src, err);
	if (rc == 0)
		rc = targetio_write_file(c->tio, "backup_label", label, strlen(label), err);
	PQclear(res);
	if (rc != 0 || targetio_sync(c->tio, err) != 0)
		return -1;
	if (rewindlabel_write_control(r->target_datadir, &after, (lsn_t) stop, after.timeline, err) != 0)
		return -1;
	strategy_log(r, LOG_INFO, "dbid %d: replay starts at the backup's start " LSN_FMT " (checkpoint "
				  LSN_FMT ", timeline %u) and is consistent at its end " LSN_FMT,
		     r->dbid, LSN_ARGS(c->backup_start), LSN_ARGS(checkpoint), after.timeline,
		     LSN_ARGS((lsn_t) stop));
	return 0;
}

/*
 * Everything before the first change, for run and estimate alike: the histories, the divergence,
 * the way (replay or blocks), the file map. 1: there is a rewind to do; 0: nothing to copy, the
 * target is behind the source on its history; -1: failed.
 */
static int prepare(struct incr *c, struct errbuf *err)
{
	struct recovery *r = c->r;
	lsn_t source_insert;
	int needed;

	c->tio = targetio_create(r->target_datadir, progress_cb, r);
	if (source_open(r->source_host, r->source_port, c->tio, &c->src, err) != 0)
		return errbuf_prefix(err, "source dbid %d", r->source_dbid);
	source_set_dbid(c->src, r->source_dbid);
	if (check_source(source_conn(c->src), r, c->target_ctl.system_identifier, err) != 0)
		return -1;
	/* A promoted source shows its new timeline in pg_control only after a checkpoint (PG15). */
	r->host->phase(r, "checkpoint");
	if (pg_exec(source_conn(c->src), "CHECKPOINT", 0, NULL, err) != 0 ||
	    fetch_source_control(c, &c->source_ctl, err) != 0 ||
	    (!c->estimate_only && slot_ensure(source_conn(c->src), false, err) != 0))
		return -1;
	if (c->source_ctl.xlog_seg_size != c->target_ctl.xlog_seg_size) {
		errbuf_set(err, "WAL segment sizes differ (source %u, target %u); use gprecoverseg -F",
			   c->source_ctl.xlog_seg_size, c->target_ctl.xlog_seg_size);
		return full_copy_needed(r);
	}
	if (load_histories(c, err) != 0 ||
	    timeline_find_common_ancestor(&c->source_hist, &c->target_hist, &c->div, err) != 0) {
		errbuf_append(err, "Use gprecoverseg -F.");
		return full_copy_needed(r);
	}
	needed = rewind_needed(c, err);
	if (needed <= 0)
		return needed;
	if (c->target_lost_common)
		strategy_log(r, LOG_INFO, "dbid %d: diverged from the source at " LSN_FMT " (timeline "
					  "%u); the target's WAL goes on to " LSN_FMT "; its last common "
					  "checkpoint is no longer in the target's pg_wal",
			     r->dbid, LSN_ARGS(c->div.lsn), c->div.tli, LSN_ARGS(c->target_end));
	else
		strategy_log(r, LOG_INFO, "dbid %d: diverged from the source at " LSN_FMT " (timeline "
					  "%u); the target's WAL goes on to " LSN_FMT "; last common "
					  "checkpoint " LSN_FMT,
			     r->dbid, LSN_ARGS(c->div.lsn), c->div.tli, LSN_ARGS(c->target_end),
			     LSN_ARGS(c->common_ckpt.lsn));
	if (source_log_directory(source_conn(c->src), &c->log_directory, err) != 0 ||
	    choose_method(c, err) != 0)
		return -1;
	if (c->method == METHOD_BLOCKS && !c->estimate_only && begin_backup(c, err) != 0)
		return -1;
	if (source_insert_lsn(c->src, &source_insert, err) != 0 || build_filemap(c, source_insert, err) != 0)
		return -1;
	return 1;
}

static int incremental_run(struct recovery *r, struct errbuf *err)
{
	struct incr c;
	struct filemap_totals totals;
	int rc = -1, needed;

	memset(&c, 0, sizeof(c));
	c.r = r;
	c.source_local = host_is_local(r->source_host);
	r->host->phase(r, "inspect");
	if (inspect_target(&c, err) != 0)
		return -1;
	needed = prepare(&c, err);
	if (needed < 0)
		goto out;
	if (needed == 0) {
		/* The target is behind the source on its history: streaming alone catches it up. */
		if (c.div.lsn == LSN_INVALID)
			strategy_log(r, LOG_INFO, "dbid %d: the target's WAL ends at " LSN_FMT " on the "
						  "source's own timeline, which never left it; nothing to copy, "
						  "it catches up by streaming",
				     r->dbid, LSN_ARGS(c.target_end));
		else
			strategy_log(r, LOG_INFO, "dbid %d: the target's WAL ends at " LSN_FMT ", before "
						  "the divergence point " LSN_FMT "; nothing to copy, it catches "
						  "up by streaming",
				     r->dbid, LSN_ARGS(c.target_end), LSN_ARGS(c.div.lsn));
		if (r->host->begin_changes(r, err) != 0 || copy_history_files(&c, err) != 0 ||
		    targetio_sync(c.tio, err) != 0)
			goto out;
		r->bytes_copied = source_bytes_fetched(c.src);
		rc = 0;
		goto out;
	}
	filemap_totals(c.fm, &totals);
	r->bytes_total = totals.fetch_bytes + (c.method == METHOD_BLOCKS ? c.target_ctl.xlog_seg_size : 0);
	strategy_log(r, LOG_INFO, "dbid %d: need to copy %llu MB (%zu changed blocks, %zu whole files, "
				  "%zu tails; %zu truncated, %zu removed) of a %llu MB source",
		     r->dbid, units_whole_mb(totals.fetch_bytes), totals.blocks, totals.copy,
		     totals.copy_tail, totals.truncate, totals.remove,
		     units_whole_mb(totals.source_bytes));

	/* From here on the target changes: it can only start as a standby, and says it is mixed. */
	if (r->host->begin_changes(r, err) != 0)
		goto out;
	r->host->phase(r, "copy");
	inject_point("incremental-copy");
	if (execute(&c, err) != 0 ||
	    (c.method == METHOD_BLOCKS ? finish_blocks(&c, err) : finish(&c, err)) != 0) {
		errbuf_append(err, "The directory is left partly rewound (marked with " TARGET_MARK_FILE
				   "); run gprecoverseg -F.");
		full_copy_needed(r);
		goto out;
	}
	r->bytes_copied = source_bytes_fetched(c.src) + c.sent_bytes;
	rc = 0;
out:
	release(&c);
	return rc;
}

/* What run would move, changing nothing: the same preparation, without crash recovery or bracket. */
static int incremental_estimate(struct recovery *r, struct strategy_estimate *e, struct errbuf *err)
{
	struct incr c;
	int needed = -1;

	if (incremental_check(r, err) != 0)
		return -1;
	memset(&c, 0, sizeof(c));
	c.r = r;
	c.estimate_only = true;
	c.source_local = host_is_local(r->source_host);
	if (pgcontrol_read(r->target_datadir, &c.target_ctl, err) != 0)
		return -1;
	c.target_is_standby = target_has(r, "standby.signal");
	if (!pgcontrol_is_shut_down(&c.target_ctl) &&
	    !(c.target_is_standby && c.target_ctl.state == DB_IN_ARCHIVE_RECOVERY)) {
		e->unknown = true;
		snprintf(e->method, sizeof(e->method), "the target was not shut down cleanly (%s): crash "
			 "recovery runs first", pgcontrol_state_name(c.target_ctl.state));
		return 0;
	}
	needed = prepare(&c, err);
	if (needed == 0) {
		e->bytes = 0;
		snprintf(e->method, sizeof(e->method), "nothing to copy: it catches up by streaming");
	} else if (needed > 0) {
		struct filemap_totals totals;

		filemap_totals(c.fm, &totals);
		/* Compressed, the copy weighs what the sample of its blocks did. */
		e->bytes = (uint64_t) ((double) totals.fetch_bytes * (c.ratio > 0 ? c.ratio : 1.0));
		if (c.method == METHOD_BLOCKS) {
			/* finish_blocks also copies the WAL segment the backup starts in. */
			e->bytes += c.target_ctl.xlog_seg_size;
			snprintf(e->method, sizeof(e->method),
				 "copy the %llu blocks changed on either side; replay from the copy's start",
				 (unsigned long long) (totals.blocks));
		} else {
			e->replay_bytes = c.replay_bytes;
			snprintf(e->method, sizeof(e->method),
				 "copy the target's %zu changed blocks; replay the source's WAL since the "
				 "divergence",
				 totals.blocks);
		}
	}
	release(&c);
	return needed < 0 ? -1 : 0;
}

/* The helper next to the source: read ahead for the copy, send it compressed, or the blocks the
 * source's WAL names. */
static int incremental_helper(const char *source_datadir, const char *const *args, int in_fd,
			      int out_fd, struct errbuf *err)
{
	if (args != NULL && args[0] != NULL && strcmp(args[0], PREFETCH_HELPER_ARG) == 0)
		return prefetch_helper(source_datadir, args, in_fd, out_fd, err);
	if (args != NULL && args[0] != NULL && strcmp(args[0], SENDER_HELPER_ARG) == 0)
		return sender_helper(source_datadir, args, in_fd, out_fd, err);
	return walblocks_helper(source_datadir, args, in_fd, out_fd, err);
}

const struct strategy strategy_incremental = {
	.abi_version = STRATEGY_ABI_VERSION,
	.name = "incremental",
	.label = "Incremental",
	.caps = STRATEGY_IN_PLACE_ONLY | STRATEGY_FALLS_BACK | STRATEGY_ESTIMATE_READS |
		STRATEGY_COMPRESSES,
	.check = incremental_check,
	.estimate = incremental_estimate,
	.run = incremental_run,
	.helper = incremental_helper,
};
