/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * guard.h: the one check in front of every write to a disk, owned by the
 * apply context.
 *
 * Before the first write, guard_hold() opens every disk the plan formats
 * and checks that it is the disk the plan was made for: a block device by
 * its device number, size, model, serial and WWN read again (the name
 * /dev/sdb may belong to another disk by now: one unplugged, a stick
 * replugged), and by an exclusive open that fails when anything holds it
 * (mounted, swap, an active volume group); an image file by its inode and
 * size. The descriptor is kept until guard_release(), so the device number
 * cannot go to another disk meanwhile; the exclusive open is not kept,
 * because mkfs, mount and LVM claim the partitions exclusively themselves
 * and the kernel refuses that while the whole disk is held so.
 *
 * Every writer (libparted, wipefs, mkfs, mkswap, zeroing, every liblvm2cmd
 * command, grub-install) calls guard_write() first with the device and the
 * name of the write (its step and what writes): the device must be a held
 * disk, a partition of one, a loop device over a held image file, or a
 * device-mapper device (an LVM volume) whose every underlying device is
 * one of those. Anything else is refused, naming it.
 *
 * guard_write() is also where an install stops: on SIGINT, SIGTERM or
 * SIGHUP (guard_interrupt()), and, for the tests, before the write that
 * HYPERION_FAIL_AT names, as a power cut would (exit 137);
 * HYPERION_WRITE_POINTS=FILE appends the name of every write to FILE.
 */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "probe.h"

typedef struct HeldDisk {
        char *path;
        char *name; /* the profile's name of the disk */
        int fd;
        bool is_file;
        dev_t devno; /* block device */
        dev_t fdev;  /* image file: st_dev and st_ino */
        ino_t ino;
} HeldDisk;

typedef struct Guard {
        HeldDisk *disks;
        size_t n_disks;
        dev_t *allowed;  /* day two: devices named one by one */
        size_t n_allowed;
        char **volumes;  /* day two: "vg0-europa--disk", device-mapper's names */
} Guard;

/* Hold the probed disk d (the profile's disk name), after checking it is
 * still the disk the probe saw. 0, or a negative errno with an error that
 * names both disks. */
int guard_hold(Guard *g, const ProbedDisk *d, const char *name);
void guard_release(Guard *g);
/* Day two: the running host's disks are in use and never held; what a
 * change may write is named instead: a volume VG/LV it makes or changes
 * (allowed by its device-mapper name, so before it exists), and the
 * physical volumes of its group, where LVM writes its metadata. */
int guard_allow_device(Guard *g, const char *path);
void guard_allow_volume(Guard *g, const char *vg, const char *lv);

/* 0 when path may be written, else -EPERM with an error logged; -EINTR
 * after an interrupt. what: "format system/root: mkfs.ext4". */
int guard_write(const Guard *g, const char *path, const char *what);
/* The same check, without logging or stopping. */
bool guard_writable(const Guard *g, const char *path);

/* A signal arrived: the next guard_write() refuses. */
void guard_interrupt(int sig);
int guard_interrupted(void);
