/* pgbin: where PostgreSQL's programs are ($PGBIN, else Debian's /usr/lib/postgresql/15/bin, else PATH). */
#ifndef SEGRECOVER_PGBIN_H
#define SEGRECOVER_PGBIN_H

#define DEFAULT_PGBIN "/usr/lib/postgresql/15/bin"

/* Full path of a PostgreSQL program such as "pg_ctl"; malloc'd. */
char *pgbin_path(const char *program);

#endif
