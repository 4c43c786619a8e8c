/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * probe.h: what disks the machine has, and what is on them.
 *
 * probe_system() lists the whole disks under /sys/block with their size,
 * model, serial, WWN and /dev/disk/by-id names (from udev's database when
 * udev runs, else from sysfs), marks the medium the live system booted
 * from, and reads each disk's partition table and signatures with libblkid
 * (read-only). probe_paths() does the same for given block devices or
 * image files (--disk). Nothing here ever opens a disk for writing.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct ProbedPart {
        unsigned number;
        uint64_t start, size; /* bytes */
        char *fstype;         /* "ext4", "swap", "LVM2_member", or NULL */
        char *label;
        char *uuid;
        char *vg;             /* an LVM physical volume: its volume group's name */
} ProbedPart;

typedef struct ProbedDisk {
        char *path;          /* /dev/sda, or the image file as given */
        char *name;          /* sda, or the file's base name */
        uint64_t size;       /* bytes */
        unsigned sector_size;
        char *model;         /* "" when unknown */
        char *serial;
        char *wwn;
        char **by_id;        /* names under /dev/disk/by-id/ */
        bool removable;
        bool rotational;
        bool is_file;        /* an image file, not a block device */
        bool boot_medium;    /* the live system runs from it: never a candidate */
        char *table;         /* "gpt", "dos" or "" */
        ProbedPart *parts;
        size_t n_parts;
        char *fstype;        /* a signature on the whole disk (no table), or NULL */
        char *label;
        char *vg;            /* the whole disk is an LVM physical volume of this group */
        bool ambiguous;      /* libblkid found contradicting signatures */
} ProbedDisk;

typedef struct Inventory {
        ProbedDisk *disks;
        size_t n_disks;
        uint64_t memory; /* bytes of RAM */
} Inventory;

int probe_system(Inventory *inv);
int probe_paths(char *const *paths, Inventory *inv);
/* The volume group of the LVM physical volume at offset (its label and
 * metadata, read), or NULL. */
char *lvm_vg_name_at(int fd, uint64_t offset, uint64_t size);
/* Partition table and signatures of an opened disk, with libblkid. */
int probe_contents(ProbedDisk *d, int fd);
void inventory_release(Inventory *inv);

/* Does the disk hold anything: a partition table or a signature? */
bool disk_has_data(const ProbedDisk *d);
/* What it holds, for people: "gpt: 1: 2.7T ext4 'data'", or "blank". */
char *disk_contents(const ProbedDisk *d);
/* One line for people: "/dev/sda  3TB  WDC WD30EFRX  serial WD-1  holds: gpt: ...". */
char *disk_describe(const ProbedDisk *d);
/* Initialise with a path and name, every other field empty. */
void disk_init(ProbedDisk *d, const char *path, const char *name);
ProbedDisk *inventory_add(Inventory *inv);
