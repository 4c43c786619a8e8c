/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * size.h: sizes as people write them in profiles, and as we print them.
 *
 * Binary units (powers of 1024) are the default, the way partitions and
 * memory are sized: 512K, 256M, 15G, 1T, also written 256MiB. A bare number
 * is bytes. Decimal units (powers of 1000) are what disk vendors print on
 * the label: 500GB, 1TB, 3TB, also 100MB and 1kB. A fraction is allowed when
 * it gives a whole number of bytes: 1.5G, 1.5TB.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KiB UINT64_C(1024)
#define MiB (KiB * 1024)
#define GiB (MiB * 1024)
#define TiB (GiB * 1024)

/* Returns 0, -EINVAL for text that is not a size, -ERANGE on overflow. */
int parse_size(const char *s, uint64_t *ret);
/* As parse_size(), and "rest" sets *rest (with *ret = 0). */
int parse_size_or_rest(const char *s, uint64_t *ret, bool *rest);

#define SIZE_BUF 32
/* Exact, in the largest binary unit that divides it: "15G", "1536M", "1000204886016". */
const char *format_size(char buf[static SIZE_BUF], uint64_t v);
/* Exact, in the largest decimal unit that divides it: "1TB", "500GB". */
const char *format_size_decimal(char buf[static SIZE_BUF], uint64_t v);
/* For people, rounded to one decimal: "931.5G", "15G", "0B". */
const char *format_size_human(char buf[static SIZE_BUF], uint64_t v);
/* For people, decimal, rounded to one decimal: "1000.2GB". */
const char *format_size_human_decimal(char buf[static SIZE_BUF], uint64_t v);
