/* segment: one instance of the cluster as a row of gp_segment_configuration describes it. */
#ifndef SEGRECOVER_SEGMENT_H
#define SEGRECOVER_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>

#define ROLE_PRIMARY 'p'
#define ROLE_MIRROR 'm'
#define MODE_SYNCED 's'
#define MODE_NOT_SYNCED 'n'
#define STATUS_UP 'u'
#define STATUS_DOWN 'd'
#define COORDINATOR_CONTENT (-1)

struct segment {
	int dbid;
	int content;
	char role;
	char preferred_role;
	char mode;
	char status;
	int port;
	char *hostname;
	char *address;
	char *datadir;
};

/* "dbid 3 (127.0.0.1:7003 /data/gpseg1)": how every message names an instance. */
#define SEG_FMT "dbid %d (%s:%d %s)"
#define SEG_ARGS(s) (s)->dbid, (s)->address, (s)->port, (s)->datadir

void segment_copy(struct segment *dst, const struct segment *src);
void segment_free(struct segment *s);

const char *segment_role_name(char role);     /* "Primary" / "Mirror" */
const char *segment_mode_name(char mode);     /* "Synchronized" / "Not In Sync" */
const char *segment_status_name(char status); /* "Up" / "Down" */

static inline bool segment_is_coordinator(const struct segment *s)
{
	return s->content == COORDINATOR_CONTENT;
}

#endif
