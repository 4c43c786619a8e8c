/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bootstrap.h: making Debian trees, shared by the image's root and the
 * build chroot of the hyperion packages.
 */
#pragma once

#include <stdbool.h>

#include "profile.h"

/* Run argv in the tree (API file systems mounted for it, always unmounted
 * after), apt's and dpkg's output turned into progress and the log. */
int chroot_run(const char *root, const char *label, char *const *argv);
/* The same in the folder cwd of the tree. */
int chroot_run_in(const char *root, const char *label, const char *cwd, char *const *argv);
/* The same on the host (debootstrap). */
int host_run(const char *label, char *const *argv);

/* Cache entries carry their SHA-256 beside them (ENTRY.sha256): sealed
 * when stored, checked before use. cache_check(): 1 intact, 0 absent, -1
 * damaged or tampered with (then removed, to be built again). */
int cache_seal(const char *entry);
int cache_check(const char *entry, const char *label);
/* 1 restored, 0 not cached (root left empty), negative on error. */
int cache_restore(const char *archive, const char *root, const char *label);
/* Store root as archive; failing to cache is only a warning. */
int cache_store(const char *archive, const char *root, const char *label);

/* Every program run in a tree, and debootstrap, see SOURCE_DATE_EPOCH. */
void set_source_date_epoch(int64_t epoch);
/* The key of a debootstrap: suite, mirror and its state, components,
 * debootstrap's version. */
void bootstrap_key(const Distribution *d, const char *mirror, const char *release_sha256, char out[65]);
int debootstrap_tree(const Distribution *d, const char *mirror, const char *root);
int apt_sources(const char *root, const Distribution *d, const char *mirror);
int policy_rc_d(const char *root, bool on);
int apt_install(const char *root, const char *label, char *const *packages);
