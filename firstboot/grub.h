/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * grub.h: the installed system's boot: the Xen entry first (the seed's
 * dpkg-divert of 20_linux_xen to 08_linux_xen, which survives upgrades of
 * the package), GRUB onto each firmware target of the plan (firmware.h:
 * UEFI in EFI/debian with the boot entry when the machine booted that way,
 * UEFI's removable path, BIOS on a disk with a bios_grub partition), and
 * the menu, its first entry checked to be Xen.
 */
#pragma once

#include "plan.h"
#include "target.h"

int grub_divert(Target *t, const Step *s);
int grub_install(Target *t, const Step *s);
int grub_update(Target *t, const Step *s);

/* The title of the first menu entry of a grub.cfg, or NULL. */
char *grub_first_entry(const char *grub_cfg);
