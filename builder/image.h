/* SPDX-License-Identifier: GPL-2.0-or-later */
/* image.h: what image.c offers the other stages. */
#pragma once

#include <stdint.h>

/* No file under root newer than epoch (times of symlinks themselves too). */
int clamp_mtimes(const char *root, int64_t epoch);
/* LANG in etc/default/locale, and the locale generated (locale-gen). */
int tree_set_locale(const char *root, const char *locale);
/* etc/localtime and etc/timezone: the zone, which must exist in the tree. */
int tree_set_timezone(const char *root, const char *tz);
/* No machine-id, SSH host keys, logs, apt lists or caches; times clamped. */
int clean_tree(const char *root, int64_t epoch);
