/* privdrop: PostgreSQL refuses root; a command started as root continues as the cluster owner. */
#ifndef SEGRECOVER_PRIVDROP_H
#define SEGRECOVER_PRIVDROP_H

#include "errbuf.h"

#define DEFAULT_OS_USER "gpadmin"

/*
 * When running as root, become $SEGRECOVER_OS_USER (default gpadmin): groups, gid, uid, and
 * HOME/USER/LOGNAME. Does nothing for any other user.
 */
int become_cluster_owner(struct errbuf *err);

#endif
