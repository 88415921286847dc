#include "incremental/crashrecovery.h"

#include <stdlib.h>

#include "exec.h"
#include "fsutil.h"
#include "pgbin.h"
#include "strbuf.h"
#include "xalloc.h"

int crash_recover(const char *datadir, struct errbuf *err)
{
	char *postgres = pgbin_path("postgres");
	char *signal_file = path_join(datadir, "standby.signal");
	/* wal_keep_size is in MB: 2^31-1 MB keeps everything the directory has. */
	const char *argv[] = { postgres, "--single", "-F", "-D", datadir, "-c", "wal_keep_size=2147483647",
			       "-c", "archive_mode=off", "template1", NULL };
	struct exec_options opts = { 0 };
	struct strbuf out = STRBUF_INIT;
	int status = -1, rc = 0;

	if (path_exists(signal_file)) {
		free(postgres);
		free(signal_file);
		return errbuf_set(err, "\"%s\" holds standby.signal: a standby is not crash-recovered "
				       "in single-user mode",
				  datadir);
	}
	strbuf_init(&out, 0);
	if (exec_run(&opts, argv, &out, &out, &status, err) != 0) {
		rc = -1;
	} else if (status != 0) {
		strbuf_rtrim(&out);
		rc = errbuf_set(err, "crash recovery of \"%s\" in single-user mode failed (exit %d): %s",
				datadir, status, out.buf);
	}
	strbuf_release(&out);
	free(postgres);
	free(signal_file);
	return rc;
}
