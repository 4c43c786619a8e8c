/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * guests.h: the profile's guests.
 *
 * At install time (live system, device-mapper working): each guest's
 * volumes get ext4 and swap, its root filesystem comes out of the ISO's
 * guest archive (libarchive), it gets its host name, fstab, network and
 * root's keys, and /etc/xen/<name>.cfg is written on the new host. Each
 * guest's kernel and initrd go to dom0's GUEST_KERNEL_DIR/<name>. A guest
 * a reinstall keeps is registered again only: its kernel is read from its
 * root, mounted read-only, and nothing of its volumes is written.
 *
 * On every Xen boot (hyperion-guests.service, after xendomains): every
 * guest that starts at boot and does not run is created through
 * libxenlight from the profile (the same values as its cfg) and linked
 * into /etc/xen/auto for xendomains; on the first boot, that is all of
 * them. hyperion-report.service then reports (report.h).
 */
#pragma once

#include "target.h"

/* What this boot's creations went through: a line a guest, for the report. */
#define GUESTS_CREATED "/run/hyperion/guests.created"
/* Its word there for a guest of the profile not made yet (day two's apply makes it). */
#define GUEST_PENDING "pending"

/* Whether the guest was made on this host (its kernel is in GUEST_KERNEL_DIR). */
bool guest_is_made(const char *name);

/* Install-time, a step of the plan: the guest's volumes formatted, its
 * root unpacked from the medium's guest archive and configured, its xl
 * configuration checked and written. */
int guest_prepare(Target *t, const Step *s);
/* The medium's guest archive copied to the new host's GUEST_ARCHIVE_HOST. */
int guest_keep_archive(Target *t, const Step *s);

/* Its volumes formatted (through the guard), its root unpacked from the
 * archive and configured, its kernel copied to root's GUEST_KERNEL_DIR. */
int guest_make_root(const Guard *g, const Profile *p, const Domain *d, const char *archive, const char *root, const char *what);
/* Its Packages=, in its root mounted at groot: from what the builder
 * downloaded into the archive (GUEST_DEBS/NAME), else from the mirror;
 * the archive's downloads removed from its root either way. */
int guest_install_packages(const Domain *d, const char *groot);
/* A kept guest: its kernel read from its root, mounted read-only. */
int guest_register_kept(const char *root, const Domain *d);
int guest_copy_kernel(const char *root, const char *name, const char *groot);
/* What a guest's kernel and initrd may weigh: Debian's are 10 and 30-70 MiB. */
#define GUEST_KERNEL_MAX (UINT64_C(128) << 20)
#define GUEST_INITRD_MAX (UINT64_C(1) << 30)
/* groot/rel (a guest's root: its links resolved within it), a regular file
 * of at most max bytes, copied to dst. */
int guest_copy_file(const char *groot, const char *rel, const char *dst, uint64_t max);
/* /etc/xen/auto/NAME.cfg, the link xendomains starts at boot, made or removed. */
int guest_autostart_link(const char *name, bool on);
/* root/etc/xen/NAME.cfg, checked with libxlutil first. */
int guest_write_cfg(const char *root, const Domain *d);

/* Its own SSH host keys (RSA, ECDSA, Ed25519) under root/etc/ssh. */
int guest_host_keys(const char *root, const char *name);
/* Its /etc/network/interfaces: eth0 with Address=, the others up without one. */
char *guest_interfaces(const Domain *d);
/* The guest's files, given its mounted root (tested on image files). */
int guest_configure_root(const Profile *p, const Domain *d, const char *root);

/* Every Xen boot, after xendomains (only: NULL), or the guests named in
 * only (day two, whether they start at boot or not): create each guest that starts at
 * boot and does not run (on the first boot, all of them; not one the
 * profile gained since and that no apply made: GUEST_PENDING), link it into
 * /etc/xen/auto; retried, and each failure's reason logged and recorded in
 * GUESTS_CREATED. */
int guests_create(const Profile *p, char *const *only);
