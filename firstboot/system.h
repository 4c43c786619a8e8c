/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * system.h: the installed system: the live root copied onto the target, then
 * made a machine of its own (fstab by UUID, host name, a fresh machine-id and
 * SSH host keys, root's keys, the guests' bridge), the live-only packages
 * purged; and its boot: the Xen GRUB entry first, dom0's memory, no
 * ballooning, GRUB on the ESP (and the removable path, and BIOS when the
 * profile has a bios_grub partition).
 */
#pragma once

#include "probe.h"
#include "target.h"

/* The squashfs the live system runs from, if there is one. */
char *system_find_root_image(void);

int system_copy_root(Target *t);
int system_configure(Target *t);
int system_boot(Target *t);

/* Texts written into the target, from the profile and the plan (tested). */
char *system_fstab(const Target *t);
char *system_interfaces(const Profile *p, const char *interface);
char *system_grub_xen_cfg(const Profile *p);
/* xl.conf with autoballoon set as the profile says. */
char *system_xl_conf(const Profile *p, const char *old);
/* A shell-style settings file with VAR="value" set (commented copies of it
 * dropped), a comment above it. */
char *set_shell_variable(const char *old, const char *var, const char *value, const char *comment);
/* The title of the first menu entry of a grub.cfg, or NULL. */
char *grub_first_entry(const char *grub_cfg);
