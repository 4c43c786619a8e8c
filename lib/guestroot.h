/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * guestroot.h: every guest's root filesystem, from a minbase tree (mmdebstrap):
 * the builder makes the ISO's guest archive with it, an installed host its
 * own again (hyperion-firstboot refresh-archive).
 */
#pragma once

#include "profile.h"

/* What every guest has installed, whatever the profile says. */
extern const char *const guest_root_packages[];

/* A minbase tree at root made a guest's: apt sources of the mirror, the
 * packages, the locale and time zone, hyperion's files, a small initrd.
 * Services do not start in it (policy-rc.d, which clean_tree removes). */
int guest_root_fill(const char *root, const Distribution *d, const char *mirror, const char *locale, const char *timezone);
