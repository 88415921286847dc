/* crc32c: CRC-32C (Castagnoli), as PostgreSQL uses for pg_control and WAL records. */
#ifndef SEGRECOVER_CRC32C_H
#define SEGRECOVER_CRC32C_H

#include <stddef.h>
#include <stdint.h>

#define CRC32C_INIT 0xFFFFFFFFu

/* Feed bytes into a running CRC (start from CRC32C_INIT, finish with crc32c_final). */
uint32_t crc32c_update(uint32_t crc, const void *data, size_t len);

static inline uint32_t crc32c_final(uint32_t crc)
{
	return crc ^ 0xFFFFFFFFu;
}

/* One-shot convenience. */
static inline uint32_t crc32c(const void *data, size_t len)
{
	return crc32c_final(crc32c_update(CRC32C_INIT, data, len));
}

#endif
