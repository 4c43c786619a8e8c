/* SPDX-License-Identifier: GPL-2.0-or-later */
/* image.h: what image.c offers the other stages. */
#pragma once

#include <stdint.h>

/* No file under root newer than epoch (times of symlinks themselves too). */
int clamp_mtimes(const char *root, int64_t epoch);
/* No machine-id, SSH host keys, logs, apt lists or caches; times clamped. */
int clean_tree(const char *root, int64_t epoch);
