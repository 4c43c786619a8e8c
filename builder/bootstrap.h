/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bootstrap.h: the builder's cache of trees, and the key of a bootstrap (mmdebstrap)
 * (making the trees themselves: debtree.h).
 */
#pragma once

#include <stdbool.h>

#include "debtree.h"
#include "profile.h"

/* Cache entries carry their SHA-256 beside them (ENTRY.sha256): sealed
 * when stored, checked before use. cache_check(): 1 intact, 0 absent, -1
 * damaged or tampered with (then removed, to be built again). */
int cache_seal(const char *entry);
int cache_check(const char *entry, const char *label);
/* 1 restored, 0 not cached (root left empty), negative on error. */
int cache_restore(const char *archive, const char *root, const char *label);
/* Store root as archive; failing to cache is only a warning. */
int cache_store(const char *archive, const char *root, const char *label);

/* The key of a bootstrap: suite, mirror and its state, components,
 * mmdebstrap's version. */
void bootstrap_key(const Distribution *d, const char *mirror, const char *release_sha256, char out[65]);
