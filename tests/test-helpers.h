/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-helpers.h: what the cmocka suites share. */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
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
