/*
 * units: the one unit system for every byte count a person reads, PostgreSQL's own (pg_size_pretty,
 * pg_basebackup's progress): a kB is 1024 bytes, an MB 1024 kB, a GB 1024 MB.
 */
#ifndef SEGRECOVER_UNITS_H
#define SEGRECOVER_UNITS_H

#include <stddef.h>
#include <stdint.h>

#define UNITS_MB (1024.0 * 1024.0)
#define UNITS_GB (1024.0 * 1024.0 * 1024.0)

/* "812 kB", "472.0 MB", "1.52 GB": the largest unit that keeps the number at least 1. */
void units_format_bytes(uint64_t bytes, char *buf, size_t len);

/* Whole megabytes, rounded down: for log lines that give a count of MB. */
unsigned long long units_whole_mb(uint64_t bytes);

#endif
