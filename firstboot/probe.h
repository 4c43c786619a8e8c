/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * probe.h: what disks the machine has, and what is on them.
 *
 * probe_system() lists the whole disks under /sys/block with their device
 * number, size, model, serial, WWN and /dev/disk/by-id names (from udev's
 * database when udev runs, else from sysfs), reads each disk's partition
 * table and signatures with libblkid and its LVM labels (read-only), notes
 * what uses it now (mounts, swap, active volumes), and marks the medium
 * the live system booted from however it was booted: the disk mounted as
 * the live medium, the disk holding a loop-mounted ISO file, any disk that
 * holds this very ISO (its volume label and UUID, which the builder wrote
 * into the image: MEDIUM_IDENTITY_FILE). It also reads the machine once
 * for the plan: memory, network cards, the firmware (UEFI or BIOS),
 * device-mapper, the root image and guest archive on the medium, the
 * devices of dom0's seats (from /sys, or the tree HYPERION_SYSFS names).
 * probe_paths() does the same for given block devices or image files
 * (--disk). Nothing here ever opens a disk for writing.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "lvmmeta.h"
#include "seat.h"

typedef struct ProbedPart {
        unsigned number;
        uint64_t start, size; /* bytes */
        char *fstype;         /* "ext4", "swap", "LVM2_member", or NULL */
        char *label;
        char *uuid;
        char *vg;             /* an LVM physical volume: its volume group's name */
        LvmMeta lvm;          /* and what its metadata says (lvmmeta.h) */
        uint64_t fs_used;     /* an ext4's bytes in use, 0 unknown */
} ProbedPart;

typedef struct ProbedDisk {
        char *path;          /* /dev/sda, or the image file as given */
        dev_t devno;         /* a block device's number; an image file: its st_dev */
        ino_t ino;           /* an image file's inode */
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
        char *uuid;          /* that signature's UUID */
        char *iso_label;     /* a hybrid ISO on the whole disk: its volume label and UUID */
        char *iso_uuid;
        char *vg;            /* the whole disk is an LVM physical volume of this group */
        LvmMeta lvm;
        bool ambiguous;      /* libblkid found contradicting signatures */
        char **in_use;       /* what uses it now: "/dev/sdc1 mounted at /mnt", "dm-0 (vg0-io--disk) active" */
} ProbedDisk;

typedef struct ProbedNic {
        char *name;
        char *mac;
        bool wireless;
} ProbedNic;

typedef struct Inventory {
        ProbedDisk *disks;
        size_t n_disks;
        uint64_t memory;     /* bytes of RAM */
        ProbedNic *nics;     /* physical network cards, by name */
        size_t n_nics;
        bool efi;            /* booted through UEFI */
        bool device_mapper;  /* in the kernel: LVM volumes can be activated */
        char *root_image;    /* the live medium's root image, or NULL */
        char *root_image_id; /* its SHA-256 as the builder recorded it, or NULL */
        char *guest_archive; /* the guests' root archive, or NULL */
        SeatDevices seat_devices; /* graphics cards, inputs, sound cards (seat.h) */
        uint64_t seed;       /* random, for the plan's UUIDs */
} Inventory;

int probe_system(Inventory *inv);
int probe_paths(char *const *paths, Inventory *inv);
/* Model, serial, WWN and by-id names of a block device ("8:16"), from sysfs
 * and udev's database. */
void probe_identity(ProbedDisk *d, const char *devno);
/* A file of the medium the live system booted from (REL inside it), or the
 * file the environment variable ENV_VAR names; NULL when not readable. */
char *live_medium_file(const char *env_var, const char *rel);
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
void disk_done(ProbedDisk *d);
ProbedDisk *inventory_add(Inventory *inv);
ProbedNic *inventory_add_nic(Inventory *inv, const char *name, const char *mac, bool wireless);
/* The physical network cards only (day two: the running host's). */
void probe_network(Inventory *inv);
/* The card a bridge's Interface= names: "auto" the first wired one no
 * bridge takes yet, else a name or a MAC address (any case); NULL when
 * there is none. taken: the cards other bridges took, n_taken of them. */
const ProbedNic *nic_choose(const Inventory *inv, const char *spec, const ProbedNic *const *taken, size_t n_taken);

