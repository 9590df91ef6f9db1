#ifndef OCT_IO_SHA256_H
#define OCT_IO_SHA256_H
#include <stddef.h>
#include <stdint.h>
/* FIPS 180-4 SHA-256; hex receives 64 lowercase digits and a NUL. */
void oct_sha256_hex(const void *data, size_t n, char hex[65]);
#endif
