/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * medium.h: the contracts between hyperion-build and hyperion-firstboot,
 * defined once.
 *
 * The installation medium: where the builder puts the live system's root
 * image and the guests' root archive on the ISO, and where the installer
 * finds them once live-boot has mounted the medium.
 *
 * The guests: the line a guest prints on its console (hvc0) once its
 * system is up, written by the guest's own unit (builder/guest.c) and read
 * by the host's report from xenconsoled's log (firstboot/report.c):
 *
 *   hyperion-guest: io up after 48 s: multi-user; swap /dev/xvdb 131068k;
 *   address eth0 10.0.2.16/24; ssh active after 41 s; failed none;
 *   domain 6f0c2a4e-...  (the domain's UUID: this domain's line, not the
 *   one of the domain before a reboot)
 *
 * (one line), each field "; "-separated after the first colon.
 */
#pragma once

#include <stdint.h>

/* On the ISO, relative to its root. */
#define MEDIUM_ROOT_IMAGE "live/filesystem.squashfs"
#define MEDIUM_ROOT_IMAGE_SHA256 "hyperion/filesystem.squashfs.sha256"
#define MEDIUM_GUEST_ARCHIVE "hyperion/guest-root.tar.zst"
/* In the guest archive: each guest's Packages= with what they need that
 * the archive's system lacks, downloaded at build time (GUEST_DEBS/NAME/),
 * installed from there when the guest is made (no network), then removed. */
#define GUEST_DEBS "var/lib/hyperion/guest-debs"

/* In the live system's image: the ISO it is part of, as libblkid reports
 * it ("LABEL=HYPERION\nUUID=2026-11-28-00-00-00-00\n": the volume id and
 * the volume's modification date, both set from the build's inputs), so
 * that the installer knows its own medium on any disk, whether or not
 * it is mounted (toram, an ISO file on another disk). */
#define MEDIUM_IDENTITY_FILE "/usr/lib/hyperion/medium"
/* The UUID libblkid gives an ISO made with this SOURCE_DATE_EPOCH. */
char *medium_iso_uuid(int64_t epoch);
/* xorriso's notation of the same date: "2026112800000000". */
char *medium_iso_date(int64_t epoch);

/* The guest's line, its prefix and the unit that prints it. */
#define GUEST_READY_PREFIX "hyperion-guest: "
#define GUEST_READY_UNIT "hyperion-guest-ready.service"
#define GUEST_READY_SCRIPT "/usr/local/lib/hyperion/guest-ready"
/* Where a guest with a swap volume orders its ready line after the swap
 * (relative to the guest's root). */
#define GUEST_READY_DROPINS "etc/systemd/system/" GUEST_READY_UNIT ".d"
#define GUEST_READY_SWAP_DROPIN GUEST_READY_DROPINS "/hyperion-swap.conf"

/* xenconsoled's logs of the guests' consoles (dom0), one file a guest:
 * guest-NAME.log; each domain's output begins with a "Logfile Opened" line
 * (xenconsoled --timestamp=guest stamps every line with dom0's local time). */
#define CONSOLE_LOG_DIR "/var/log/xen/console"
#define CONSOLE_LOG_OPENED "Logfile Opened"
#define CONSOLED_ARGS "--log=guest --log-dir=" CONSOLE_LOG_DIR " --timestamp=guest --replace-escape"
