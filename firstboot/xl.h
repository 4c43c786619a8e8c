/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xl.h: libxenlight, opened once for a command.
 *
 * Its messages of level error and above go to standard error (the journal
 * and the console, under the units) as "libxl: error: ...", and are kept:
 * a failed creation can say why (a hotplug script that timed out, say)
 * in the log and in the report, not just "libxl error -3".
 */
#pragma once

#include <libxl.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct XlLogger XlLogger;

typedef struct Xl {
        libxl_ctx *ctx;
        XlLogger *logger;
} Xl;

int xl_open(Xl *x);
void xl_close(Xl *x);

/* The error messages libxl gave since the last call, joined with "; "
 * (NULL when there were none); the list starts again empty. */
char *xl_take_errors(Xl *x);

/* A domain as libxl sees it. */
typedef struct XlGuest {
        uint32_t domid;
        uint64_t memory;   /* bytes */
        const char *state; /* "running", "paused", "shutdown", "dying" (runnable or blocked: running) */
        char uuid[LIBXL_UUID_FMTLEN + 1];
} XlGuest;

/* The guest NAME's domain; false when Xen has no domain of that name. */
bool xl_guest(Xl *x, const char *name, XlGuest *ret);

/* libxl's ERROR_* codes, in words. */
const char *xl_error_name(int rc);
