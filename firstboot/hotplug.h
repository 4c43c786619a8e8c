/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hotplug.h: what hyperion's two hotplug programs (hyperion-block for the
 * guests' disks, hyperion-vif for their network interfaces) share: their
 * device's back end in xenstore, read and written, and a refusal written
 * there as Xen's scripts write one (hotplug-error, hotplug-status), so that
 * libxenlight gives the reason.
 */
#pragma once

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <xenstore.h>

typedef struct Hotplug {
        const char *program; /* for messages */
        struct xs_handle *xs;
        const char *backend; /* XENBUS_PATH */
} Hotplug;

/* The value at a path (printf-style), or NULL; free() it. */
static inline char *hotplug_read(const Hotplug *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline char *hotplug_read(const Hotplug *h, const char *fmt, ...) {
        char path[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(path, sizeof path, fmt, ap);
        va_end(ap);
        unsigned len;
        return xs_read(h->xs, XBT_NULL, path, &len);
}

/* KEY of the back end. */
static inline void hotplug_write(const Hotplug *h, const char *key, const char *value) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", h->backend, key);
        if (!xs_write(h->xs, XBT_NULL, path, value, (unsigned) strlen(value)))
                fprintf(stderr, "%s: cannot write %s: %s\n", h->program, path, strerror(errno));
}

/* The reason on standard error and in the back end, hotplug-status STATUS; 1. */
static inline int hotplug_refuse(const Hotplug *h, const char *status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static inline int hotplug_refuse(const Hotplug *h, const char *status, const char *fmt, ...) {
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        fprintf(stderr, "%s: %s\n", h->program, msg);
        hotplug_write(h, "hotplug-error", msg);
        hotplug_write(h, "hotplug-status", status);
        return 1;
}
