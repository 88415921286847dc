#include "pgcontrol.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32c.h"
#include "fsutil.h"
#include "pgcontrol_layout.h"

static uint64_t get64(const unsigned char *p, size_t off)
{
	uint64_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

static uint32_t get32(const unsigned char *p, size_t off)
{
	uint32_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

static void put64(unsigned char *p, size_t off, uint64_t v)
{
	memcpy(p + off, &v, sizeof(v));
}

static void put32(unsigned char *p, size_t off, uint32_t v)
{
	memcpy(p + off, &v, sizeof(v));
}

const char *pgcontrol_state_name(enum db_state state)
{
	switch (state) {
	case DB_STARTUP:
		return "starting up";
	case DB_SHUTDOWNED:
		return "shut down";
	case DB_SHUTDOWNED_IN_RECOVERY:
		return "shut down in recovery";
	case DB_SHUTDOWNING:
		return "shutting down";
	case DB_IN_CRASH_RECOVERY:
		return "in crash recovery";
	case DB_IN_ARCHIVE_RECOVERY:
		return "in archive recovery";
	case DB_IN_PRODUCTION:
		return "in production";
	}
	return "unrecognized state";
}

static bool is_power_of_two(uint32_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

int pgcontrol_parse(const void *data, size_t len, struct pgcontrol *out, struct errbuf *err)
{
	const unsigned char *p = data;
	uint32_t crc;

	if (len != PG_CONTROL_FILE_SIZE)
		return errbuf_set(err, "pg_control has %zu bytes, expected %d", len,
				  PG_CONTROL_FILE_SIZE);
	crc = crc32c(p, OFF_CRC);
	if (crc != get32(p, OFF_CRC))
		return errbuf_set(err, "pg_control CRC mismatch (computed %08X, stored %08X): the "
				       "file is damaged or was read while being written",
				  crc, get32(p, OFF_CRC));
	memset(out, 0, sizeof(*out));
	memcpy(out->raw, p, PG_CONTROL_FILE_SIZE);
	out->system_identifier = get64(p, OFF_SYSID);
	out->pg_control_version = get32(p, OFF_VERSION);
	out->catalog_version_no = get32(p, OFF_CATVERSION);
	if (out->pg_control_version != PG_CONTROL_VERSION_15 ||
	    out->catalog_version_no != CATALOG_VERSION_15)
		return errbuf_set(err, "pg_control version %u, catalog version %u: not PostgreSQL 15 "
				       "(expected %d, %u)",
				  out->pg_control_version, out->catalog_version_no,
				  PG_CONTROL_VERSION_15, CATALOG_VERSION_15);
	out->state = (enum db_state) get32(p, OFF_STATE);
	out->checkpoint = get64(p, OFF_CHECKPOINT);
	out->redo = get64(p, OFF_CKP_REDO);
	out->timeline = get32(p, OFF_CKP_TLI);
	out->prev_timeline = get32(p, OFF_CKP_PREVTLI);
	out->full_page_writes = p[OFF_CKP_FPW] != 0;
	out->min_recovery_point = get64(p, OFF_MINRECOVERY);
	out->min_recovery_point_tli = get32(p, OFF_MINRECOVERY_TLI);
	out->backup_start_point = get64(p, OFF_BACKUP_START);
	out->backup_end_point = get64(p, OFF_BACKUP_END);
	out->backup_end_required = p[OFF_BACKUP_END_REQUIRED] != 0;
	out->wal_level = (int) get32(p, OFF_WAL_LEVEL);
	out->wal_log_hints = p[OFF_WAL_LOG_HINTS] != 0;
	out->blcksz = get32(p, OFF_BLCKSZ);
	out->xlog_blcksz = get32(p, OFF_XLOG_BLCKSZ);
	out->xlog_seg_size = get32(p, OFF_XLOG_SEG_SIZE);
	out->data_checksum_version = get32(p, OFF_CHECKSUM_VERSION);
	if (out->blcksz != 8192 || out->xlog_blcksz != 8192)
		return errbuf_set(err, "block size %u / WAL block size %u: only 8192 is supported",
				  out->blcksz, out->xlog_blcksz);
	if (!is_power_of_two(out->xlog_seg_size) || out->xlog_seg_size < 1024 * 1024 ||
	    out->xlog_seg_size > 1024 * 1024 * 1024)
		return errbuf_set(err, "WAL segment size %u is not a power of two between 1 MB and "
				       "1 GB",
				  out->xlog_seg_size);
	if ((unsigned) out->state > DB_IN_PRODUCTION)
		return errbuf_set(err, "pg_control has an unknown cluster state %u",
				  (unsigned) out->state);
	return 0;
}

int pgcontrol_read(const char *datadir, struct pgcontrol *out, struct errbuf *err)
{
	char path[4096];
	unsigned char buf[PG_CONTROL_FILE_SIZE + 1];
	ssize_t n;
	size_t got = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/global/pg_control", datadir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errbuf_set_errno(err, errno, "cannot open \"%s\"", path);
	while (got < sizeof(buf) && (n = read(fd, buf + got, sizeof(buf) - got)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			errbuf_set_errno(err, errno, "cannot read \"%s\"", path);
			close(fd);
			return -1;
		}
		got += (size_t) n;
	}
	close(fd);
	if (pgcontrol_parse(buf, got, out, err) != 0)
		return errbuf_prefix(err, "\"%s\"", path);
	return 0;
}

int pgcontrol_write(const char *datadir, struct pgcontrol *ctl, struct errbuf *err)
{
	unsigned char *p = ctl->raw;
	char path[4096];
	size_t done = 0;
	int fd;

	put32(p, OFF_STATE, (uint32_t) ctl->state);
	put64(p, OFF_MINRECOVERY, ctl->min_recovery_point);
	put32(p, OFF_MINRECOVERY_TLI, ctl->min_recovery_point_tli);
	put64(p, OFF_BACKUP_START, ctl->backup_start_point);
	put64(p, OFF_BACKUP_END, ctl->backup_end_point);
	p[OFF_BACKUP_END_REQUIRED] = ctl->backup_end_required ? 1 : 0;
	put32(p, OFF_CRC, crc32c(p, OFF_CRC));

	snprintf(path, sizeof(path), "%s/global/pg_control", datadir);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return errbuf_set_errno(err, errno, "cannot open \"%s\" for writing", path);
	while (done < PG_CONTROL_FILE_SIZE) {
		ssize_t n = pwrite(fd, p + done, PG_CONTROL_FILE_SIZE - done, (off_t) done);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			errbuf_set_errno(err, errno, "cannot write \"%s\"", path);
			close(fd);
			return -1;
		}
		done += (size_t) n;
	}
	if (fsync_fd(fd, false, path, err) != 0) {
		close(fd);
		return -1;
	}
	if (close(fd) != 0)
		return errbuf_set_errno(err, errno, "cannot close \"%s\"", path);
	return 0;
}
