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

/* LVM's messages: errors kept for the report, printed lines (reports)
 * kept for the caller, the rest at debug level. */
static char *last_error;
static char **printed;

static void lvm_log(int level, const char *file, int line, int dm_errno, const char *message) {
        (void) file;
        (void) line;
        (void) dm_errno;
        if (level <= LVM2_LOG_ERROR) {
                free(last_error);
                last_error = xstrdup(strempty(message));
                log_debug("lvm: error: %s", strempty(message));
        } else if (level <= LVM2_LOG_PRINT) {
                log_debug("lvm: %s", strempty(message));
                if (printed)
                        strv_push(&printed, strempty(message));
        }
}

int lvm_open(Lvm *l, const Guard *g, bool offline) {
        *l = (Lvm) { .offline = offline, .guard = g };
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

static int lvm_exec(Lvm *l, char *const *argv, char **out, bool quiet) {
        for (char *const *a = argv; *a; a++)
                if (!**a || strpbrk(*a, " \t\n'\"\\"))
                        return log_error_errno(EINVAL, "refusing LVM argument '%s': it would not survive liblvm2cmd's command line",
                                               *a);
        _cleanup_free_ char *cmd = strv_join(argv, " ");
        log_debug("lvm: %s", cmd);
        free(last_error);
        last_error = NULL;
        printed = out ? xcalloc(1, sizeof(char *)) : NULL;
        int r = lvm2_run(l->handle, cmd);
        if (out) {
                *out = strv_join(printed, "\n");
                strv_free(printed);
                printed = NULL;
        }
        if (r != LVM2_COMMAND_SUCCEEDED && quiet)
                return -EIO;
        if (r != LVM2_COMMAND_SUCCEEDED)
                return log_error_errno(EIO, "lvm %s: %s%s%s", cmd, lvm_status(r), last_error ? ": " : "", strempty(last_error));
        return 0;
}

int lvm_run(Lvm *l, char *const *argv, char **out) {
        return lvm_exec(l, argv, out, false);
}

/* --driverloaded n without device-mapper. */
static void offline_args(const Lvm *l, char ***argv) {
        if (l->offline) {
                strv_push(argv, "--driverloaded");
                strv_push(argv, "n");
        }
}

int lvm_pvcreate(Lvm *l, const char *device, const char *what) {
        _cleanup_free_ char *w = xasprintf("%s: pvcreate", what);
        int r = guard_write(l->guard, device, w);
        if (r < 0)
                return r;
        _cleanup_strv_free_ char **argv = strv_split_ws("pvcreate --yes --force --force");
        offline_args(l, &argv);
        strv_push(&argv, device);
        return lvm_run(l, argv, NULL);
}

int lvm_vgcreate(Lvm *l, const char *vg, uint64_t extent_size, char *const *pvs, const char *what) {
        _cleanup_free_ char *w = xasprintf("%s: vgcreate", what);
        for (char *const *p = pvs; *p; p++) {
                int r = guard_write(l->guard, *p, w);
                if (r < 0)
                        return r;
        }
        _cleanup_strv_free_ char **argv = strv_split_ws("vgcreate --yes");
        offline_args(l, &argv);
        strv_push(&argv, "--physicalextentsize");
        strv_consume(&argv, xasprintf("%" PRIu64 "k", extent_size / 1024));
        strv_push(&argv, vg);
        for (char *const *p = pvs; *p; p++)
                strv_push(&argv, *p);
        return lvm_run(l, argv, NULL);
}

/* A command that writes to the group's physical volumes: each one held. */
static int guard_pvs(const Lvm *l, char *const *pvs, const char *what, const char *command) {
        _cleanup_free_ char *w = xasprintf("%s: %s", what, command);
        for (char *const *p = pvs; *p; p++) {
                int r = guard_write(l->guard, *p, w);
                if (r < 0)
                        return r;
        }
        return 0;
}

int lvm_lvcreate(Lvm *l, const char *vg, char *const *pvs, const char *lv, uint64_t size, const char *what) {
        int r = guard_pvs(l, pvs, what, "lvcreate");
        if (r < 0)
                return r;
        _cleanup_free_ char *bytes = xasprintf("%" PRIu64 "b", size);
        _cleanup_strv_free_ char **argv = strv_split_ws("lvcreate --yes");
        if (l->offline) {
                /* No device-mapper: metadata only, nothing to activate or zero. */
                offline_args(l, &argv);
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
        return lvm_run(l, argv, NULL);
}

int lvm_lvextend(Lvm *l, const char *vg, char *const *pvs, const char *lv, uint64_t size, const char *what) {
        int r = guard_pvs(l, pvs, what, "lvextend");
        if (r < 0)
                return r;
        _cleanup_free_ char *bytes = xasprintf("%" PRIu64 "b", size), *name = xasprintf("%s/%s", vg, lv);
        _cleanup_strv_free_ char **argv = strv_split_ws("lvextend");
        offline_args(l, &argv);
        strv_push(&argv, "--size");
        strv_push(&argv, bytes);
        strv_push(&argv, name);
        return lvm_run(l, argv, NULL);
}

int lvm_lv_size(Lvm *l, const char *vg, const char *lv, uint64_t *size) {
        _cleanup_strv_free_ char **argv = strv_split_ws("lvs --noheadings --nosuffix --units b --separator : -o lv_name,lv_size");
        offline_args(l, &argv);
        strv_push(&argv, vg);
        _cleanup_free_ char *out = NULL;
        /* No such group: no such volume either. */
        if (lvm_exec(l, argv, &out, true) < 0)
                return 0;
        _cleanup_strv_free_ char **lines = strv_split_lines(out);
        for (char **line = lines; *line; line++) {
                char *s = strstrip(*line), *colon = strchr(s, ':');
                if (!colon)
                        continue;
                *colon = 0;
                if (streq(s, lv)) {
                        *size = strtoull(colon + 1, NULL, 10);
                        return 1;
                }
        }
        return 0;
}

int lvm_activate(Lvm *l, const char *vg, bool on) {
        if (l->offline)
                return 0;
        char *argv[] = { "vgchange", "--activate", on ? "y" : "n", (char *) vg, NULL };
        return lvm_run(l, argv, NULL);
}
