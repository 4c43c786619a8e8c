/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * report.h: what the host tells its console on every Xen boot
 * (hyperion-report.service), and only what it has seen.
 *
 * It waits, up to a deadline it states, for each kept disk's filesystem to
 * be mounted and for each guest that starts at boot to say on its console
 * that its system is up (the line of medium.h, read from xenconsoled's log
 * of the guest's current domain: no network needed). Then, a line each:
 *
 *   hyperion-guests: kept disk data: /srv/data mounted (ext4 from /dev/sda1)
 *   hyperion-guests: guest io id 2 memory 128M state running; system up
 *     after 48 s (multi-user); swap on (/dev/xvdb 131068k); address
 *     10.0.2.16/24 on xenbr0; ssh active after 41 s; failed units none
 *
 * (one line each), or "system NOT up after N s" and the last lines of its
 * console; what this boot's creations went through (GUESTS_CREATED); and
 * "hyperion-guests: report done: ...". It fails when a guest or a kept
 * filesystem is not up by the deadline.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "profile.h"

/* A deadline for the report only (nothing else gives up on a slow guest):
 * on a loaded two-core box (another qemu and two busy loops beside a TCG
 * one, make e2e's first boot) guests have come up 900-950 s after they
 * were created. */
#define REPORT_WAIT_DEFAULT 1200

typedef struct ReportOptions {
        unsigned wait_seconds;   /* the deadline, from the report's start */
        const char *console_dir; /* default CONSOLE_LOG_DIR */
} ReportOptions;

int guests_report(const Profile *p, const ReportOptions *o);

/* ---- pieces, pure (tested) ------------------------------------------------ */

/* What a guest said on its console once up (medium.h). */
typedef struct GuestReady {
        unsigned up_seconds;
        char *swap;    /* "/dev/xvdb 131068k", or "none" */
        char *address; /* "eth0 10.0.2.16/24", or "none" */
        char *ssh;     /* "active after 41 s", or "inactive" */
        char *failed;  /* failed units, comma-separated, or "none" */
        char *domain;  /* the UUID of the domain that printed it */
} GuestReady;

void guest_ready_done(GuestReady *g);

/* The output of the log's current domain: what follows its last
 * "Logfile Opened" line (the whole text when there is none); *opened gets
 * that line's time stamp, or (time_t) -1. */
const char *console_current(const char *log, time_t *opened);
/* The last line NAME's unit printed in that output from the domain of that
 * UUID (any domain's when NULL): 1 and *ret, or 0. */
int guest_ready_parse(const char *section, const char *name, const char *domain, GuestReady *ret);
/* Its last n non-empty lines, control characters replaced. */
char **console_last_lines(const char *section, size_t n);
/* What the guest's last creation went through in the lines of this boot's
 * GUESTS_CREATED ("NAME what"; day two's come after the boot's), or NULL. */
const char *guest_creation_of(char *const *lines, const char *name);
/* The mount unit of a path, as systemd names it ("/srv/data" -> "srv-data.mount"). */
char *mount_unit_name(const char *path);
