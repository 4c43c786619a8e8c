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
        uint64_t memory;   /* bytes: its target, what it was given */
        const char *state; /* "running", "paused", "shutdown", "dying" (runnable or blocked: running) */
        char uuid[LIBXL_UUID_FMTLEN + 1];
} XlGuest;

/* The guest NAME's domain; false when Xen has no domain of that name. */
bool xl_guest(Xl *x, const char *name, XlGuest *ret);

/* Every domain but dom0: names[i], domids[i], maxmem[i] (bytes); n of them. */
int xl_list(Xl *x, char ***names, uint32_t **domids, uint64_t **maxmem, size_t *n);
/* Xen's free memory, bytes (0 when unknown). */
uint64_t xl_free_memory(Xl *x);
/* The domain asked to shut down (as xl shutdown -F does), asked again
 * while it has not taken the request (a guest still booting), then waited
 * for until it is gone, at most timeout_s in all; a domain that shut down
 * and that nobody destroys is destroyed. 0, or -ETIMEDOUT while it still
 * runs: a running domain is never destroyed. */
int xl_shutdown_wait(Xl *x, const char *name, unsigned timeout_s);
/* The running domain's memory set to bytes (within its maximum). */
int xl_set_memory(Xl *x, uint32_t domid, uint64_t bytes);

/* libxl's ERROR_* codes, in words. */
const char *xl_error_name(int rc);
