/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * guests.h: the profile's guests.
 *
 * At install time (live system, device-mapper working): each guest's
 * volumes get ext4 and swap, its root filesystem comes out of the ISO's
 * guest archive (libarchive), it gets its host name, fstab, network and
 * root's keys, and /etc/xen/<name>.cfg is written on the new host. The
 * guests' kernel and initrd go to dom0's GUEST_KERNEL_DIR.
 *
 * On the first Xen boot (hyperion-guests.service): every guest that does
 * not exist yet is created through libxenlight from the profile (the same
 * values as its cfg), linked into /etc/xen/auto for xendomains, and a
 * report goes to the console. hyperion-report.service prints the same
 * report on every boot.
 */
#pragma once

#include "target.h"

/* Where the builder puts the guests' root filesystem on the ISO. */
#define GUEST_ARCHIVE_NAME "hyperion/guest-root.tar.zst"
#define GUESTS_STAMP "/var/lib/hyperion/guests.done"

char *guests_find_archive(void);
/* Install-time: every guest of the profile, each a journalled step. */
int guests_prepare(Target *t);

/* The guest's files, given its mounted root (tested on image files). */
int guest_configure_root(const Profile *p, const Domain *d, const char *root);

/* First boot: create what is missing, link, stamp, report. */
int guests_create(const Profile *p);
/* The report alone: dom0's memory, each guest's id, memory and state. */
int guests_report(const Profile *p);
