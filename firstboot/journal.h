/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * journal.h: the install journal, on the new root filesystem
 * (JOURNAL_PATH) from the moment that exists.
 *
 *   hyperion install journal 3
 *   identity 3f1c...   the plan's identity: the profile, the root image, the disks
 *   seed 9a0b...       the plan's UUIDs come from it
 *   previous disk ...  a reinstall: the installed layout it started from
 *   layout disk system gpt 1000204886016
 *   layout part system/storage 5 17985175552 982218162176 ext4 1b2c... preserve
 *   layout vg vg0 4194304 preserve
 *   layout lv vg0/hadoop-disk 10737418240
 *   table system       the id of each step done, in order
 *   ...
 *
 * The layout lines (the plan's, plan.h) are what a later reinstall reads
 * to recognise the install and keep what it preserves: a finished journal
 * is the stamp of an installed hyperion. A reinstall's journal carries the
 * layout it started from as "previous" lines, so that a rerun after a
 * power cut plans the same reinstall again, whatever it had done already.
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
#define JOURNAL_MAGIC "hyperion install journal 3"
#define JOURNAL_MAGIC_2 "hyperion install journal 2" /* read: no layout */

typedef struct Journal {
        char identity[65]; /* "" for a journal without one (an older hyperion's) */
        uint64_t seed;
        char **layout;   /* "disk system gpt 1000204886016", ... (without "layout ") */
        char **previous; /* a reinstall's: the layout it started from */
        char **steps;
        char *path; /* where it is written, once on the new root */
} Journal;

void journal_init(Journal *j, const char *identity, uint64_t seed);
/* The plan's layout lines and, for a reinstall, the installed ones (copied). */
void journal_set_layout(Journal *j, char *const *layout, char *const *previous);
/* Its last step is an install's last ("done", or "storage" on image files). */
bool journal_finished(const Journal *j);
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
