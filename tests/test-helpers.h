/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-helpers.h: what the cmocka suites share. */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "profile.h"
#include "strutil.h"

/* The source tree (tests run in a temporary folder of their own). */
static inline const char *srcdir(void) {
        const char *s = getenv("HYPERION_SRCDIR");
        return s ? s : ".";
}

static inline char *src_path(const char *rel) {
        return path_join(srcdir(), rel);
}

/* A profile of the source tree (REL: "profiles/hyperion"), which must load. */
static inline Profile *load_src_profile(const char *rel) {
        _cleanup_free_ char *dir = src_path(rel);
        Profile *p = NULL;
        _cleanup_strv_free_ char **errors = NULL;
        assert_int_equal(profile_load(dir, &p, &errors), 0);
        return p;
}

/* Does got equal the golden file REL of the source tree? With
 * HYPERION_UPDATE_GOLDEN set, REL is written with got first. A difference
 * is said ("WHAT differs from REL; got: ..."). */
static inline bool golden_equal(const char *rel, const char *got, const char *what) {
        _cleanup_free_ char *path = src_path(rel), *want = NULL;
        if (getenv("HYPERION_UPDATE_GOLDEN"))
                assert_int_equal(write_file_atomic(path, got, strlen(got), 0644), 0);
        if (read_full_file(path, &want, NULL) == 0 && streq(got, want))
                return true;
        print_error("%s differs from %s; got:\n%s\n", what, rel, got);
        return false;
}
