/* SPDX-License-Identifier: GPL-2.0-or-later */
/* verify.h: comparing two ISOs, down to the files of their root images. */
#pragma once

#include <stdint.h>

/* 0 identical, 1 different (the differences printed), negative on error.
 * tmpdir: where both are unpacked when they differ. */
int iso_compare(const char *a, const char *b, const char *tmpdir);
/* The inputs a manifest records: the mirror and SOURCE_DATE_EPOCH. */
int manifest_read(const char *path, char **ret_mirror, int64_t *ret_epoch);
