#include "agent/walend.h"

#include <stdlib.h>

#include "base/timeline.h"
#include "base/walreader.h"
#include "fsutil.h"

int walend_after_shutdown(const char *datadir, lsn_t *end, uint32_t *tli, struct errbuf *err)
{
	struct pgcontrol ctl;
	struct timeline_history hist;
	struct wal_reader *reader = NULL;
	struct wal_reader_options wo = { 0 };
	const struct wal_record *rec;
	char *waldir;
	int rc = -1, st;

	if (pgcontrol_read(datadir, &ctl, err) != 0)
		return -1;
	if (ctl.state != DB_SHUTDOWNED)
		return errbuf_set(err, "\"%s\" is not shut down cleanly (pg_control state \"%s\")", datadir,
				  pgcontrol_state_name(ctl.state));
	waldir = path_join(datadir, "pg_wal");
	if (ctl.timeline == 1)
		timeline_history_init_first(&hist);
	else if (timeline_history_load(waldir, ctl.timeline, &hist, err) != 0)
		goto out_dir;
	wo.waldir = waldir;
	wo.history = &hist;
	wo.seg_size = ctl.xlog_seg_size;
	wo.system_identifier = ctl.system_identifier;
	if (wal_reader_open(&wo, &reader, err) != 0)
		goto out_hist;
	if (wal_reader_read_at(reader, ctl.checkpoint, &rec, err) != WAL_READ_OK || rec->lsn != ctl.checkpoint) {
		if (errbuf_empty(err))
			errbuf_set(err, "no checkpoint record at " LSN_FMT, LSN_ARGS(ctl.checkpoint));
		errbuf_prefix(err, "reading the last checkpoint of \"%s\"", datadir);
		goto out;
	}
	*end = rec->end_lsn;
	/* Nothing follows a shutdown checkpoint; if something does, its end is the end. */
	while ((st = wal_reader_read_next(reader, &rec, err)) == WAL_READ_OK)
		*end = rec->end_lsn;
	if (st == WAL_READ_ERROR) {
		errbuf_prefix(err, "reading the WAL of \"%s\" after its checkpoint", datadir);
		goto out;
	}
	errbuf_clear(err);
	*tli = ctl.timeline;
	rc = 0;
out:
	wal_reader_close(reader);
out_hist:
	timeline_history_release(&hist);
out_dir:
	free(waldir);
	return rc;
}
