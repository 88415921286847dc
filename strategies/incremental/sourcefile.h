/*
 * sourcefile: the one file of the source data directory that a helper next to the source
 * holds open while consecutive requests name it (the read-ahead and send helpers go through
 * the copy's ranges file after file).
 */
#ifndef SEGRECOVER_INCREMENTAL_SOURCEFILE_H
#define SEGRECOVER_INCREMENTAL_SOURCEFILE_H

struct source_file {
	char *path; /* relative to the data directory; NULL: none yet */
	int fd;     /* -1 when it could not be opened */
	int err;    /* then open's errno (ENOENT: vanished since it was listed) */
};

#define SOURCE_FILE_INIT { NULL, -1, 0 }

/* PATH (a safe relative path) under DATADIR, opened read-only unless it is the one held. */
int source_file_use(struct source_file *f, const char *datadir, const char *path);
void source_file_close(struct source_file *f);

#endif
