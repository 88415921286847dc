#include "driver/checksums.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pgconn.h"
#include "strbuf.h"

static int setting_of(PGconn *conn, char **value, struct errbuf *err)
{
	return pg_query_value(conn, "SHOW data_checksums", 0, NULL, value, err);
}

int checksums_consistent(PGconn *coordinator, const struct plan *plan, struct errbuf *err)
{
	struct strbuf bad = STRBUF_INIT;
	char *want = NULL;
	int rc = 0;

	if (setting_of(coordinator, &want, err) != 0 || want == NULL)
		return errbuf_prefix(err, "cannot read the coordinator's data_checksums");
	strbuf_init(&bad, 256);
	for (size_t i = 0; i < plan->nrows; i++) {
		const struct segment *src = plan->rows[i].source;
		struct errbuf qerr;
		PGconn *conn;
		char *have = NULL;
		bool seen = false;

		/* Two rows may share a source only across contents: each is asked once anyway. */
		for (size_t k = 0; k < i; k++)
			seen |= plan->rows[k].source->dbid == src->dbid;
		if (seen)
			continue;
		conn = pg_connect_segment(src, 10, false, &qerr);
		if (conn == NULL || setting_of(conn, &have, &qerr) != 0 || have == NULL)
			strbuf_addf(&bad, "%s" SEG_FMT ": cannot be asked (%s)", bad.len ? "; " : "",
				    SEG_ARGS(src), qerr.msg);
		else if (strcmp(have, want) != 0)
			strbuf_addf(&bad, "%s" SEG_FMT ": data_checksums %s, the coordinator's %s",
				    bad.len ? "; " : "", SEG_ARGS(src), have, want);
		free(have);
		PQfinish(conn);
	}
	if (bad.len > 0)
		rc = errbuf_set(err, "Heap checksum setting differences reported on segments: %s. A "
				     "mirror copies its primary: fix the primary's setting (pg_checksums "
				     "on a stopped instance) before recovering its mirror",
				bad.buf);
	else
		log_info("Heap checksum setting is consistent between coordinator and the segments "
			 "that are candidates for recoverseg");
	strbuf_release(&bad);
	free(want);
	return rc;
}
