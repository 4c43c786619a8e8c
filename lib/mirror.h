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
/* A mirror URL without the credentials it may carry
 * ("http://user:pass@host/debian" -> "http://host/debian"); *userinfo gets
 * "user:pass" (NULL when there is none). Never in an image, a manifest or a
 * log: the build gives apt an auth.conf.d file that leaves with the clean
 * stage, and the logger hides them. */
char *mirror_without_credentials(const char *url, char **userinfo);
/* apt's file name for a URI: "http://h/debian" -> "h_debian". */
char *apt_uri_to_filename(const char *uri);
