/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "xl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libxl_utils.h>
#include <xentoollog.h>

#include "log.h"
#include "size.h"
#include "strutil.h"

/* A xentoollog logger of our own: prints errors, keeps them. */
struct XlLogger {
        xentoollog_logger vtable;
        char **errors;
        bool quiet;   /* a question whose "no" is an answer, not an error */
};

static void xl_logger_vmessage(xentoollog_logger *logger, xentoollog_level level, int errnoval, const char *context,
                               const char *format, va_list al) {
        XlLogger *l = (XlLogger *) logger;
        if (level < XTL_ERROR || l->quiet)
                return;
        _cleanup_free_ char *msg = xvasprintf(format, al);
        _cleanup_free_ char *full = errnoval >= 0 ? xasprintf("%s: %s", msg, strerror(errnoval)) : xstrdup(msg);
        fprintf(stderr, "%s: %s: %s\n", context ? context : "libxl", xtl_level_to_string(level), full);
        fflush(stderr);
        strv_push(&l->errors, full);
}

static void xl_logger_destroy(xentoollog_logger *logger) {
        XlLogger *l = (XlLogger *) logger;
        strv_free(l->errors);
        free(l);
}

void xl_close(Xl *x) {
        if (x->ctx)
                libxl_ctx_free(x->ctx);
        if (x->logger)
                xl_logger_destroy(&x->logger->vtable);
        *x = (Xl) {};
}

int xl_open(Xl *x) {
        *x = (Xl) {};
        x->logger = xcalloc(1, sizeof(XlLogger));
        x->logger->vtable = (xentoollog_logger) { .vmessage = xl_logger_vmessage, .destroy = xl_logger_destroy };
        x->logger->errors = xcalloc(1, sizeof(char *));
        if (libxl_ctx_alloc(&x->ctx, LIBXL_VERSION, 0, &x->logger->vtable) != 0) {
                x->ctx = NULL;
                xl_close(x);
                return log_error_errno(EIO, "cannot open libxenlight (is this dom0 of a running Xen?)");
        }
        return 0;
}

char *xl_take_errors(Xl *x) {
        char **l = x->logger->errors;
        char *joined = l[0] ? strv_join(l, "; ") : NULL;
        strv_free(l);
        x->logger->errors = xcalloc(1, sizeof(char *));
        return joined;
}

bool xl_guest(Xl *x, const char *name, XlGuest *ret) {
        uint32_t id;
        if (libxl_name_to_domid(x->ctx, name, &id) != 0)
                return false;
        libxl_dominfo info;
        libxl_dominfo_init(&info);
        bool ok = libxl_domain_info(x->ctx, &info, id) == 0;
        if (ok) {
                /* The memory the guest was given (its balloon target), not
                 * the pages it holds: a PVH or HVM domain holds a few more
                 * (ACPI tables, special pages: 128M shows as 131128K). */
                uint64_t target_kb = 0;
                /* A domain being made or going has none yet (or any more):
                 * its pages then, and no error said. */
                x->logger->quiet = true;
                if (libxl_get_memory_target(x->ctx, id, &target_kb) != 0 || target_kb == 0)
                        target_kb = info.current_memkb;
                x->logger->quiet = false;
                *ret = (XlGuest) {
                        .domid = id,
                        .memory = target_kb * KiB,
                        /* Running on a CPU (xl's 'r'), blocked waiting for work
                         * ('b') or runnable waiting for a CPU ('-'): all running. */
                        .state = info.dying ? "dying" : info.shutdown ? "shutdown" : info.paused ? "paused" : "running",
                };
                snprintf(ret->uuid, sizeof ret->uuid, LIBXL_UUID_FMT, LIBXL_UUID_BYTES(info.uuid));
        }
        libxl_dominfo_dispose(&info);
        return ok;
}

const char *xl_error_name(int rc) {
        switch (rc) {
        case ERROR_NOMEM: return "not enough memory";
        case ERROR_INVAL: return "invalid configuration";
        case ERROR_FAIL: return "failed";
        case ERROR_NOTFOUND: return "not found";
        case ERROR_TIMEDOUT: return "timed out";
        case ERROR_DEVICE_EXISTS: return "a device exists already";
        default: return "libxl error";
        }
}

int xl_list(Xl *x, char ***names, uint32_t **domids, uint64_t **maxmem, size_t *n) {
        int nb = 0;
        libxl_dominfo *info = libxl_list_domain(x->ctx, &nb);
        if (!info)
                return log_error_errno(EIO, "libxenlight cannot list the domains");
        *names = xcalloc(1, sizeof(char *));
        *domids = xcalloc((size_t) nb + 1, sizeof(uint32_t));
        *maxmem = xcalloc((size_t) nb + 1, sizeof(uint64_t));
        *n = 0;
        for (int i = 0; i < nb; i++) {
                if (info[i].domid == 0 || info[i].dying)
                        continue;
                char *name = libxl_domid_to_name(x->ctx, info[i].domid);
                if (!name)
                        continue;
                strv_consume(names, name);
                (*domids)[*n] = info[i].domid;
                (*maxmem)[*n] = info[i].max_memkb * KiB;
                (*n)++;
        }
        libxl_dominfo_list_free(info, nb);
        return 0;
}

uint64_t xl_free_memory(Xl *x) {
        libxl_physinfo pi;
        libxl_physinfo_init(&pi);
        uint64_t free_b = 0;
        if (libxl_get_physinfo(x->ctx, &pi) == 0)
                free_b = (uint64_t) pi.free_pages * 4096;
        libxl_physinfo_dispose(&pi);
        return free_b;
}

/* One request to shut down, as xl shutdown (-F) sends it: through the PV
 * control node, or the ACPI power button for an HVM guest without PV
 * drivers. libxl waits up to a minute for the guest to take the request;
 * a guest still booting (or hung) does not, and says nothing. */
static int ask_shutdown(Xl *x, const char *name, uint32_t domid, bool *taken) {
        int rc = libxl_domain_shutdown(x->ctx, domid, NULL);
        if (rc == ERROR_NOPARAVIRT)
                rc = libxl_send_trigger(x->ctx, domid, LIBXL_TRIGGER_POWER, 0, NULL);
        *taken = rc == 0;
        if (rc == 0 || rc == ERROR_TIMEDOUT)
                return 0;
        return log_error_errno(EIO, "guest %s: libxl cannot ask domain %u to shut down: %s (%d)", name, domid, xl_error_name(rc), rc);
}

int xl_shutdown_wait(Xl *x, const char *name, unsigned timeout_s) {
        XlGuest g;
        if (!xl_guest(x, name, &g))
                return 0;
        uint64_t start = now_usec();
        log_info("guest %s: asking it to shut down (domain %u); waiting up to %u s", name, g.domid, timeout_s);
        bool taken = false;
        unsigned down_for = 0, asked = 0;
        for (;;) {
                if (!taken) {
                        int r = ask_shutdown(x, name, g.domid, &taken);
                        if (r < 0)
                                return r;
                        asked++;
                        if (!taken)
                                log_warning("guest %s: has not taken the shutdown request yet (still booting, or not answering)",
                                            name);
                }
                unsigned waited = (unsigned) ((now_usec() - start) / 1000000);
                if (!xl_guest(x, name, &g))
                        return 0;
                if (waited >= timeout_s)
                        break;
                /* Shut down, and whoever watches it (its supervisor, xl's
                 * daemon) has not destroyed it in 10 s: we do. */
                if (streq(g.state, "shutdown") && ++down_for >= 10) {
                        (void) libxl_domain_destroy(x->ctx, g.domid, NULL);
                        down_for = 0;
                }
                sleep(1);
        }
        /* Never destroyed while it runs: that is a power cut for its disks. */
        return log_error_errno(ETIMEDOUT,
                               "guest %s: still running %u s after it was asked to shut down (%u request%s, %s): left running; "
                               "shut it down yourself ('xl shutdown %s', or 'xl destroy %s' as a power cut) and run this again",
                               name, timeout_s, asked, asked == 1 ? "" : "s", taken ? "taken" : "never taken", name, name);
}

int xl_set_memory(Xl *x, uint32_t domid, uint64_t bytes) {
        int rc = libxl_set_memory_target(x->ctx, domid, (int64_t) (bytes / KiB), 0, 1);
        if (rc != 0)
                return log_error_errno(EIO, "libxl cannot set the memory of domain %u: %s (%d)", domid, xl_error_name(rc), rc);
        return 0;
}
