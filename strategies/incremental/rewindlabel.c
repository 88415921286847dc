#include "incremental/rewindlabel.h"

#include "base/timeline.h"

void rewindlabel_render(struct strbuf *out, const struct rewind_start *start, time_t when)
{
	char walfile[WAL_FILE_NAME_LEN + 1];
	char stamp[64];
	struct tm tm;

	wal_file_name(walfile, start->tli, start->redo / start->seg_size, start->seg_size);
	localtime_r(&when, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S %Z", &tm);
	strbuf_addf(out,
		    "START WAL LOCATION: " LSN_FMT " (file %s)\n"
		    "CHECKPOINT LOCATION: " LSN_FMT "\n"
		    "BACKUP METHOD: pg_rewind\n"
		    "BACKUP FROM: standby\n"
		    "START TIME: %s\n",
		    LSN_ARGS(start->redo), walfile, LSN_ARGS(start->checkpoint), stamp);
}

int rewindlabel_write_control(const char *datadir, struct pgcontrol *ctl, lsn_t consistent_at,
			      uint32_t tli, struct errbuf *err)
{
	ctl->state = DB_IN_ARCHIVE_RECOVERY;
	ctl->min_recovery_point = consistent_at;
	ctl->min_recovery_point_tli = tli;
	ctl->backup_start_point = LSN_INVALID;
	ctl->backup_end_point = LSN_INVALID;
	ctl->backup_end_required = false;
	return pgcontrol_write(datadir, ctl, err);
}
