/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * guard.h: the one check in front of every write to a disk.
 *
 * The install may write only to the disks the plan formats. guard_allow()
 * names them (block devices or image files); guard_check() is called before
 * every write, by every step that writes (partition tables, wipefs, mkfs,
 * LVM, zeroing, the root copy), and refuses anything else, naming the disk
 * and why. A device is writable when it is an allowed disk, a partition of
 * one, a loop device over an allowed image file, or a device-mapper device
 * (an LVM volume) whose every underlying device is writable.
 */
#pragma once

#include <stdbool.h>

/* Allow writes to this disk (device or image file); reason names it in logs. */
int guard_allow(const char *path);
/* Forget every allowed disk (tests). */
void guard_reset(void);
/* 0 when path may be written, else -EPERM with an error logged. */
int guard_check(const char *path);
/* The same without logging. */
bool guard_writable(const char *path);
