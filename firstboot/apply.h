/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * apply.h: carrying out a plan, step by step.
 *
 * apply_plan() first holds every disk it will write (guard.h: each checked
 * to be the disk the plan was made for; a mismatch stops before anything
 * is written), then walks the plan's steps in order through one table
 * from kind to function. A step the journal lists is skipped (mounts and
 * the chroot are made again on every run); every other step is done, then
 * journalled. Every step can be done again without harm, or recognises
 * what it did already (a volume group or a volume that exists), so a cut
 * between any two writes resumes to the same end state. SIGINT, SIGTERM
 * and SIGHUP stop the install at the next write: what it mounted is
 * unmounted, its loop devices detached, the volume groups it activated
 * deactivated, and the journal stays as it was after the last step done.
 */
#pragma once

#include "journal.h"
#include "plan.h"

typedef struct ApplyOptions {
        const char *root;       /* where the target's root is mounted */
        const Journal *resumed; /* the journal of an interrupted run of this plan, or NULL */
} ApplyOptions;

/* 0, -EINTR when interrupted, or another negative errno. */
int apply_plan(const Plan *plan, const ApplyOptions *o);
