/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * journal.h: the install journal, on the new root filesystem
 * (JOURNAL_PATH) from the moment that exists.
 *
 *   hyperion install journal 2
 *   identity 3f1c...   the plan's identity: the profile, the root image, the disks
 *   seed 9a0b...       the plan's UUIDs come from it
 *   table system       the id of each step done, in order
 *   ...
 *
 * A rerun reads it back before it plans: the same identity carries on
 * from the last step done (with the same seed, so the same UUIDs); another
 * identity (another profile, another ISO, other disks) is refused. Each
 * entry is written atomically, the file and its folder synced.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define JOURNAL_PATH "var/lib/hyperion/install.journal"
#define JOURNAL_MAGIC "hyperion install journal 2"

typedef struct Journal {
        char identity[65]; /* "" for a journal without one (an older hyperion's) */
        uint64_t seed;
        char **steps;
        char *path; /* where it is written, once on the new root */
} Journal;

void journal_init(Journal *j, const char *identity, uint64_t seed);
void journal_release(Journal *j);
/* The journal of text (0), or -EINVAL when it is not one. */
int journal_parse(const char *text, Journal *j);
char *journal_format(const Journal *j);

bool journal_done(const Journal *j, const char *step);
/* Record a finished step (written and synced, when the journal is on disk). */
int journal_add(Journal *j, const char *step);
/* The new root is mounted at root: the journal goes onto it (merged with
 * the one a previous run of the same plan left there). */
int journal_attach(Journal *j, const char *root);

/* HYPERION_STOP_AFTER=STEP ends the process right after STEP is journalled,
 * as a power cut would (for the resume tests). */
void journal_maybe_stop(const char *step);
