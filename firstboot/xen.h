/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xen.h: Xen as the profile wants it: dom0's settings and the guests'
 * configurations, as texts (pure, tested).
 *
 * dom0: Xen's and dom0's command lines in a GRUB drop-in, no ballooning in
 * xl.conf, xenconsoled keeping the guests' consoles, xendomains shutting
 * the guests down with the host.
 *
 * A guest of the profile as xl sees it: the same values feed both the
 * /etc/xen/<name>.cfg file (xl syntax, checked with libxlutil's parser
 * before it is written: a file that does not parse is a bug and is never
 * written) and the libxl_domain_config that creates the domain.
 */
#pragma once

#include "profile.h"

/* Where each guest's kernel and initrd live in dom0: GUEST_KERNEL_DIR/NAME/,
 * copied from the guest's own root (its modules are that kernel's, even
 * when a reinstall keeps a guest whose root is older than the ISO's). */
#define GUEST_KERNEL_DIR "/var/lib/hyperion/guest-kernel"
/* The ISO's guest archive, kept on the installed host: a guest added on
 * day two needs no network (change.h). */
#define GUEST_ARCHIVE_HOST "/var/lib/hyperion/guest-root.tar.zst"
/* The hotplug script of their disks (firstboot/hyperion-block.c), installed
 * by the hyperion-firstboot package. */
#define GUEST_BLOCK_SCRIPT "/usr/lib/hyperion/block"
/* And of their network interfaces (firstboot/hyperion-vif.c), in place of
 * Xen's vif-bridge, which outlasts libxl's 40 s on a loaded host. */
#define GUEST_VIF_SCRIPT "/usr/lib/hyperion/vif"
/* The console on hvc0 (xl console), eth0 as the interfaces file names it.
 * quiet: on that console (read by the report, kept in dom0's log) the
 * kernel's errors and worse, not its 230 lines of boot messages (each a
 * write to the console ring and a wake-up of xenconsoled in dom0: under
 * nested TCG, seconds of a guest's boot); the whole is in its journal.
 * oops=panic: a guest kernel that oopses is left in no state to serve (a
 * driver that dies holding a lock with interrupts off hangs the domain and
 * can keep its vCPU busy for good: seen with trixie's xen-blkfront); a panic
 * in a Xen guest with panic=0 is a domain crash at once, which on_crash
 * restarts, under the restart limit for the guests hyperion looks after. */
#define GUEST_CMDLINE "root=/dev/xvda ro console=hvc0 quiet net.ifnames=0 oops=panic"

/* /etc/default/grub.d/hyperion-xen.cfg: dom0_mem, Xen's command line. */
char *xen_grub_cfg(const Profile *p);
/* The value of autoballoon= in /etc/xen/xl.conf. */
const char *xen_autoballoon(const Profile *p);

/* "format=raw, vdev=xvda, access=rw, script=..., target=/dev/vg0/io-disk" and the swap's. */
char **guest_disk_specs(const Domain *d);
/* "mac=00:16:3e:.., bridge=xenbr0, script=...", one per bridge, in order. */
char **guest_vif_specs(const Domain *d);
/* The whole cfg file. */
char *guest_cfg_text(const Domain *d);
/* Parse text with libxlutil; 0, or -EINVAL with its message logged. */
int guest_cfg_check(const char *name, const char *text);
