/*
 * coordinator: find the coordinator the way Greenplum's tools do (-d DIR, then
 * COORDINATOR_DATA_DIRECTORY / MASTER_DATA_DIRECTORY, then PGHOST / PGPORT) and connect to it.
 */
#ifndef SEGRECOVER_COORDINATOR_H
#define SEGRECOVER_COORDINATOR_H

#include <libpq-fe.h>

#include "errbuf.h"

struct coordinator {
	char host[1024];    /* "" = libpq default */
	int port;           /* 0 = libpq default */
	char datadir[4096]; /* "" when found through PGHOST/PGPORT only (filled after connecting) */
	PGconn *conn;
};

/*
 * Locate and connect. datadir_option is the -d value or NULL. The connection goes to the
 * catalog database; on success coord->datadir is the server's data_directory.
 */
int coordinator_connect(const char *datadir_option, struct coordinator *coord, struct errbuf *err);
void coordinator_disconnect(struct coordinator *coord);

/*
 * For the commands that must run on the coordinator host: connect, refuse a coordinator whose
 * data directory is not on this host ("run PROGRAM on the coordinator host"), and take the
 * command's lock directory LOCKNAME inside it (one run at a time; pidlock.h). On failure
 * nothing is held and err says why.
 */
struct pidlock;
int coordinator_connect_locked(const char *program, const char *datadir_option,
			       const char *lockname, struct coordinator *coord,
			       struct pidlock *lock, struct errbuf *err);

/* Parse the port (and socket directory) out of a data directory's postmaster.pid or postgresql.conf. */
int coordinator_read_location(const char *datadir, int *port, char *socketdir, size_t socketdir_len,
			      struct errbuf *err);

#endif
