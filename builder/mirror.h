/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mirror.h: which Debian mirror to use when the profile names none: the one
 * this machine's own apt sources name, so that a local mirror or cache is
 * used when the machine has one. An entry counts when apt has its Release
 * file and that file says "Origin: Debian" (so that third-party sources and
 * the security archive are skipped).
 */
#pragma once

/* The URL, or -ENOENT with a message that says what to do. root: "/" or a
 * tree whose etc/apt and var/lib/apt to read (tests). */
int mirror_from_apt_sources(const char *root, char **ret);
/* apt's file name for a URI: "http://h/debian" -> "h_debian". */
char *apt_uri_to_filename(const char *uri);
