/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mkfs.h: what makes a device new: old signatures wiped (wipefs), a
 * filesystem or swap made with the UUID the plan chose (mkfs.ext4 -U,
 * mkfs.vfat -i, mkswap -U), the ends of a volume zeroed. Every one of them
 * goes through the guard first; what names the write ("format
 * system/root"), for the guard's messages and its fault injection.
 */
#pragma once

#include <stdint.h>

#include "guard.h"
#include "profile.h"

int wipe_signatures(const Guard *g, const char *dev, const char *what);
/* Signatures wiped first; uuid may be NULL (a new random one); inode_ratio
 * is ext4's bytes per inode (mke2fs -i), 0 for mke2fs's default. */
int make_filesystem(const Guard *g, const char *dev, FsType fs, const char *label, const char *uuid, uint64_t inode_ratio,
                    const char *what);
/* A volume made larger: its swap made again, or its ext4 checked (e2fsck
 * -f -p, which repairs only what is safe) and grown (resize2fs). */
int grow_filesystem(const Guard *g, const char *dev, FsType fs, const char *what);
/* The first and last MiB of a new volume: zeroes, so nothing of before shows through. */
int zero_ends(const Guard *g, const char *dev, uint64_t size, const char *what);
