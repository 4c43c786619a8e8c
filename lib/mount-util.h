/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mount-util.h: the API file systems of a chroot, and getting rid of them.
 *
 * chroot_mount() mounts /proc, /sys (read-only), /run and a /dev of the
 * tree's own in a tree so that apt, dpkg and grub-install work in it:
 * a tmpfs with the usual character devices (null, zero, full, random,
 * urandom, tty), a devpts of its own, /dev/shm, and only the block devices
 * the caller names, never the machine's /dev. chroot_umount() undoes it.
 * Every caller also calls umount_below() on its working folder when it
 * ends, on success, error or interruption, so that nothing stays mounted
 * there.
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* A node of the tree's /dev: a block device ("sdb1", its number), or a
 * symbolic link ("disk/by-uuid/UUID" to "../../sdb1"). */
typedef struct DevNode {
        const char *name;
        dev_t devno;
        const char *link; /* when set: a symbolic link to it, no device */
} DevNode;

int chroot_mount(const char *root, const DevNode *nodes, size_t n_nodes);
int chroot_umount(const char *root);
/* Unmount everything mounted at dir or below it, deepest first. */
int umount_below(const char *dir);
/* Mount points at dir or below, from /proc/self/mountinfo (a strv). */
char **mounts_below(const char *dir);
