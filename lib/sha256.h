/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sha256.h: SHA-256 (FIPS 180-4), for cache keys and the manifest.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct Sha256 {
        uint32_t h[8];
        uint64_t length; /* bytes hashed */
        uint8_t buf[64];
        size_t fill;
} Sha256;

void sha256_init(Sha256 *s);
void sha256_update(Sha256 *s, const void *data, size_t n);
/* Add a string and its terminating NUL, so that ("ab","c") != ("a","bc"). */
void sha256_update_str(Sha256 *s, const char *str);
void sha256_final(Sha256 *s, uint8_t out[32]);
/* 64 hex digits and a NUL. */
void sha256_hex(const uint8_t digest[32], char out[65]);
/* The hash of a file's contents, as hex. */
int sha256_file(const char *path, char out[65]);
