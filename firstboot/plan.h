/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * plan.h: profile + probed disks -> what the install will do.
 *
 * plan_make() is a pure function: it reads the profile and the inventory
 * and touches nothing. It matches every disk of the profile to exactly one
 * disk of the machine, lays out the partitions (1 MiB aligned, "rest" fills
 * the disk), sizes the volume groups and their volumes, checks memory, and
 * refuses to format a disk that holds data unless allowed (--wipe; when
 * unattended, only a disk the profile pins by serial, WWN or by-id).
 * plan_print() shows it as a table, the same bytes for the same input.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "probe.h"
#include "profile.h"

typedef struct PlanPartition {
        const Partition *part;
        unsigned number; /* 1-based, in declaration order */
        uint64_t start;  /* bytes from the start of the disk */
        uint64_t size;   /* bytes */
} PlanPartition;

typedef struct PlanDisk {
        const Disk *disk;
        const ProbedDisk *dev;
        PlanPartition *parts;
        size_t n_parts;
        bool wipe;   /* formatting destroys what it holds */
        bool resume; /* holds an interrupted install of this plan: carry on */
} PlanDisk;

typedef struct PlanVolume {
        const char *group;
        char *name;
        uint64_t size; /* rounded up to whole extents */
        FsType format;
        const char *mount;     /* "" when not mounted on the host */
        const Volume *volume;  /* a volume of the host, or */
        const Domain *domain;  /* a guest's disk or swap */
} PlanVolume;

typedef struct PlanGroup {
        const VolumeGroup *vg;
        uint64_t capacity; /* bytes of extents on its physical volumes */
        uint64_t used;
} PlanGroup;

typedef struct Plan {
        const Profile *profile;
        const Inventory *inventory;
        PlanDisk *disks; /* in the profile's order */
        size_t n_disks;
        PlanGroup *groups;
        size_t n_groups;
        PlanVolume *volumes;
        size_t n_volumes;
        uint64_t memory_needed;
} Plan;

typedef struct PlanOptions {
        bool wipe;         /* --wipe: formatting a disk that holds data is allowed */
        bool unattended;   /* hyperion.install=unattended */
        char **resumable;  /* disks an interrupted install of this plan partitioned
                            * (its journal says so, the table is the planned one) */
} PlanOptions;

/* 0 and *ret, or -EINVAL with every reason in *errors. */
int plan_make(const Profile *p, const Inventory *inv, const PlanOptions *o, Plan **ret, char ***errors);
void plan_print(const Plan *plan, FILE *f);
void plan_free(Plan *plan);
DEFINE_TRIVIAL_CLEANUP_FUNC(Plan *, plan_free)

/* Does the disk hold exactly the planned partition table already? */
bool plan_disk_matches(const PlanDisk *pd);
/* Does the probed disk satisfy every Match key of the profile's disk? */
bool disk_matches(const Disk *want, const ProbedDisk *have);
/* The end of the area partitions may use, 1 MiB aligned (bytes). */
uint64_t plan_usable_end(const ProbedDisk *dev, TableType table);
/* What LVM gives of a physical volume of this size, in extents of this size. */
uint64_t lvm_pv_capacity(uint64_t pv_size, uint64_t extent);

#define PLAN_ALIGN (UINT64_C(1) << 20)
/* LVM's default: data starts 1 MiB into a physical volume. */
#define LVM_PE_START (UINT64_C(1) << 20)
