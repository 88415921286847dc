/*
 * diffsource: the differential helper, next to the source data. It lists the source's files,
 * then compares each against the signature the target streams of its own copy and sends only
 * what differs: changed pages of relation files, a librsync delta of other files, whole files
 * the target lacks.
 */
#ifndef SEGRECOVER_DIFFERENTIAL_DIFFSOURCE_H
#define SEGRECOVER_DIFFERENTIAL_DIFFSOURCE_H

#include "errbuf.h"

/* LOG_DIRECTORY: the server's relative log_directory (its files stay), or NULL. */
int diffsource_run(const char *datadir, const char *log_directory, int in_fd, int out_fd,
		   struct errbuf *err);

#endif
