/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * target.h: the machine being installed, while a plan is applied: the
 * guard holding its disks, their devices, the new root's mount, the chroot
 * of the programs run in it, LVM, and the journal of the steps done.
 *
 * Devices: a partition of a block device is its node (/dev/sdb3), checked
 * by the guard to be a partition of the disk it holds; a partition of an
 * image file is a loop device over its byte range (losetup -o START
 * --sizelimit SIZE), attached on first use and detached by
 * target_release(), which also deactivates the volume groups the install
 * activated and unmounts what it mounted, whatever happened before.
 */
#pragma once

#include <stdbool.h>

#include "guard.h"
#include "journal.h"
#include "lvm.h"
#include "mount-util.h"
#include "plan.h"

typedef struct Target {
        const Plan *plan;
        char *root;      /* where the installed root is mounted */
        Guard guard;
        Lvm lvm;
        bool lvm_open;
        bool offline;    /* LVM metadata only (image files, no device-mapper) */
        char ***devs;    /* [disk][partition] device paths, NULL until known */
        char **loops;    /* loop devices we attached */
        char **active;   /* volume groups we activated */
        bool chroot;     /* the chroot's API filesystems are mounted */
        char **identity; /* a reinstall: the old root's identity files, "rel", "text", ... */
        Journal journal;
} Target;

int target_init(Target *t, const Plan *plan, const char *root, const Journal *resumed);
void target_release(Target *t);

/* The device of partition j of plan disk i (attaching a loop device for an
 * image file). Never NULL on success. */
int target_device(Target *t, size_t i, size_t j, const char **ret);
/* /proc, /sys, /run and a /dev of its own in the new root: the nodes of
 * the disks being installed and their partitions, /dev/disk/by-uuid links
 * to the plan's filesystems; nothing of the keep and ignore disks. */
int target_chroot(Target *t);
/* The nodes target_chroot() makes (tested). */
DevNode *target_dev_nodes(const Plan *plan, size_t *n);
void dev_nodes_free(DevNode *nodes, size_t n);
/* LVM, opened once. */
Lvm *target_lvm(Target *t);
