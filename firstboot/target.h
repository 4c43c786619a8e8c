/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * target.h: the machine being installed: its devices, its mounted root,
 * and the journal of the steps done.
 *
 * Devices: a partition of a block device is its node (/dev/sdb3); a
 * partition of an image file is a loop device over its byte range
 * (losetup -o START --sizelimit SIZE), attached on first use and detached
 * by target_release(). The journal is a text file, one finished step a
 * line, on the installed root filesystem (/var/lib/hyperion/install.journal)
 * from the moment it exists; a rerun reads it and skips what is done.
 */
#pragma once

#include <stdbool.h>

#include "plan.h"

#define JOURNAL_PATH "var/lib/hyperion/install.journal"

typedef struct Target {
        const Plan *plan;
        char *root;      /* where the installed root is mounted */
        bool image_mode; /* the disks are image files */
        bool offline;    /* no device-mapper: LVM metadata only, no system */
        char ***devs;    /* [disk][partition] device paths, NULL until known */
        char **loops;    /* loop devices we attached */
        char **journal;  /* steps done */
        bool journal_on_disk;
        char *root_image; /* the squashfs the system is copied from */
} Target;

int target_init(Target *t, const Plan *plan, const char *root);
void target_release(Target *t);

/* The device of partition j of plan disk i (attaching a loop device for an
 * image file). Never NULL on success. */
int target_device(Target *t, size_t i, size_t j, const char **ret);
/* Index of the plan partition mounted at path ("/", "/boot"), or -1. */
bool target_find_mount(const Target *t, const char *path, size_t *ri, size_t *rj);

bool journal_done(const Target *t, const char *step);
/* Record a finished step (and fsync it, when the journal is on disk). */
int journal_add(Target *t, const char *step);
/* The root filesystem is mounted: move the journal onto it, or read the
 * one a previous run left there. */
int journal_attach(Target *t);

/* HYPERION_STOP_AFTER=STEP ends the process right after STEP is journalled,
 * as a power cut would (for the resume tests). */
void journal_maybe_stop(const char *step);
