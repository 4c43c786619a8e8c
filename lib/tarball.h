/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tarball.h: root filesystem trees in and out of tar archives (libarchive).
 *
 * tarball_create() writes a reproducible archive: entries sorted by path,
 * numeric owners only, no atime/ctime, modification times clamped to a
 * given epoch; hard links, symlinks, device nodes, extended attributes and
 * ACLs preserved; zstd-compressed when the name ends in ".zst". Used for
 * the build cache and the guests' root filesystems.
 * tarball_extract() restores such an archive into a folder, owners, modes,
 * times and xattrs included, refusing paths that leave the folder.
 */
#pragma once

#include <stdint.h>

typedef struct TarballOptions {
        int64_t clamp_mtime; /* when > 0: no file newer than this */
        int zstd_level;      /* 0: libarchive's default */
        const char *label;   /* for progress lines ("cache", "guest") */
} TarballOptions;

int tarball_create(const char *root, const char *path, const TarballOptions *o);
int tarball_extract(const char *path, const char *dir, const char *label);
