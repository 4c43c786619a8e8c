/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * overlay.h: an overlay folder laid over an image root, every path
 * resolved inside the root, never through a link out of it (overlay.c).
 */
#pragma once

#include <stdbool.h>

/* Lay the overlay over root; owned by root:root unless keep_owners. */
int overlay_lay(const char *overlay, const char *root, bool keep_owners);
