/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * release.h: the state of the mirror, from its InRelease file.
 *
 * Fetched first (apt-helper download-file: apt's own transports, proxies and
 * configuration), its SHA-256 goes into every cache key, so that a cached
 * stage is used only for the very mirror state it was made from, and its
 * Date: gives SOURCE_DATE_EPOCH when nothing else does (never the clock).
 * A dated snapshot mirror thus rebuilds the same image months later.
 *
 * Nothing is taken from a mirror before its InRelease (or Release and
 * Release.gpg) checks against the keyring (gpgv): Debian's archive keyring,
 * or the one a profile names for a local mirror. A file that does not
 * check is refused with its reason.
 */
#pragma once

#include <stdint.h>

typedef struct Release {
        char sha256[65];
        int64_t date; /* seconds since 1970 */
        char *path;   /* where it was saved */
} Release;

int release_fetch(const char *mirror, const char *suite, const char *keyring, const char *dir, Release *ret);
/* The Date: of a Release text, or 0. */
int64_t release_parse_date(const char *text);
void release_done(Release *r);
