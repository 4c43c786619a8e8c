/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * refresh.h: the installed host's guest archive (GUEST_ARCHIVE_HOST) made
 * again from its mirror, with mmdebstrap and the builder's own guest root
 * (guestroot.h), so that day two's new guests get today's packages.
 */
#pragma once

#include "profile.h"

/* The archive of the profile's suite written to output (atomically: the
 * one there stays until the new one is whole). The mirror: the profile's
 * Mirror=, else the one the host's apt sources name. The tree is made
 * beside output and removed after. */
int guest_archive_refresh(const Profile *p, const char *output);
