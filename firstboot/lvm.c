/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "lvm.h"

#include <errno.h>
#include <inttypes.h>
#include <lvm2cmd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guard.h"
#include "log.h"
#include "macro.h"
#include "strutil.h"

/* LVM's messages: errors kept for the report, the rest at debug level. */
static char *last_error;

static void lvm_log(int level, const char *file, int line, int dm_errno, const char *message) {
        (void) file;
        (void) line;
        (void) dm_errno;
        if (level <= LVM2_LOG_ERROR) {
                free(last_error);
                last_error = xstrdup(strempty(message));
                log_debug("lvm: error: %s", strempty(message));
        } else if (level <= LVM2_LOG_PRINT)
                log_debug("lvm: %s", strempty(message));
}

int lvm_open(Lvm *l, bool offline) {
        *l = (Lvm) { .offline = offline };
        lvm2_log_fn(lvm_log);
        l->handle = lvm2_init();
        if (!l->handle)
                return log_error_errno(EIO, "cannot start liblvm2cmd");
        lvm2_log_level(l->handle, LVM2_LOG_PRINT);
        return 0;
}

void lvm_close(Lvm *l) {
        if (l->handle)
                lvm2_exit(l->handle);
        l->handle = NULL;
}

static const char *lvm_status(int r) {
        switch (r) {
        case LVM2_NO_SUCH_COMMAND: return "no such command";
        case LVM2_INVALID_PARAMETERS: return "invalid parameters";
        case LVM2_INIT_FAILED: return "initialisation failed";
        case LVM2_PROCESSING_FAILED: return "processing failed";
        default: return "failed";
        }
}

int lvm_run(Lvm *l, char *const *argv) {
        for (char *const *a = argv; *a; a++)
                if (!**a || strpbrk(*a, " \t\n'\"\\"))
                        return log_error_errno(EINVAL, "refusing LVM argument '%s': it would not survive liblvm2cmd's command line",
                                               *a);
        _cleanup_free_ char *cmd = strv_join(argv, " ");
        log_debug("lvm: %s", cmd);
        free(last_error);
        last_error = NULL;
        int r = lvm2_run(l->handle, cmd);
        if (r != LVM2_COMMAND_SUCCEEDED)
                return log_error_errno(EIO, "lvm %s: %s%s%s", cmd, lvm_status(r), last_error ? ": " : "", strempty(last_error));
        return 0;
}

int lvm_pvcreate(Lvm *l, const char *device) {
        int r = guard_check(device);
        if (r < 0)
                return r;
        char *argv[] = { "pvcreate", "--yes", "--force", "--force", (char *) device, NULL, NULL, NULL };
        if (l->offline) {
                argv[5] = "--driverloaded";
                argv[6] = "n";
        }
        return lvm_run(l, argv);
}

int lvm_vgcreate(Lvm *l, const char *vg, uint64_t extent_size, char *const *pvs) {
        for (char *const *p = pvs; *p; p++) {
                int r = guard_check(*p);
                if (r < 0)
                        return r;
        }
        _cleanup_strv_free_ char **argv = xcalloc(1, sizeof(char *));
        strv_push(&argv, "vgcreate");
        strv_push(&argv, "--yes");
        if (l->offline) {
                strv_push(&argv, "--driverloaded");
                strv_push(&argv, "n");
        }
        strv_push(&argv, "--physicalextentsize");
        strv_consume(&argv, xasprintf("%" PRIu64 "k", extent_size / 1024));
        strv_push(&argv, vg);
        for (char *const *p = pvs; *p; p++)
                strv_push(&argv, *p);
        return lvm_run(l, argv);
}

int lvm_lvcreate(Lvm *l, const char *vg, const char *lv, uint64_t size) {
        _cleanup_free_ char *bytes = xasprintf("%" PRIu64 "b", size);
        _cleanup_strv_free_ char **argv = xcalloc(1, sizeof(char *));
        strv_push(&argv, "lvcreate");
        strv_push(&argv, "--yes");
        if (l->offline) {
                /* No device-mapper: metadata only, nothing to activate or zero. */
                strv_push(&argv, "--driverloaded");
                strv_push(&argv, "n");
                strv_push(&argv, "--activate");
                strv_push(&argv, "n");
                strv_push(&argv, "--zero");
                strv_push(&argv, "n");
        } else {
                /* Signatures of whatever was there before are wiped. */
                strv_push(&argv, "--wipesignatures");
                strv_push(&argv, "y");
        }
        strv_push(&argv, "--name");
        strv_push(&argv, lv);
        strv_push(&argv, "--size");
        strv_push(&argv, bytes);
        strv_push(&argv, vg);
        return lvm_run(l, argv);
}
