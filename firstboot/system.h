/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * system.h: the installed system's steps: the live root copied onto the
 * target, the chroot its programs run in, the live-only package purged,
 * the files, settings and folders the plan writes, a machine-id and SSH
 * host keys of its own, root's keys and password hash. Each is a step
 * function of the apply table (apply.c).
 */
#pragma once

#include "plan.h"
#include "target.h"

int system_copy_root(Target *t, const Step *s);
int system_chroot(Target *t, const Step *s);
int system_purge_live(Target *t, const Step *s);
int system_file(Target *t, const Step *s);
int system_setting(Target *t, const Step *s);
int system_dir(Target *t, const Step *s);
int system_identity(Target *t, const Step *s);
/* A reinstall that keeps the host's identity: its files read from the old
 * root before anything is written (debugfs, read-only), and put aside on
 * the new root as soon as it is mounted (KEPT_IDENTITY_DIR), where the
 * identity step and a rerun after a power cut find them. */
int identity_read_old(Target *t);
int identity_put_aside(Target *t);
#define KEPT_IDENTITY_DIR "var/lib/hyperion/kept-identity"
int system_root_access(Target *t, const Step *s);
/* A seat of dom0: its account (its own home), its application's settings,
 * its unit written and enabled. */
int system_seat(Target *t, const Step *s);

/* A program run in the installed system, in its chroot; output to the debug log. */
int in_target(const Target *t, char *const *argv);

/* A shell-style settings file with VAR="value" set (commented copies of it
 * dropped), a comment above it. */
char *set_shell_variable(const char *old, const char *var, const char *value, const char *comment);
