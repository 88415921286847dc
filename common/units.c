/* units: PostgreSQL's byte units, so that a summary and a progress line can be compared. */
#include "units.h"

#include <stdio.h>

void units_format_bytes(uint64_t bytes, char *buf, size_t len)
{
	if ((double) bytes >= UNITS_GB)
		snprintf(buf, len, "%.2f GB", (double) bytes / UNITS_GB);
	else if ((double) bytes >= UNITS_MB)
		snprintf(buf, len, "%.1f MB", (double) bytes / UNITS_MB);
	else
		/* Rounded up: a copy that moved 10 bytes did not move "0 kB". */
		snprintf(buf, len, "%llu kB", (unsigned long long) ((bytes + 1023) / 1024));
}

unsigned long long units_whole_mb(uint64_t bytes)
{
	return (unsigned long long) (bytes >> 20);
}
