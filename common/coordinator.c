#include "coordinator.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "fsutil.h"
#include "pgconn.h"
#include "pidlock.h"
#include "xalloc.h"

/* postmaster.pid lines: 1 pid, 2 datadir, 3 start time, 4 port, 5 socket dir, 6 listen address. */
static int read_postmaster_pid(const char *datadir, int *port, char *socketdir, size_t len)
{
	char *path = path_join(datadir, "postmaster.pid");
	char *text = NULL, *line, *save = NULL;
	size_t n;
	struct errbuf ignored;
	int lineno = 0, found = -1;

	if (read_small_file(path, &text, &n, &ignored) != 0) {
		free(path);
		return -1;
	}
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		if (lineno == 4 && atoi(line) > 0) {
			*port = atoi(line);
			found = 0;
		}
		if (lineno == 5 && socketdir)
			snprintf(socketdir, len, "%s", line);
	}
	free(text);
	free(path);
	return found;
}

/* The last "port = N" setting in postgresql.conf wins, as in the server. */
static int read_conf_port(const char *datadir, int *port)
{
	char *path = path_join(datadir, "postgresql.conf");
	char *text = NULL, *line, *save = NULL;
	size_t n;
	struct errbuf ignored;
	int found = -1;

	if (read_small_file(path, &text, &n, &ignored) != 0) {
		free(path);
		return -1;
	}
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *p = line;

		while (isspace((unsigned char) *p))
			p++;
		if (strncmp(p, "port", 4) != 0)
			continue;
		p += 4;
		while (isspace((unsigned char) *p))
			p++;
		if (*p == '=')
			p++;
		while (isspace((unsigned char) *p) || *p == '\'')
			p++;
		if (isdigit((unsigned char) *p)) {
			*port = atoi(p);
			found = 0;
		}
	}
	free(text);
	free(path);
	return found;
}

int coordinator_read_location(const char *datadir, int *port, char *socketdir, size_t socketdir_len,
			      struct errbuf *err)
{
	if (socketdir && socketdir_len)
		socketdir[0] = '\0';
	if (!is_pg_datadir(datadir))
		return errbuf_set(err, "\"%s\" is not a PostgreSQL data directory (no PG_VERSION or "
				       "global/); give the coordinator's data directory with -d or "
				       "COORDINATOR_DATA_DIRECTORY",
				  datadir);
	if (read_postmaster_pid(datadir, port, socketdir, socketdir_len) == 0)
		return 0;
	if (read_conf_port(datadir, port) == 0)
		return 0;
	*port = 5432;
	return 0;
}

int coordinator_connect(const char *datadir_option, struct coordinator *coord, struct errbuf *err)
{
	const char *datadir = datadir_option;
	const char *pghost = getenv("PGHOST");
	const char *pgport = getenv("PGPORT");
	char socketdir[1024] = "";
	struct pgconn_params params = { .dbname = CATALOG_DBNAME };
	char *value = NULL;

	memset(coord, 0, sizeof(*coord));
	if (datadir == NULL || datadir[0] == '\0')
		datadir = getenv("COORDINATOR_DATA_DIRECTORY");
	if (datadir == NULL || datadir[0] == '\0')
		datadir = getenv("MASTER_DATA_DIRECTORY");
	if (datadir && datadir[0]) {
		snprintf(coord->datadir, sizeof(coord->datadir), "%s", datadir);
		if (coordinator_read_location(datadir, &coord->port, socketdir, sizeof(socketdir),
					      err) != 0)
			return -1;
		if (pghost && pghost[0])
			snprintf(coord->host, sizeof(coord->host), "%s", pghost);
		else if (socketdir[0])
			snprintf(coord->host, sizeof(coord->host), "%s", socketdir);
	} else if ((pghost && pghost[0]) || (pgport && pgport[0])) {
		if (pghost)
			snprintf(coord->host, sizeof(coord->host), "%s", pghost);
		if (pgport) {
			char *end;
			long port = strtol(pgport, &end, 10);

			if (*end != '\0' || port <= 0 || port > 65535)
				return errbuf_set(err, "PGPORT=\"%s\" is not a port number", pgport);
			coord->port = (int) port;
		}
	} else {
		return errbuf_set(err, "cannot find the coordinator: give its data directory with -d, "
				       "or set COORDINATOR_DATA_DIRECTORY (or PGHOST and PGPORT); for "
				       "the demo cluster: eval \"$(scripts/demo-cluster env)\"");
	}
	params.host = coord->host[0] ? coord->host : NULL;
	params.port = coord->port;
	coord->conn = pg_connect(&params, err);
	if (coord->conn == NULL)
		return errbuf_prefix(err, "cannot connect to the coordinator%s%s",
				     coord->datadir[0] ? " of " : "", coord->datadir);
	if (pg_query_value(coord->conn, "SHOW data_directory", 0, NULL, &value, err) != 0) {
		coordinator_disconnect(coord);
		return errbuf_prefix(err, "cannot ask the coordinator for its data directory");
	}
	if (coord->datadir[0] == '\0' && value)
		snprintf(coord->datadir, sizeof(coord->datadir), "%s", value);
	if (coord->port == 0)
		coord->port = atoi(PQport(coord->conn));
	free(value);
	return 0;
}

void coordinator_disconnect(struct coordinator *coord)
{
	PQfinish(coord->conn);
	coord->conn = NULL;
}

int coordinator_connect_locked(const char *program, const char *datadir_option,
			       const char *lockname, struct coordinator *coord,
			       struct pidlock *lock, struct errbuf *err)
{
	char *lockdir;
	int rc;

	if (coordinator_connect(datadir_option, coord, err) != 0)
		return -1;
	if (!is_pg_datadir(coord->datadir)) {
		errbuf_set(err, "the coordinator's data directory \"%s\" is not on this host: run %s "
				"on the coordinator host",
			   coord->datadir, program);
		coordinator_disconnect(coord);
		return -1;
	}
	lockdir = path_join(coord->datadir, lockname);
	rc = pidlock_acquire(lock, lockdir, program, err);
	free(lockdir);
	if (rc != 0)
		coordinator_disconnect(coord);
	return rc;
}
