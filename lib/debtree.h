/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * debtree.h: Debian trees made and changed (mmdebstrap, apt, dpkg), their
 * locale and time zone, and the clean-up that makes two of them the same
 * bytes. Shared by the builder (the image's root, the guests' root, the
 * build chroot of the hyperion packages) and the installed host (its guest
 * archive made again).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "profile.h"

/* The keyring a Debian mirror is checked against, unless the profile names one. */
#define DEBIAN_KEYRING "/usr/share/keyrings/debian-archive-keyring.gpg"

/* Run argv in the tree (API file systems mounted for it, always unmounted
 * after), apt's and dpkg's output turned into progress and the log. */
int chroot_run(const char *root, const char *label, char *const *argv);
/* The same in the folder cwd of the tree. */
int chroot_run_in(const char *root, const char *label, const char *cwd, char *const *argv);
/* The same on the host (mmdebstrap). */
int host_run(const char *label, char *const *argv);

/* Every program run in a tree, and mmdebstrap, see SOURCE_DATE_EPOCH. */
void set_source_date_epoch(int64_t epoch);
/* A minbase tree of the distribution from the mirror, checked against its keyring. */
int bootstrap_tree(const Distribution *d, const char *mirror, const char *root);
/* The tree's apt sources: the mirror, signed-by its keyring; credentials in auth.conf.d. */
int apt_sources(const char *root, const Distribution *d, const char *mirror);
/* usr/sbin/policy-rc.d that keeps services from starting in the tree, or none. */
int policy_rc_d(const char *root, bool on);
/* apt-get update, then install (no Recommends, configuration files as
 * packaged, no initrd made), then clean. */
int apt_install(const char *root, const char *label, char *const *packages);
/* update-initramfs diverted to a program that does nothing (on), or back. */
int initramfs_hold(const char *root, bool on);
/* The initrd of the tree's one kernel: /boot's (update-initramfs -c), or
 * output (a path inside the tree: mkinitramfs -o). */
int initramfs_make(const char *root, const char *label, const char *output);

/* LANG in etc/default/locale, and the locale generated (locale-gen). */
int tree_set_locale(const char *root, const char *locale);
/* etc/localtime and etc/timezone: the zone, which must exist in the tree. */
int tree_set_timezone(const char *root, const char *tz);

/* No file under root newer than epoch (times of symlinks themselves too). */
int clamp_mtimes(const char *root, int64_t epoch);
/* No machine-id, SSH host keys, logs, apt lists or caches; times clamped. */
int clean_tree(const char *root, int64_t epoch);
