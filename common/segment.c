#include "segment.h"

#include <stdlib.h>

#include "xalloc.h"

void segment_copy(struct segment *dst, const struct segment *src)
{
	*dst = *src;
	dst->hostname = xstrdup(src->hostname);
	dst->address = xstrdup(src->address);
	dst->datadir = xstrdup(src->datadir);
}

void segment_free(struct segment *s)
{
	free(s->hostname);
	free(s->address);
	free(s->datadir);
	s->hostname = s->address = s->datadir = NULL;
}

const char *segment_role_name(char role)
{
	return role == ROLE_PRIMARY ? "Primary" : role == ROLE_MIRROR ? "Mirror" : "Unknown";
}

const char *segment_mode_name(char mode)
{
	return mode == MODE_SYNCED ? "Synchronized" : mode == MODE_NOT_SYNCED ? "Not In Sync" : "Unknown";
}

const char *segment_status_name(char status)
{
	return status == STATUS_UP ? "Up" : status == STATUS_DOWN ? "Down" : "Unknown";
}
