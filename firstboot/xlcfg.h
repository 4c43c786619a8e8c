/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xlcfg.h: a guest of the profile, as xl sees it.
 *
 * The same values feed both the /etc/xen/<name>.cfg file (xl syntax, checked
 * with libxlutil's parser before it is written: a file that does not parse
 * is a bug and is never written) and the libxl_domain_config that creates
 * the domain on the first Xen boot.
 */
#pragma once

#include "profile.h"

/* Where the guests' kernel and initrd live in dom0 (one pair for all). */
#define GUEST_KERNEL_DIR "/var/lib/hyperion/guest-kernel"
/* The hotplug script of their disks (firstboot/hyperion-block.c), installed
 * by the hyperion-firstboot package. */
#define GUEST_BLOCK_SCRIPT "/usr/lib/hyperion/block"
/* The console on hvc0 (xl console), eth0 as the interfaces file names it. */
#define GUEST_CMDLINE "root=/dev/xvda ro console=hvc0 net.ifnames=0"

/* "format=raw, vdev=xvda, access=rw, target=/dev/vg0/io-disk" and the swap's. */
char **guest_disk_specs(const Domain *d);
/* The whole cfg file. */
char *guest_cfg_text(const Domain *d);
/* Parse text with libxlutil; 0, or -EINVAL with its message logged. */
int guest_cfg_check(const char *name, const char *text);
