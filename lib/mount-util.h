/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mount-util.h: the API file systems of a chroot, and getting rid of them.
 *
 * chroot_mount() mounts /proc, /sys, /dev and /dev/pts in a tree so that
 * apt, dpkg and grub-install work in it; chroot_umount() undoes it. Every
 * caller also calls umount_below() on its working folder when it ends, on
 * success, error or interruption, so that nothing stays mounted there.
 */
#pragma once

int chroot_mount(const char *root);
int chroot_umount(const char *root);
/* Unmount everything mounted at dir or below it, deepest first. */
int umount_below(const char *dir);
/* Mount points at dir or below, from /proc/self/mountinfo (a strv). */
char **mounts_below(const char *dir);
