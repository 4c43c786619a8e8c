/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * apply.h: carrying out a plan.
 *
 * Steps, each journalled: partitions (libparted), the root filesystem
 * (mounted, the journal moves onto it), the other filesystems and swap,
 * LVM (PVs, VGs, volumes, each volume's ends zeroed), then from the live
 * ISO only: the system copy, its configuration, its boot. On image files
 * (or without device-mapper) the install stops once the disks are ready.
 */
#pragma once

#include <stdint.h>

#include "plan.h"

typedef struct ApplyOptions {
        const char *root;       /* where the target's root is mounted */
        const char *root_image; /* the squashfs to copy; NULL: the live medium's */
        char **journal;         /* steps an interrupted run did (read from the disk) */
} ApplyOptions;

int apply_plan(const Plan *plan, const ApplyOptions *o);

/* Used by the guests' preparation too. */
int make_filesystem(const char *dev, FsType fs, const char *label);
int zero_ends(const char *dev, uint64_t size);
