#include "base/walreader.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32c.h"
#include "xalloc.h"

/* xlp_info bits of a page header. */
#define XLP_FIRST_IS_CONTRECORD 0x0001u
#define XLP_LONG_HEADER 0x0002u
#define XLP_FIRST_IS_OVERWRITE_CONTRECORD 0x0008u
#define XLP_ALL_FLAGS 0x000Fu

/* Offsets in the page header (XLogPageHeaderData, then the long header's extra fields). */
#define XLP_OFF_MAGIC 0
#define XLP_OFF_INFO 2
#define XLP_OFF_TLI 4
#define XLP_OFF_PAGEADDR 8
#define XLP_OFF_REM_LEN 16
#define XLP_OFF_SYSID 24
#define XLP_OFF_SEG_SIZE 32
#define XLP_OFF_XLOG_BLCKSZ 36

/* Offsets in the record header (XLogRecord). */
#define XL_OFF_TOT_LEN 0
#define XL_OFF_XID 4
#define XL_OFF_PREV 8
#define XL_OFF_INFO 16
#define XL_OFF_RMID 17
#define XL_OFF_CRC 20

/* Fragment header ids that are not block references. */
#define XLR_BLOCK_ID_DATA_SHORT 255
#define XLR_BLOCK_ID_DATA_LONG 254
#define XLR_BLOCK_ID_ORIGIN 253
#define XLR_BLOCK_ID_TOPLEVEL_XID 252

/*
 * The reader caches this much of the open segment: large reads are what makes sequential decoding
 * fast, and one chunk plus the reassembly buffer is all the memory it holds. Segments are at
 * least 1 MiB and powers of two, so a chunk never spans two segment files.
 */
#define READ_CHUNK_SIZE (1u << 20)

#define MAXALIGN(x) (((lsn_t) (x) + 7) & ~(lsn_t) 7)

/* A reassembly buffer grown beyond this for a huge record is given back on the next read. */
#define RECBUF_KEEP_SIZE (1u << 20)

struct wal_reader {
	char *waldir;
	struct timeline_history history;
	uint32_t seg_size;
	uint64_t system_identifier;
	void (*segment_opened)(void *arg, uint32_t tli, uint64_t segno, const char *path);
	void *callback_arg;

	/* The open segment file; fd is -1 when none is open. */
	int fd;
	uint64_t segno;
	char *seg_path; /* its path; sized for any segment name */
	uint64_t prefetched_segno; /* the last segment asked for ahead (0: none) */

	/* The cached part of the open segment: [chunk_lsn, chunk_lsn + chunk_len). */
	uint8_t *chunk;
	uint32_t chunk_len; /* 0: nothing cached */
	lsn_t chunk_lsn;
	lsn_t checked_page; /* the page of the chunk whose header was last checked */
	uint8_t *first_page;

	/* Page TLIs may not go backwards as the reader moves forward (as the server checks). */
	lsn_t latest_page_lsn;
	uint32_t latest_page_tli;

	/* Records that cross pages are reassembled here; it grows to the largest such record. */
	uint8_t *recbuf;
	size_t recbuf_size;

	struct wal_record record;
	bool have_position; /* read_next continues after next_prev, at next_lsn */
	lsn_t next_lsn;
	lsn_t next_prev;
};

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

const char *wal_rmgr_name(uint8_t rmid)
{
	static const char *const names[WAL_RM_MAX_BUILTIN + 1] = {
		"XLOG",       "Transaction",    "Storage", "CLOG",     "Database",
		"Tablespace", "MultiXact",      "RelMap",  "Standby",  "Heap2",
		"Heap",       "Btree",          "Hash",    "Gin",      "Gist",
		"Sequence",   "SPGist",         "BRIN",    "CommitTs", "ReplicationOrigin",
		"Generic",    "LogicalMessage",
	};

	if (rmid <= WAL_RM_MAX_BUILTIN)
		return names[rmid];
	return rmid >= 128 ? "custom" : "invalid";
}

uint32_t wal_record_crc(const uint8_t *raw, uint32_t len)
{
	/* The server feeds the body first, then the header up to (not including) xl_crc. */
	uint32_t crc =
	    crc32c_update(CRC32C_INIT, raw + WAL_RECORD_HEADER_SIZE, len - WAL_RECORD_HEADER_SIZE);

	crc = crc32c_update(crc, raw, XL_OFF_CRC);
	return crc32c_final(crc);
}

/* --- decoding -------------------------------------------------------------------------------- */

/* The consistency rules of a block image header (DecodeXLogRecord's). */
static int check_image_header(const struct wal_block_ref *b, lsn_t lsn, struct errbuf *err)
{
	bool has_hole = (b->bimg_info & WAL_BKPIMAGE_HAS_HOLE) != 0;
	bool compressed = WAL_BKPIMAGE_COMPRESSED(b->bimg_info);
	const char *problem = NULL;

	if (b->image_len > WAL_BLCKSZ)
		problem = "image longer than a block";
	else if (has_hole &&
		 (b->hole_offset == 0 || b->hole_length == 0 || b->image_len == WAL_BLCKSZ ||
		  (uint32_t) b->hole_offset + b->hole_length > WAL_BLCKSZ))
		problem = "image has a hole flag but an impossible hole";
	else if (!has_hole && (b->hole_offset != 0 || b->hole_length != 0))
		problem = "image has no hole flag but a hole";
	else if (compressed && b->image_len == WAL_BLCKSZ)
		problem = "compressed image is a whole block long";
	if (problem == NULL)
		return 0;
	return errbuf_set(err,
			  "block %u of WAL record at " LSN_FMT
			  ": %s (image length %u, hole offset %u, "
			  "hole length %u, flags %02X)",
			  b->id, LSN_ARGS(lsn), problem, b->image_len, b->hole_offset,
			  b->hole_length, b->bimg_info);
}

int wal_record_decode(const uint8_t *raw, uint32_t len, lsn_t lsn, struct wal_record *out,
		      struct errbuf *err)
{
	const uint8_t *ptr;
	uint32_t remaining;
	uint64_t datatotal = 0;
	int last_id = -1;
	const struct wal_relfilenode *prev_rnode = NULL;
	unsigned i;

	if (len < WAL_RECORD_HEADER_SIZE || rd32(raw + XL_OFF_TOT_LEN) != len)
		return errbuf_set(err,
				  "WAL record at " LSN_FMT " has %u bytes but a length field of %u",
				  LSN_ARGS(lsn), len, len >= 4 ? rd32(raw) : 0);
	out->lsn = lsn;
	out->end_lsn = lsn + MAXALIGN(len);
	out->tot_len = len;
	out->xid = rd32(raw + XL_OFF_XID);
	out->prev = rd64(raw + XL_OFF_PREV);
	out->info = raw[XL_OFF_INFO];
	out->rmid = raw[XL_OFF_RMID];
	out->toplevel_xid = 0;
	out->has_origin = false;
	out->origin = 0;
	out->nblocks = 0;
	out->main_data = NULL;
	out->main_data_len = 0;
	out->raw = raw;

	ptr = raw + WAL_RECORD_HEADER_SIZE;
	remaining = len - WAL_RECORD_HEADER_SIZE;

#define TAKE(dst, n)                     \
	do {                             \
		if (remaining < (n))     \
			goto short_data; \
		memcpy((dst), ptr, (n)); \
		ptr += (n);              \
		remaining -= (n);        \
	} while (0)

	/* Fragment headers, until the main-data header or until only payload is left. */
	while (remaining > datatotal) {
		uint8_t id;

		TAKE(&id, 1);
		if (id == XLR_BLOCK_ID_DATA_SHORT) {
			uint8_t short_len;

			TAKE(&short_len, 1);
			out->main_data_len = short_len;
			datatotal += short_len;
			break; /* the main-data header is always last */
		} else if (id == XLR_BLOCK_ID_DATA_LONG) {
			TAKE(&out->main_data_len, 4);
			datatotal += out->main_data_len;
			break;
		} else if (id == XLR_BLOCK_ID_ORIGIN) {
			TAKE(&out->origin, 2);
			out->has_origin = true;
		} else if (id == XLR_BLOCK_ID_TOPLEVEL_XID) {
			TAKE(&out->toplevel_xid, 4);
		} else if (id <= WAL_MAX_BLOCK_ID) {
			struct wal_block_ref *b;
			bool has_data;

			if ((int) id <= last_id)
				return errbuf_set(
				    err, "out-of-order block id %u in WAL record at " LSN_FMT, id,
				    LSN_ARGS(lsn));
			last_id = id;
			b = &out->blocks[out->nblocks++];
			memset(b, 0, sizeof(*b));
			b->id = id;
			TAKE(&b->flags, 1);
			b->fork = b->flags & WAL_BKPBLOCK_FORK_MASK;
			b->has_image = (b->flags & WAL_BKPBLOCK_HAS_IMAGE) != 0;
			b->will_init = (b->flags & WAL_BKPBLOCK_WILL_INIT) != 0;
			has_data = (b->flags & WAL_BKPBLOCK_HAS_DATA) != 0;
			TAKE(&b->data_len, 2);
			if (has_data != (b->data_len > 0))
				return errbuf_set(
				    err,
				    "block %u of WAL record at " LSN_FMT ": the has-data flag "
				    "is %s but the data length is %u",
				    id, LSN_ARGS(lsn), has_data ? "set" : "not set", b->data_len);
			datatotal += b->data_len;
			if (b->has_image) {
				bool compressed;

				TAKE(&b->image_len, 2);
				TAKE(&b->hole_offset, 2);
				TAKE(&b->bimg_info, 1);
				b->apply_image = (b->bimg_info & WAL_BKPIMAGE_APPLY) != 0;
				compressed = WAL_BKPIMAGE_COMPRESSED(b->bimg_info);
				/* Only a compressed image stores its hole length; otherwise it is implied. */
				if (compressed && (b->bimg_info & WAL_BKPIMAGE_HAS_HOLE))
					TAKE(&b->hole_length, 2);
				else if (!compressed && b->image_len <= WAL_BLCKSZ)
					b->hole_length = (uint16_t) (WAL_BLCKSZ - b->image_len);
				datatotal += b->image_len;
				if (check_image_header(b, lsn, err) != 0)
					return -1;
			}
			if (!(b->flags & WAL_BKPBLOCK_SAME_REL)) {
				TAKE(&b->rnode.spc, 4);
				TAKE(&b->rnode.db, 4);
				TAKE(&b->rnode.rel, 4);
				prev_rnode = &b->rnode;
			} else {
				if (prev_rnode == NULL)
					return errbuf_set(
					    err,
					    "block %u of WAL record at " LSN_FMT
					    ": same-relation flag set but no earlier block",
					    id, LSN_ARGS(lsn));
				b->rnode = *prev_rnode;
			}
			TAKE(&b->blkno, 4);
		} else {
			return errbuf_set(err, "invalid block id %u in WAL record at " LSN_FMT, id,
					  LSN_ARGS(lsn));
		}
	}
#undef TAKE
	if (remaining != datatotal)
		goto short_data;

	/* Payloads follow the headers in the same order: per block image then data, then main data. */
	for (i = 0; i < out->nblocks; i++) {
		struct wal_block_ref *b = &out->blocks[i];

		if (b->has_image) {
			b->image = ptr;
			ptr += b->image_len;
		}
		if (b->data_len > 0) {
			b->data = ptr;
			ptr += b->data_len;
		}
	}
	if (out->main_data_len > 0)
		out->main_data = ptr;
	return 0;

short_data:
	return errbuf_set(err,
			  "WAL record at " LSN_FMT
			  " has an invalid length: its headers and payloads do "
			  "not add up to %u bytes",
			  LSN_ARGS(lsn), len);
}

/* --- segment files and pages ----------------------------------------------------------------- */

static void set_segment_path(const struct wal_reader *r, uint64_t segno, char *path)
{
	char name[WAL_FILE_NAME_LEN + 1];

	wal_file_name(name, timeline_tli_of_segment(&r->history, segno, r->seg_size), segno,
		      r->seg_size);
	sprintf(path, "%s/%s", r->waldir, name);
}

/* Path of the segment file holding LSN, for messages (BUF is strlen(waldir) + 26 bytes). */
static const char *file_of(const struct wal_reader *r, lsn_t lsn, char *buf)
{
	set_segment_path(r, lsn / r->seg_size, buf);
	return buf;
}

#define PATH_BUF(r) (strlen((r)->waldir) + WAL_FILE_NAME_LEN + 2)

static ssize_t pread_full(int fd, void *buf, size_t len, off_t offset)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *) buf + done, len - done, offset + (off_t) done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		done += (size_t) n;
	}
	return (ssize_t) done;
}

static void close_segment(struct wal_reader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	r->chunk_len = 0;
	r->checked_page = LSN_INVALID;
}

/* Check the header of the page at PAGE_LSN of the open segment (XLogReaderValidatePageHeader). */
static int check_page_header(struct wal_reader *r, const uint8_t *page, lsn_t page_lsn,
			     struct errbuf *err)
{
	uint16_t magic = rd16(page + XLP_OFF_MAGIC);
	uint16_t info = rd16(page + XLP_OFF_INFO);
	uint32_t tli = rd32(page + XLP_OFF_TLI);
	lsn_t pageaddr = rd64(page + XLP_OFF_PAGEADDR);
	uint32_t offset = (uint32_t) (page_lsn % r->seg_size);
	uint64_t sysid = 0;

	if (magic != WAL_PAGE_MAGIC) {
		/* Segments are zero-filled before use: a zero page was never written. */
		if (magic == 0 && pageaddr == 0) {
			errbuf_set(err,
				   "end of WAL at " LSN_FMT
				   ": the page was never written (WAL segment "
				   "file %s, offset %u)",
				   LSN_ARGS(page_lsn), r->seg_path, offset);
			return WAL_READ_END;
		}
		return errbuf_set(err,
				  "invalid magic number %04X in the WAL page at " LSN_FMT
				  " (WAL segment file %s, offset %u)",
				  magic, LSN_ARGS(page_lsn), r->seg_path, offset);
	}
	if (info & ~XLP_ALL_FLAGS)
		return errbuf_set(err,
				  "invalid info bits %04X in the WAL page at " LSN_FMT
				  " (WAL segment file %s, offset %u)",
				  info, LSN_ARGS(page_lsn), r->seg_path, offset);
	if (offset == 0) {
		uint32_t seg_size = rd32(page + XLP_OFF_SEG_SIZE);
		uint32_t blcksz = rd32(page + XLP_OFF_XLOG_BLCKSZ);

		if (!(info & XLP_LONG_HEADER))
			return errbuf_set(
			    err,
			    "the first page of WAL segment file %s has no long header "
			    "(info bits %04X)",
			    r->seg_path, info);
		sysid = rd64(page + XLP_OFF_SYSID);
		if (r->system_identifier != 0 && sysid != r->system_identifier)
			return errbuf_set(
			    err,
			    "WAL segment file %s is from a different database system: "
			    "its system identifier is %llu, expected %llu",
			    r->seg_path, (unsigned long long) sysid,
			    (unsigned long long) r->system_identifier);
		if (seg_size != r->seg_size)
			return errbuf_set(
			    err,
			    "WAL segment file %s is from a different database system: its "
			    "segment size is %u, expected %u",
			    r->seg_path, seg_size, r->seg_size);
		if (blcksz != WAL_BLCKSZ)
			return errbuf_set(
			    err,
			    "WAL segment file %s is from a different database system: its "
			    "WAL block size is %u, expected %u",
			    r->seg_path, blcksz, WAL_BLCKSZ);
	} else if (info & XLP_LONG_HEADER) {
		return errbuf_set(err,
				  "unexpected long header in the WAL page at " LSN_FMT
				  " (WAL segment file %s, offset %u)",
				  LSN_ARGS(page_lsn), r->seg_path, offset);
	}
	/* A recycled segment still holds the pages of the segment it was before: the WAL ends. */
	if (pageaddr != page_lsn) {
		errbuf_set(err,
			   "end of WAL at " LSN_FMT ": the page holds " LSN_FMT
			   " instead (a recycled segment; WAL segment file %s, offset %u)",
			   LSN_ARGS(page_lsn), LSN_ARGS(pageaddr), r->seg_path, offset);
		return WAL_READ_END;
	}
	/* Child timelines have higher TLIs, so consecutive pages never go back. */
	if (page_lsn > r->latest_page_lsn && tli < r->latest_page_tli)
		return errbuf_set(
		    err,
		    "out-of-sequence timeline ID %u (after %u) in the WAL page at " LSN_FMT
		    " (WAL segment file %s, offset %u)",
		    tli, r->latest_page_tli, LSN_ARGS(page_lsn), r->seg_path, offset);
	r->latest_page_lsn = page_lsn;
	r->latest_page_tli = tli;
	if (offset == 0 && r->system_identifier == 0)
		r->system_identifier = sysid;
	return WAL_READ_OK;
}

static bool history_has_tli(const struct wal_reader *r, uint32_t tli)
{
	size_t i;

	for (i = 0; i < r->history.count; i++)
		if (r->history.entries[i].tli == tli)
			return true;
	return false;
}

/* Does this segment file hold written WAL of its own position (not a recycled or new file)? */
static bool segment_is_written(const char *path, lsn_t seg_start)
{
	uint8_t header[WAL_SHORT_PAGE_HEADER_SIZE];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool written;

	if (fd < 0)
		return false;
	written = pread_full(fd, header, sizeof(header), 0) == (ssize_t) sizeof(header) &&
		  rd16(header + XLP_OFF_MAGIC) == WAL_PAGE_MAGIC &&
		  rd64(header + XLP_OFF_PAGEADDR) == seg_start;
	close(fd);
	return written;
}

/*
 * The segment file for LSN does not exist. That is the end of the WAL, unless a later segment of
 * this history holds written WAL: then a file is missing in the middle.
 */
static int missing_segment(struct wal_reader *r, uint64_t segno, lsn_t lsn, struct errbuf *err)
{
	DIR *dir = opendir(r->waldir);
	struct dirent *de;
	char *later = NULL;

	if (dir == NULL)
		return errbuf_set_errno(err, errno, "cannot open WAL directory %s", r->waldir);
	while ((de = readdir(dir)) != NULL) {
		uint32_t tli;
		uint64_t other;
		char *path;

		if (!wal_file_name_parse(de->d_name, r->seg_size, &tli, &other) || other <= segno ||
		    !history_has_tli(r, tli))
			continue;
		path = xasprintf("%s/%s", r->waldir, de->d_name);
		if (segment_is_written(path, other * r->seg_size)) {
			later = path;
			break;
		}
		free(path);
	}
	closedir(dir);
	if (later != NULL) {
		errbuf_set(err,
			   "WAL segment file %s is missing (it holds " LSN_FMT
			   "), but the later segment file %s exists",
			   r->seg_path, LSN_ARGS(lsn), later);
		free(later);
		return WAL_READ_ERROR;
	}
	errbuf_set(err, "end of WAL at " LSN_FMT ": WAL segment file %s does not exist",
		   LSN_ARGS(lsn), r->seg_path);
	return WAL_READ_END;
}

/* Open the file of segment SEGNO and check its first page (LSN is what the caller wants). */
static int open_segment(struct wal_reader *r, uint64_t segno, lsn_t lsn, struct errbuf *err)
{
	struct stat st;
	lsn_t seg_start = segno * (lsn_t) r->seg_size;
	ssize_t n;
	int status;

	close_segment(r);
	set_segment_path(r, segno, r->seg_path);
	r->fd = open(r->seg_path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0) {
		if (errno == ENOENT)
			return missing_segment(r, segno, lsn, err);
		return errbuf_set_errno(err, errno, "cannot open WAL segment file %s", r->seg_path);
	}
	r->segno = segno;
	if (fstat(r->fd, &st) != 0) {
		errbuf_set_errno(err, errno, "cannot stat WAL segment file %s", r->seg_path);
		goto fail;
	}
	if (st.st_size != (off_t) r->seg_size) {
		errbuf_set(err, "WAL segment file %s is %lld bytes, expected %u", r->seg_path,
			   (long long) st.st_size, r->seg_size);
		goto fail;
	}
	/*
	 * A forward scan reads the whole segment: ask for all of it at once, so that the disk works
	 * while records are decoded, with more than the readahead window in flight.
	 */
	(void) posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	(void) posix_fadvise(r->fd, 0, 0, POSIX_FADV_WILLNEED);
	/*
	 * Like the server, check the first page whenever switching segments, wherever the wanted
	 * page is: only its long header names the system and the segment size.
	 */
	n = pread_full(r->fd, r->first_page, WAL_BLCKSZ, 0);
	if (n < 0) {
		errbuf_set_errno(err, errno, "cannot read WAL segment file %s", r->seg_path);
		goto fail;
	}
	if (n != (ssize_t) WAL_BLCKSZ) {
		errbuf_set(err, "cannot read WAL segment file %s: read %zd of %u bytes",
			   r->seg_path, n, WAL_BLCKSZ);
		goto fail;
	}
	status = check_page_header(r, r->first_page, seg_start, err);
	if (status != WAL_READ_OK) {
		close_segment(r);
		return status;
	}
	if (r->segment_opened)
		r->segment_opened(r->callback_arg,
				  timeline_tli_of_segment(&r->history, segno, r->seg_size), segno,
				  r->seg_path);
	return WAL_READ_OK;

fail:
	close_segment(r);
	return WAL_READ_ERROR;
}

/*
 * Half way through a segment, the next one is asked for too (opened, advised, closed: the reads
 * stay in flight), so that a forward scan never waits at a segment's start. A missing file is
 * no error here: the reader finds out when it gets there.
 */
static void prefetch_next_segment(struct wal_reader *r)
{
	uint64_t next = r->segno + 1;
	char *path;
	int fd;

	if (r->prefetched_segno == next)
		return;
	r->prefetched_segno = next;
	path = xmalloc(PATH_BUF(r));
	set_segment_path(r, next, path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		(void) posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);
		close(fd);
	}
	free(path);
}

static int read_chunk(struct wal_reader *r, lsn_t page_lsn, struct errbuf *err)
{
	lsn_t seg_start = r->segno * (lsn_t) r->seg_size;
	uint32_t offset = (uint32_t) ((page_lsn - seg_start) / READ_CHUNK_SIZE * READ_CHUNK_SIZE);
	ssize_t n;

	if (offset >= r->seg_size / 2)
		prefetch_next_segment(r);
	n = pread_full(r->fd, r->chunk, READ_CHUNK_SIZE, (off_t) offset);

	r->chunk_len = 0;
	r->checked_page = LSN_INVALID;
	if (n < 0)
		return errbuf_set_errno(err, errno, "cannot read WAL segment file %s at offset %u",
					r->seg_path, offset);
	if (n != (ssize_t) READ_CHUNK_SIZE)
		return errbuf_set(
		    err, "cannot read WAL segment file %s: read %zd of %u bytes at offset %u",
		    r->seg_path, n, READ_CHUNK_SIZE, offset);
	r->chunk_lsn = seg_start + offset;
	r->chunk_len = READ_CHUNK_SIZE;
	return WAL_READ_OK;
}

/* Make the page at PAGE_LSN available, with a checked header. */
static int load_page(struct wal_reader *r, lsn_t page_lsn, const uint8_t **page, struct errbuf *err)
{
	uint64_t segno = page_lsn / r->seg_size;
	int status;

	if (r->fd < 0 || segno != r->segno) {
		status = open_segment(r, segno, page_lsn, err);
		if (status != WAL_READ_OK)
			return status;
	}
	if (r->chunk_len == 0 || page_lsn < r->chunk_lsn ||
	    page_lsn >= r->chunk_lsn + r->chunk_len) {
		status = read_chunk(r, page_lsn, err);
		if (status != WAL_READ_OK)
			return status;
	}
	*page = r->chunk + (page_lsn - r->chunk_lsn);
	if (page_lsn != r->checked_page) {
		status = check_page_header(r, *page, page_lsn, err);
		if (status != WAL_READ_OK)
			return status;
		r->checked_page = page_lsn;
	}
	return WAL_READ_OK;
}

/* --- records --------------------------------------------------------------------------------- */

/* An error message that names the file where the record at LSN starts. */
static int record_error(const struct wal_reader *r, lsn_t lsn, struct errbuf *err, const char *what)
{
	char *path = xmalloc(PATH_BUF(r));

	errbuf_set(err, "WAL record at " LSN_FMT " (WAL segment file %s): %s", LSN_ARGS(lsn),
		   file_of(r, lsn, path), what);
	free(path);
	return WAL_READ_ERROR;
}

static int check_record_header(const struct wal_reader *r, const uint8_t *header, lsn_t lsn,
			       bool random_access, lsn_t expected_prev, struct errbuf *err)
{
	uint8_t rmid = header[XL_OFF_RMID];
	lsn_t prev = rd64(header + XL_OFF_PREV);
	char what[128];

	if (rmid > WAL_RM_MAX_BUILTIN && rmid < 128) {
		snprintf(what, sizeof(what), "invalid resource manager ID %u", rmid);
		return record_error(r, lsn, err, what);
	}
	if (random_access && !(prev < lsn)) {
		snprintf(what, sizeof(what), "incorrect prev-link " LSN_FMT, LSN_ARGS(prev));
		return record_error(r, lsn, err, what);
	}
	if (!random_access && prev != expected_prev) {
		snprintf(what, sizeof(what), "incorrect prev-link " LSN_FMT ", expected " LSN_FMT,
			 LSN_ARGS(prev), LSN_ARGS(expected_prev));
		return record_error(r, lsn, err, what);
	}
	return 0;
}

static void reserve_recbuf(struct wal_reader *r, uint32_t len)
{
	if (r->recbuf_size >= len)
		return;
	/* Grow geometrically but never beyond what is needed by much: records can be huge. */
	r->recbuf_size = len < 2 * r->recbuf_size ? 2 * r->recbuf_size : len;
	if (r->recbuf_size < 16 * WAL_BLCKSZ)
		r->recbuf_size = 16 * WAL_BLCKSZ;
	free(r->recbuf);
	r->recbuf = xmalloc(r->recbuf_size);
}

/*
 * Read the record at LSN (XLogDecodeNextRecord): find its start, check the header as soon as it
 * is whole, gather the pieces from continuation pages, check the CRC, decode.
 */
static int read_record(struct wal_reader *r, lsn_t lsn, bool random_access, lsn_t expected_prev,
		       struct errbuf *err)
{
	lsn_t rec_lsn = lsn, page_lsn, end_lsn = LSN_INVALID;
	const uint8_t *page, *raw;
	uint32_t page_off, header_size, avail, tot_len, stored_crc, crc;
	bool header_checked;
	int status;

	if (r->recbuf_size > RECBUF_KEEP_SIZE) {
		free(r->recbuf);
		r->recbuf = NULL;
		r->recbuf_size = 0;
	}
restart:
	page_off = (uint32_t) (rec_lsn % WAL_BLCKSZ);
	page_lsn = rec_lsn - page_off;
	status = load_page(r, page_lsn, &page, err);
	if (status != WAL_READ_OK)
		return status;
	header_size = wal_page_header_size(page_lsn, r->seg_size);
	if (page_off == 0) {
		/* A record "at" a page boundary is the first one after the page header. */
		rec_lsn += header_size;
		page_off = header_size;
	} else if (page_off < header_size) {
		return errbuf_set(err,
				  "invalid WAL record position " LSN_FMT
				  ": inside a page header (WAL segment file %s)",
				  LSN_ARGS(rec_lsn), r->seg_path);
	}
	if ((rd16(page + XLP_OFF_INFO) & XLP_FIRST_IS_CONTRECORD) && page_off == header_size)
		return errbuf_set(err,
				  "no WAL record starts at " LSN_FMT
				  ": the page begins with the rest of an earlier record "
				  "(WAL segment file %s)",
				  LSN_ARGS(rec_lsn), r->seg_path);
	if (rec_lsn % 8 != 0)
		return errbuf_set(err,
				  "invalid WAL record position " LSN_FMT
				  ": records start on 8-byte boundaries (WAL segment file %s)",
				  LSN_ARGS(rec_lsn), r->seg_path);

	avail = WAL_BLCKSZ - page_off;
	/* Records are 8-aligned, so at least the length field is on this page. */
	tot_len = rd32(page + page_off + XL_OFF_TOT_LEN);
	if (tot_len < WAL_RECORD_HEADER_SIZE) {
		errbuf_set(err,
			   "end of WAL at " LSN_FMT ": record length %u (WAL segment file %s, "
			   "offset %u)",
			   LSN_ARGS(rec_lsn), tot_len, r->seg_path,
			   (uint32_t) (rec_lsn % r->seg_size));
		return WAL_READ_END;
	}
	if (tot_len > WAL_MAX_RECORD_SIZE)
		return errbuf_set(err,
				  "WAL record at " LSN_FMT " has an impossible length %u "
				  "(WAL segment file %s)",
				  LSN_ARGS(rec_lsn), tot_len, r->seg_path);
	header_checked = false;
	if (avail >= WAL_RECORD_HEADER_SIZE) {
		if (check_record_header(r, page + page_off, rec_lsn, random_access, expected_prev,
					err) != 0)
			return WAL_READ_ERROR;
		header_checked = true;
	}

	if (tot_len <= avail) {
		/* The common case: the record is decoded where it lies in the chunk. */
		raw = page + page_off;
		end_lsn = rec_lsn + MAXALIGN(tot_len);
	} else {
		lsn_t cont_lsn = page_lsn;
		uint32_t got = avail;

		reserve_recbuf(r, tot_len);
		memcpy(r->recbuf, page + page_off, avail);
		while (got < tot_len) {
			const uint8_t *cont;
			uint16_t info;
			uint32_t rem_len, cont_header, take;

			cont_lsn += WAL_BLCKSZ;
			status = load_page(r, cont_lsn, &cont, err);
			if (status == WAL_READ_END) {
				errbuf_prefix(err, "WAL record at " LSN_FMT " is incomplete",
					      LSN_ARGS(rec_lsn));
				return WAL_READ_END;
			}
			if (status != WAL_READ_OK) {
				errbuf_prefix(err, "cannot read the rest of WAL record at " LSN_FMT,
					      LSN_ARGS(rec_lsn));
				return WAL_READ_ERROR;
			}
			info = rd16(cont + XLP_OFF_INFO);
			/*
			 * After a crash in the middle of a record the server wrote new WAL where its
			 * continuation should be, flagged so: that record was never completed, and
			 * reading restarts at this page.
			 */
			if (info & XLP_FIRST_IS_OVERWRITE_CONTRECORD) {
				rec_lsn = cont_lsn;
				goto restart;
			}
			if (!(info & XLP_FIRST_IS_CONTRECORD))
				return errbuf_set(
				    err,
				    "WAL record at " LSN_FMT " continues on the page at " LSN_FMT
				    ", but that page has no continuation flag "
				    "(WAL segment file %s)",
				    LSN_ARGS(rec_lsn), LSN_ARGS(cont_lsn), r->seg_path);
			rem_len = rd32(cont + XLP_OFF_REM_LEN);
			if (rem_len == 0 || rem_len != tot_len - got)
				return errbuf_set(
				    err,
				    "invalid continuation length %u on the WAL page at " LSN_FMT
				    " for the record at " LSN_FMT
				    " (expected %u; WAL segment file %s)",
				    rem_len, LSN_ARGS(cont_lsn), LSN_ARGS(rec_lsn), tot_len - got,
				    r->seg_path);
			cont_header = wal_page_header_size(cont_lsn, r->seg_size);
			take =
			    rem_len < WAL_BLCKSZ - cont_header ? rem_len : WAL_BLCKSZ - cont_header;
			memcpy(r->recbuf + got, cont + cont_header, take);
			got += take;
			if (!header_checked && got >= WAL_RECORD_HEADER_SIZE) {
				if (check_record_header(r, r->recbuf, rec_lsn, random_access,
							expected_prev, err) != 0)
					return WAL_READ_ERROR;
				header_checked = true;
			}
			if (got == tot_len)
				end_lsn = cont_lsn + cont_header + MAXALIGN(rem_len);
		}
		raw = r->recbuf;
	}

	stored_crc = rd32(raw + XL_OFF_CRC);
	crc = wal_record_crc(raw, tot_len);
	if (crc != stored_crc) {
		char what[96];

		snprintf(what, sizeof(what), "incorrect CRC-32C (stored %08X, computed %08X)",
			 stored_crc, crc);
		return record_error(r, rec_lsn, err, what);
	}
	if (wal_record_decode(raw, tot_len, rec_lsn, &r->record, err) != 0) {
		char *path = xmalloc(PATH_BUF(r));

		errbuf_append(err, "(WAL segment file %s)", file_of(r, rec_lsn, path));
		free(path);
		return WAL_READ_ERROR;
	}
	/* The rest of the segment after a switch record is unused: the next record is in the next. */
	if (r->record.rmid == WAL_RM_XLOG &&
	    (r->record.info & WAL_XLR_RMGR_INFO_MASK) == WAL_XLOG_SWITCH) {
		end_lsn += r->seg_size - 1;
		end_lsn -= end_lsn % r->seg_size;
	}
	r->record.end_lsn = end_lsn;
	return WAL_READ_OK;
}

/* --- public reader --------------------------------------------------------------------------- */

int wal_reader_open(const struct wal_reader_options *opts, struct wal_reader **out,
		    struct errbuf *err)
{
	struct wal_reader *r;
	struct stat st;

	if (!wal_seg_size_valid(opts->seg_size))
		return errbuf_set(err,
				  "invalid WAL segment size %u: must be a power of two from 1 MB "
				  "to 1 GB",
				  opts->seg_size);
	if (opts->history == NULL || opts->history->count == 0)
		return errbuf_set(err, "cannot read WAL in %s without a timeline history",
				  opts->waldir);
	if (stat(opts->waldir, &st) != 0)
		return errbuf_set_errno(err, errno, "cannot use WAL directory %s", opts->waldir);
	if (!S_ISDIR(st.st_mode))
		return errbuf_set(err, "cannot use WAL directory %s: not a directory",
				  opts->waldir);

	r = xcalloc(1, sizeof(*r));
	r->waldir = xstrdup(opts->waldir);
	timeline_history_copy(&r->history, opts->history);
	r->seg_size = opts->seg_size;
	r->system_identifier = opts->system_identifier;
	r->segment_opened = opts->segment_opened;
	r->callback_arg = opts->callback_arg;
	r->fd = -1;
	r->seg_path = xmalloc(PATH_BUF(r));
	r->seg_path[0] = '\0';
	r->chunk = xmalloc(READ_CHUNK_SIZE);
	r->first_page = xmalloc(WAL_BLCKSZ);
	r->checked_page = LSN_INVALID;
	*out = r;
	return 0;
}

void wal_reader_close(struct wal_reader *r)
{
	if (r == NULL)
		return;
	close_segment(r);
	timeline_history_release(&r->history);
	free(r->waldir);
	free(r->seg_path);
	free(r->chunk);
	free(r->first_page);
	free(r->recbuf);
	free(r);
}

uint32_t wal_reader_seg_size(const struct wal_reader *r)
{
	return r->seg_size;
}

static void remember_position(struct wal_reader *r)
{
	r->have_position = true;
	r->next_lsn = r->record.end_lsn;
	r->next_prev = r->record.lsn;
}

int wal_reader_read_at(struct wal_reader *r, lsn_t lsn, const struct wal_record **rec,
		       struct errbuf *err)
{
	int status;

	r->have_position = false;
	if (lsn == LSN_INVALID)
		return errbuf_set(err, "cannot read WAL at the invalid position 0/0");
	status = read_record(r, lsn, true, LSN_INVALID, err);
	if (status != WAL_READ_OK)
		return status;
	remember_position(r);
	*rec = &r->record;
	return WAL_READ_OK;
}

int wal_reader_read_first_in_segment(struct wal_reader *r, lsn_t seg_lsn,
				     const struct wal_record **rec, struct errbuf *err)
{
	lsn_t page_lsn = seg_lsn;

	r->have_position = false;
	if (seg_lsn == LSN_INVALID || seg_lsn % r->seg_size != 0)
		return errbuf_set(err, "no WAL segment starts at " LSN_FMT, LSN_ARGS(seg_lsn));
	for (;;) {
		const uint8_t *page;
		uint32_t header = wal_page_header_size(page_lsn, r->seg_size), rem;
		int status = load_page(r, page_lsn, &page, err);

		if (status != WAL_READ_OK)
			return status;
		if (!(rd16(page + XLP_OFF_INFO) & XLP_FIRST_IS_CONTRECORD))
			return wal_reader_read_at(r, page_lsn, rec, err);
		/* The page starts with the rest of an earlier record; ours starts after it. */
		rem = rd32(page + XLP_OFF_REM_LEN);
		if (header + MAXALIGN(rem) < WAL_BLCKSZ)
			return wal_reader_read_at(r, page_lsn + header + MAXALIGN(rem), rec, err);
		page_lsn += WAL_BLCKSZ;
	}
}

int wal_reader_read_next(struct wal_reader *r, const struct wal_record **rec, struct errbuf *err)
{
	int status;

	if (!r->have_position)
		return errbuf_set(err,
				  "no WAL record to continue from: read one at a position first");
	status = read_record(r, r->next_lsn, false, r->next_prev, err);
	if (status != WAL_READ_OK)
		return status;
	remember_position(r);
	*rec = &r->record;
	return WAL_READ_OK;
}
