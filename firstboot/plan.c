/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "plan.h"
#include "xen.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "firmware.h"
#include "log.h"
#include "medium.h"
#include "sha256.h"
#include "size.h"
#include "strutil.h"
#include "xen.h"

static void add_error(char ***errors, const char *fmt, ...) _printf_(2, 3);
static void add_error(char ***errors, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        strv_consume(errors, xvasprintf(fmt, ap));
        va_end(ap);
}

/* ---- matching --------------------------------------------------------------- */

bool disk_matches(const Disk *want, const ProbedDisk *have) {
        if (want->match_size) {
                /* |size - label| <= label * tolerance; basis points, without overflow. */
                uint64_t tol = want->match_size / 10000 * want->match_size_tolerance +
                               want->match_size % 10000 * want->match_size_tolerance / 10000;
                uint64_t diff = have->size > want->match_size ? have->size - want->match_size : want->match_size - have->size;
                if (diff > tol)
                        return false;
        }
        if (!isempty(want->match_model) && fnmatch(want->match_model, have->model, 0) != 0)
                return false;
        if (!isempty(want->match_serial) && !streq(want->match_serial, have->serial))
                return false;
        if (!isempty(want->match_wwn) && !streq(want->match_wwn, have->wwn))
                return false;
        if (!isempty(want->match_by_id)) {
                const char *id = want->match_by_id;
                if (startswith(id, "/dev/disk/by-id/"))
                        id += strlen("/dev/disk/by-id/");
                if (!strv_contains(have->by_id, id))
                        return false;
        }
        return true;
}

/* "MatchSize=1TB (within 1%), MatchModel=WDC*" */
static char *match_text(const Disk *d) {
        _cleanup_strv_free_ char **l = xcalloc(1, sizeof(char *));
        char sz[SIZE_BUF];
        if (d->match_size) {
                unsigned t = d->match_size_tolerance;
                strv_consume(&l, t % 100 ? xasprintf("MatchSize=%s ±%u.%02u%%", format_size_decimal(sz, d->match_size), t / 100, t % 100)
                                         : xasprintf("MatchSize=%s ±%u%%", format_size_decimal(sz, d->match_size), t / 100));
        }
        if (!isempty(d->match_model))
                strv_consume(&l, xasprintf("MatchModel=%s", d->match_model));
        if (!isempty(d->match_serial))
                strv_consume(&l, xasprintf("MatchSerial=%s", d->match_serial));
        if (!isempty(d->match_wwn))
                strv_consume(&l, xasprintf("MatchWWN=%s", d->match_wwn));
        if (!isempty(d->match_by_id))
                strv_consume(&l, xasprintf("MatchById=%s", d->match_by_id));
        return strv_join(l, ", ");
}

static bool disk_pinned(const Disk *d) {
        return !isempty(d->match_serial) || !isempty(d->match_wwn) || !isempty(d->match_by_id);
}

uint64_t plan_usable_end(const ProbedDisk *dev, TableType table) {
        uint64_t ss = dev->sector_size ? dev->sector_size : 512;
        uint64_t sectors = dev->size / ss;
        uint64_t end;
        if (table == TABLE_GPT) {
                /* The backup GPT: 16 KiB of entries and a header at the end. */
                uint64_t reserved = 16384 / ss + 1;
                end = sectors > reserved ? (sectors - reserved) * ss : 0;
        } else
                end = sectors * ss;
        return end / PLAN_ALIGN * PLAN_ALIGN;
}

uint64_t lvm_pv_capacity(uint64_t pv_size, uint64_t extent) {
        if (pv_size <= LVM_PE_START || extent == 0)
                return 0;
        return (pv_size - LVM_PE_START) / extent * extent;
}

static int match_disks(Plan *plan, char ***errors) {
        const Profile *p = plan->profile;
        const Inventory *inv = plan->inventory;
        int bad = 0;
        for (size_t i = 0; i < p->n_disks; i++) {
                const Disk *want = p->disks[i];
                _cleanup_strv_free_ char **found = xcalloc(1, sizeof(char *));
                const ProbedDisk *match = NULL;
                for (size_t j = 0; j < inv->n_disks; j++) {
                        const ProbedDisk *have = &inv->disks[j];
                        if (have->boot_medium || !disk_matches(want, have))
                                continue;
                        match = have;
                        strv_push(&found, have->path);
                }
                _cleanup_free_ char *rule = match_text(want);
                size_t n = strv_length(found);
                if (n == 0) {
                        add_error(errors, "no disk matches [Disk %s] (%s)", want->head.name, rule);
                        bad++;
                } else if (n > 1) {
                        _cleanup_free_ char *list = strv_join(found, ", ");
                        add_error(errors, "%zu disks match [Disk %s] (%s): %s; pin it with MatchSerial=, MatchWWN= or MatchById=",
                                  n, want->head.name, rule, list);
                        bad++;
                } else
                        plan->disks[i].dev = match;
                plan->disks[i].disk = want;
        }
        /* One machine disk for one profile disk. */
        for (size_t i = 0; i < p->n_disks; i++)
                for (size_t k = 0; k < i; k++)
                        if (plan->disks[i].dev && plan->disks[i].dev == plan->disks[k].dev) {
                                add_error(errors, "%s matches both [Disk %s] and [Disk %s]; make their Match keys tell them apart",
                                          plan->disks[i].dev->path, plan->disks[k].disk->head.name, plan->disks[i].disk->head.name);
                                bad++;
                        }
        if (bad) {
                _cleanup_strv_free_ char **lines = xcalloc(1, sizeof(char *));
                for (size_t j = 0; j < inv->n_disks; j++)
                        strv_consume(&lines, disk_describe(&inv->disks[j]));
                _cleanup_free_ char *all = strv_join(lines, "\n  ");
                add_error(errors, "the disks of this machine are:%s%s", inv->n_disks ? "\n  " : " none", all);
                return -EINVAL;
        }
        return 0;
}

/* ---- layout, in checked arithmetic ----------------------------------------- */

static void layout_disk(Plan *plan, PlanDisk *pd, char ***errors) {
        const Profile *p = plan->profile;
        const Disk *d = pd->disk;
        if (d->use != DISK_FORMAT || !pd->dev)
                return;
        for (size_t i = 0; i < p->n_partitions; i++)
                if (streq(p->partitions[i]->head.parent, d->head.name)) {
                        pd->parts = xrealloc(pd->parts, (pd->n_parts + 1) * sizeof(PlanPartition));
                        pd->parts[pd->n_parts] = (PlanPartition) { .part = p->partitions[i], .number = (unsigned) pd->n_parts + 1 };
                        pd->n_parts++;
                }

        uint64_t start = PLAN_ALIGN, end = plan_usable_end(pd->dev, d->table);
        uint64_t fixed = 0;
        PlanPartition *rest = NULL;
        for (size_t i = 0; i < pd->n_parts; i++) {
                const Partition *x = pd->parts[i].part;
                if (x->size.rest)
                        rest = &pd->parts[i];
                else if (__builtin_add_overflow(fixed, x->size.bytes, &fixed)) {
                        _cleanup_free_ char *where = profile_at(&x->head, "Partition", "Size");
                        add_error(errors, "%sthe partitions of disk '%s' add up to more than 16E with '%s' (no disk is that large)",
                                  where, d->head.name, x->head.name);
                        return;
                }
        }
        uint64_t room = end > start ? end - start : 0;
        char need[SIZE_BUF], has[SIZE_BUF];
        if (fixed > room || (rest && room - fixed < PLAN_ALIGN)) {
                add_error(errors, "disk '%s' (%s) is too small: its partitions need %s%s, it has %s", d->head.name, pd->dev->path,
                          rest ? "more than " : "", format_size_human(need, fixed), format_size_human(has, room));
                return;
        }
        if (rest)
                rest->size = room - fixed;
        for (size_t i = 0; i < pd->n_parts; i++) {
                PlanPartition *x = &pd->parts[i];
                if (!x->part->size.rest)
                        x->size = x->part->size.bytes;
                x->start = start;
                start += x->size; /* within room: no overflow */
        }
}

bool plan_disk_matches(const PlanDisk *pd) {
        const ProbedDisk *d = pd->dev;
        const char *want = pd->disk->table == TABLE_GPT ? "gpt" : "dos";
        if (!d || !streq(d->table, want) || d->n_parts != pd->n_parts)
                return false;
        for (size_t i = 0; i < pd->n_parts; i++)
                if (d->parts[i].number != pd->parts[i].number || d->parts[i].start != pd->parts[i].start ||
                    d->parts[i].size != pd->parts[i].size)
                        return false;
        return true;
}

/* Exactly the planned table, and not one signature in its partitions: an
 * install cut right after partitioning; there is nothing on it to lose. */
static bool blank_planned_table(const PlanDisk *pd) {
        if (!plan_disk_matches(pd))
                return false;
        for (size_t i = 0; i < pd->dev->n_parts; i++)
                if (pd->dev->parts[i].fstype)
                        return false;
        return true;
}

static void check_reinstall_wipe(PlanDisk *pd, const PlanOptions *o, char ***errors);

static const ProbedPart *probed_part(const ProbedDisk *d, unsigned number) {
        for (size_t i = 0; d && i < d->n_parts; i++)
                if (d->parts[i].number == number)
                        return &d->parts[i];
        return NULL;
}

/* A "part" line of a layout (journal.h): DISK/NAME NUMBER START SIZE FS UUID preserve|new. */
static char *layout_part_line(const PlanDisk *pd, const PlanPartition *x, uint64_t start, uint64_t size, const char *fs, const char *uuid) {
        return xasprintf("part %s/%s %u %llu %llu %s %s %s", pd->disk->head.name, x->part->head.name, x->number,
                         (unsigned long long) start, (unsigned long long) size, isempty(fs) ? "-" : fs, isempty(uuid) ? "-" : uuid,
                         x->part->preserve ? "preserve" : "new");
}

/* Does partition y sit where the profile puts partition x, and hold what
 * x would (its filesystem, or an LVM physical volume)? The profile's own
 * layout, made before: only overlapping is not enough (an old system's
 * root where the storage will go is not the storage). */
static bool at_planned_place(const PlanPartition *x, const ProbedPart *y) {
        const Partition *pp = x->part;
        if (!y || !y->fstype || y->start != x->start || y->size != x->size)
                return false;
        return !isempty(pp->volume_group) ? streq(y->fstype, "LVM2_member")
                                          : pp->format > FS_NONE && streq(y->fstype, fs_type_to_string(pp->format));
}

/* The partitions of the disk that hold what the profile preserves: where a
 * preserved partition is planned, with its size and kind; or with its
 * filesystem's label; or a physical volume of its preserved group. NULL
 * when none. */
static char **preserved_found(const PlanDisk *pd) {
        char **found = NULL;
        for (size_t i = 0; i < pd->dev->n_parts; i++) {
                const ProbedPart *y = &pd->dev->parts[i];
                if (!y->fstype)
                        continue;
                for (size_t k = 0; k < pd->n_parts; k++) {
                        const PlanPartition *x = &pd->parts[k];
                        const Partition *pp = x->part;
                        if (!pp->preserve)
                                continue;
                        bool group = !isempty(pp->volume_group);
                        bool labelled = !group && !isempty(y->label) && !isempty(pp->label) && streq(y->label, pp->label);
                        bool member = group && y->vg && streq(y->vg, pp->volume_group);
                        if (!at_planned_place(x, y) && !labelled && !member)
                                continue;
                        char a[SIZE_BUF], b[SIZE_BUF];
                        _cleanup_free_ char *what =
                                y->vg ? (y->lvm.n_lvs ? xasprintf("a physical volume of volume group '%s' (%zu volumes)", y->vg, y->lvm.n_lvs)
                                                      : xasprintf("a physical volume of volume group '%s'", y->vg))
                                      : xasprintf("%s%s%s%s%s%s", y->fstype, isempty(y->label) ? "" : " '",
                                                  strempty(y->label), isempty(y->label) ? "" : "'",
                                                  y->fs_used ? ", used " : "", y->fs_used ? format_size_human(b, y->fs_used) : "");
                        strv_consume(&found, xasprintf("partition %u of %s, %s: %s (the profile's %s/%s, Preserve=yes)", y->number,
                                                       pd->dev->path, format_size_human(a, y->size), what, pd->disk->head.name,
                                                       pp->head.name));
                        break;
                }
        }
        return found;
}

/* Does partition y hold what the profile's preserved partition x would, as
 * a reinstall keeps it: a filesystem with its UUID, a PV of its group? */
static bool holds_preserved(const PlanPartition *x, const ProbedPart *y) {
        if (!at_planned_place(x, y))
                return false;
        return !isempty(x->part->volume_group) ? y->vg && streq(y->vg, x->part->volume_group) : !isempty(y->uuid);
}

char **plan_found_layout(const Plan *layout) {
        char **out = xcalloc(1, sizeof(char *));
        _cleanup_strv_free_ char **groups = xcalloc(1, sizeof(char *));
        for (size_t i = 0; i < layout->n_disks; i++) {
                const PlanDisk *pd = &layout->disks[i];
                if (pd->disk->use != DISK_FORMAT || !pd->dev || !plan_disk_matches(pd))
                        continue;
                bool preserves = false, intact = true;
                for (size_t j = 0; j < pd->n_parts; j++)
                        if (pd->parts[j].part->preserve) {
                                preserves = true;
                                intact &= holds_preserved(&pd->parts[j], probed_part(pd->dev, pd->parts[j].number));
                        }
                if (!preserves || !intact)
                        continue;
                strv_consume(&out, xasprintf("disk %s %s %llu", pd->disk->head.name, table_type_to_string(pd->disk->table),
                                             (unsigned long long) pd->dev->size));
                for (size_t j = 0; j < pd->n_parts; j++) {
                        const PlanPartition *x = &pd->parts[j];
                        const ProbedPart *y = probed_part(pd->dev, x->number);
                        strv_consume(&out, layout_part_line(pd, x, y->start, y->size, y->fstype, y->uuid));
                        if (x->part->preserve && y->vg && y->lvm.vg && !strv_contains(groups, y->vg)) {
                                strv_push(&groups, y->vg);
                                strv_consume(&out, xasprintf("vg %s %llu preserve", y->vg, (unsigned long long) y->lvm.extent_size));
                        }
                }
        }
        if (!out[0]) {
                free(out);
                return NULL;
        }
        return out;
}

static void check_wipe(PlanDisk *pd, const PlanOptions *o, char ***errors) {
        if (pd->disk->use != DISK_FORMAT || !pd->dev || !disk_has_data(pd->dev))
                return;
        if (pd->reinstall) {
                check_reinstall_wipe(pd, o, errors);
                return;
        }
        _cleanup_free_ char *what = disk_contents(pd->dev);
        _cleanup_strv_free_ char **kept = NULL;
        if ((strv_contains(o->resumable, pd->disk->head.name) && plan_disk_matches(pd)) || blank_planned_table(pd))
                pd->resume = true;
        else if (!o->layout_only && !o->start_over && (kept = preserved_found(pd))) {
                /* Not an installed hyperion this profile reinstalls (no
                 * finished journal: a reinstall cut before its own, another
                 * profile's disks, a hand-made system), yet it holds what
                 * the profile promises to keep: a first install would
                 * format it. --wipe is not enough; only --start-over is. */
                _cleanup_free_ char *list = strv_join(kept, "\n  ");
                add_error(errors,
                          "disk '%s' (%s) holds what the profile preserves, and this is not a reinstall (no finished install "
                          "journal on the disk: a reinstall cut before it wrote its own, or another system's disk); a first "
                          "install would format it, and lose:\n  %s\nnothing was written. --wipe never formats what is "
                          "preserved: only --start-over does, and loses it",
                          pd->disk->head.name, pd->dev->path, list);
        } else if (o->unattended && !disk_pinned(pd->disk))
                add_error(errors,
                          "disk '%s' is %s, which holds data (%s); an unattended install wipes a disk only when the profile pins it "
                          "with MatchSerial=, MatchWWN= or MatchById=",
                          pd->disk->head.name, pd->dev->path, what);
        else if (!o->unattended && !o->wipe)
                add_error(errors, "disk '%s' is %s, which holds data (%s); add --wipe to format it anyway", pd->disk->head.name,
                          pd->dev->path, what);
        else
                pd->wipe = true;
}

static void check_keep_mount(PlanDisk *pd, char ***errors) {
        const Disk *d = pd->disk;
        if (d->use != DISK_KEEP || isempty(d->mount) || !pd->dev)
                return;
        for (size_t i = 0; i < pd->dev->n_parts; i++) {
                const ProbedPart *x = &pd->dev->parts[i];
                if (x->number == d->mount_partition) {
                        if (!x->fstype || !x->uuid)
                                add_error(errors, "disk '%s' (%s): partition %u holds no filesystem to mount at %s", d->head.name,
                                          pd->dev->path, x->number, d->mount);
                        return;
                }
        }
        add_error(errors, "disk '%s' (%s) has no partition %u to mount at %s (MountPartition=)", d->head.name, pd->dev->path,
                  d->mount_partition, d->mount);
}

/* A disk to format that something uses now: nothing may be written to it
 * (writing under a mounted filesystem or an active volume group corrupts
 * both, and the kernel would keep the old partitions). */
static bool reused_volume_active(const Plan *plan, const char *use) {
        for (size_t g = 0; g < plan->n_groups; g++) {
                if (!plan->groups[g].reuse)
                        continue;
                /* device-mapper's name of VG/LV: dashes doubled, then VG-LV. */
                _cleanup_free_ char *dm = xstrdup("(");
                for (const char *c = plan->groups[g].vg->head.name; *c; c++) {
                        char *n = xasprintf("%s%s", dm, *c == '-' ? "--" : (char[]) { *c, 0 });
                        free(dm);
                        dm = n;
                }
                _cleanup_free_ char *prefix = xasprintf("%s-", dm);
                if (strstr(use, prefix) && endswith(use, ") is active on it"))
                        return true;
        }
        return false;
}

static void check_in_use(const Plan *plan, PlanDisk *pd, char ***errors) {
        if (pd->disk->use != DISK_FORMAT || !pd->dev || !pd->dev->in_use || !pd->dev->in_use[0])
                return;
        /* A reinstall reuses the group: its volumes may be active (the live
         * system's udev activates what it finds); nothing else may be. */
        _cleanup_strv_free_ char **busy = xcalloc(1, sizeof(char *));
        for (char **u = pd->dev->in_use; *u; u++)
                if (!pd->reinstall || !reused_volume_active(plan, *u))
                        strv_push(&busy, *u);
        if (!busy[0])
                return;
        _cleanup_free_ char *what = strv_join(busy, "; ");
        add_error(errors,
                  "disk '%s' (%s) is in use: %s; unmount it, turn its swap off, deactivate its volume groups (umount, swapoff, "
                  "vgchange -an) and run again",
                  pd->disk->head.name, pd->dev->path, what);
}

/* ---- reinstall ------------------------------------------------------------------ */

/* The words of the layout line "KIND NAME ...", or NULL. */
static char **layout_find(char *const *layout, const char *kind, const char *name) {
        for (char *const *l = layout; l && *l; l++) {
                char **w = strv_split_ws(*l);
                if (strv_length(w) >= 2 && streq(w[0], kind) && streq(w[1], name))
                        return w;
                strv_free(w);
        }
        return NULL;
}

static uint64_t word_u64(char **w, size_t i) {
        return i < strv_length(w) ? strtoull(w[i], NULL, 10) : 0;
}

static const char *word(char **w, size_t i) {
        return i < strv_length(w) ? w[i] : "";
}

/* What a first install makes anew on every run anyway: reformatting it on a
 * reinstall loses nothing the profile keeps. */
static bool system_partition(const Partition *p) {
        return p->type == PART_ESP || p->type == PART_SWAP || p->type == PART_BIOS_GRUB || streq(strempty(p->mount), "/") ||
               streq(strempty(p->mount), "/boot") || streq(strempty(p->mount), "/boot/efi");
}

/* The installed layout of disk pd and the profile's, side by side. */
static char *side_by_side(const PlanDisk *pd, char *const *previous) {
        char a[SIZE_BUF], b[SIZE_BUF], c[SIZE_BUF], d[SIZE_BUF];
        _cleanup_strv_free_ char **lines = xcalloc(1, sizeof(char *));
        strv_consume(&lines, xasprintf("    %-12s %-32s | %s", "", "installed (start, size, format)", "profile (start, size)"));
        for (size_t i = 0; i < pd->n_parts; i++) {
                const PlanPartition *x = &pd->parts[i];
                _cleanup_free_ char *id = xasprintf("%s/%s", pd->disk->head.name, x->part->head.name);
                _cleanup_strv_free_ char **w = layout_find(previous, "part", id);
                _cleanup_free_ char *old = w ? xasprintf("%u: %s %s %s", (unsigned) word_u64(w, 2), format_size_human(a, word_u64(w, 3)),
                                                         format_size_human(b, word_u64(w, 4)), word(w, 5))
                                             : xstrdup("(none)");
                strv_consume(&lines, xasprintf("    %-12s %-32s | %u: %s %s%s", x->part->head.name, old, x->number,
                                               format_size_human(c, x->start), format_size_human(d, x->size),
                                               x->part->preserve ? "  preserved" : ""));
                /* Sizes that round alike but differ: the bytes too. */
                if (x->part->preserve && w && (word_u64(w, 3) != x->start || word_u64(w, 4) != x->size)) {
                        _cleanup_free_ char *bytes = xasprintf("%llu %llu (bytes)", (unsigned long long) word_u64(w, 3),
                                                               (unsigned long long) word_u64(w, 4));
                        strv_consume(&lines, xasprintf("    %-12s %-32s | %llu %llu (bytes)", "", bytes,
                                                       (unsigned long long) x->start, (unsigned long long) x->size));
                }
        }
        /* Partitions of the installed layout the profile no longer has. */
        _cleanup_free_ char *prefix = xasprintf("%s/", pd->disk->head.name);
        for (char *const *l = previous; l && *l; l++) {
                _cleanup_strv_free_ char **w = strv_split_ws(*l);
                if (strv_length(w) < 6 || !streq(w[0], "part") || !startswith(w[1], prefix))
                        continue;
                bool named = false;
                for (size_t i = 0; i < pd->n_parts; i++)
                        named |= streq(w[1] + strlen(prefix), pd->parts[i].part->head.name);
                if (!named)
                        strv_consume(&lines, xasprintf("    %-12s %u: %s %s %-8s | (not in the profile)", w[1] + strlen(prefix),
                                                       (unsigned) word_u64(w, 2), format_size_human(a, word_u64(w, 3)),
                                                       format_size_human(b, word_u64(w, 4)), w[5]));
        }
        return strv_join(lines, "\n");
}

/* Over an installed hyperion: each disk of its layout is reinstalled, its
 * preserved partitions found as they were. */
static void reinstall_disks(Plan *plan, const PlanOptions *o, char ***errors) {
        if (!o->previous)
                return;
        plan->reinstall = true;
        plan->derived = o->previous_derived;
        for (size_t i = 0; i < plan->n_disks; i++) {
                PlanDisk *pd = &plan->disks[i];
                if (pd->disk->use != DISK_FORMAT || !pd->dev || !pd->n_parts)
                        continue;
                _cleanup_strv_free_ char **dw = layout_find(o->previous, "disk", pd->disk->head.name);
                if (!dw)
                        continue; /* not the installed system's: a first install there */
                _cleanup_strv_free_ char **why = xcalloc(1, sizeof(char *));
                bool keeps = false;
                for (size_t j = 0; j < pd->n_parts; j++) {
                        PlanPartition *x = &pd->parts[j];
                        if (!x->part->preserve)
                                continue;
                        keeps = true;
                        _cleanup_free_ char *id = xasprintf("%s/%s", pd->disk->head.name, x->part->head.name);
                        _cleanup_strv_free_ char **w = layout_find(o->previous, "part", id);
                        const ProbedPart *have = probed_part(pd->dev, x->number);
                        const char *want_vg = x->part->type == PART_LVM ? x->part->volume_group : NULL;
                        if (!w) {
                                strv_consume(&why, xasprintf("'%s' is preserved, and the installed system has no such partition", id));
                                continue;
                        }
                        if (word_u64(w, 2) != x->number || word_u64(w, 3) != x->start || word_u64(w, 4) != x->size) {
                                const char *size = word_u64(w, 4) > x->size   ? "shrinks"
                                                   : word_u64(w, 4) < x->size ? "grows"
                                                                              : NULL;
                                bool moved = word_u64(w, 3) != x->start || word_u64(w, 2) != x->number;
                                strv_consume(&why, xasprintf("'%s' is preserved, and the profile %s%s%s it", id, moved ? "moves" : "",
                                                             moved && size ? " and " : "", strempty(size)));
                                continue;
                        }
                        if (!have || have->start != x->start || have->size != x->size) {
                                strv_consume(&why, xasprintf("'%s' is preserved, and partition %u of %s is not where the installed "
                                                             "system made it",
                                                             id, x->number, pd->dev->path));
                                continue;
                        }
                        if (want_vg ? !streq(strempty(have->vg), want_vg)
                                    : !streq(strempty(have->uuid), word(w, 6)) || !streq(strempty(have->fstype), word(w, 5))) {
                                strv_consume(&why, want_vg ? xasprintf("'%s' is preserved, and partition %u of %s is no longer a physical "
                                                                       "volume of '%s' (it holds %s)",
                                                                       id, x->number, pd->dev->path, want_vg,
                                                                       have->vg ? have->vg : strempty(have->fstype))
                                                           : xasprintf("'%s' is preserved, and partition %u of %s holds another "
                                                                       "filesystem than the one installed (%s %s, installed %s %s)",
                                                                       id, x->number, pd->dev->path, strempty(have->fstype),
                                                                       strempty(have->uuid), word(w, 5), word(w, 6)));
                                continue;
                        }
                        x->keep = true;
                        x->used = have->fs_used;
                        if (!want_vg)
                                snprintf(x->uuid, sizeof x->uuid, "%s", have->uuid);
                }
                /* Its table is kept when it holds what is preserved, or is the profile's already. */
                pd->reinstall = keeps || plan_disk_matches(pd);
                if (keeps && !why[0] && !plan_disk_matches(pd))
                        strv_consume(&why, xasprintf("the profile changes the partition table of disk '%s' around what it preserves "
                                                     "(a reinstall keeps the table as it is)",
                                                     pd->disk->head.name));
                if (why[0]) {
                        _cleanup_free_ char *list = strv_join(why, "; "), *table = side_by_side(pd, o->previous);
                        add_error(errors,
                                  "disk '%s' (%s) holds an installed hyperion, and this profile cannot reinstall it: %s; the installed "
                                  "layout and the profile's:\n%s\nnothing was written: give the preserved partitions their installed "
                                  "place and size back, or give --start-over to install from scratch (that formats them)",
                                  pd->disk->head.name, pd->dev->path, list, table);
                }
        }
}

/* Reinstalled disks need no --wipe for what a first install makes anew
 * anyway; a filesystem there that the profile neither preserves nor makes
 * for the system itself (a data partition without Preserve=) still does. */
static void check_reinstall_wipe(PlanDisk *pd, const PlanOptions *o, char ***errors) {
        _cleanup_strv_free_ char **lost = xcalloc(1, sizeof(char *));
        for (size_t j = 0; j < pd->n_parts; j++) {
                const PlanPartition *x = &pd->parts[j];
                const ProbedPart *have = probed_part(pd->dev, x->number);
                /* A preserved one is never formatted (or the plan was refused). */
                if (x->keep || x->part->preserve || (system_partition(x->part) && !o->previous_derived) || !have || !have->fstype)
                        continue;
                strv_consume(&lost, xasprintf("'%s' (%s%s%s)", x->part->head.name, have->fstype, isempty(x->part->mount) ? "" : " at ",
                                              strempty(x->part->mount)));
        }
        if (!lost[0])
                return;
        _cleanup_free_ char *list = strv_join(lost, ", ");
        if (o->previous_derived && ((o->unattended && !disk_pinned(pd->disk)) || (!o->unattended && !o->wipe)))
                add_error(errors,
                          "disk '%s' (%s) holds this profile's partition table and what it preserves, but no install journal (a "
                          "reinstall cut while it formatted the root): nothing proves it is the hyperion this profile installed. "
                          "The reinstall keeps what is preserved and formats %s; %s",
                          pd->disk->head.name, pd->dev->path, list,
                          o->unattended ? "an unattended install does so only when the profile pins the disk (MatchSerial=, "
                                          "MatchWWN=, MatchById=)"
                                        : "add --wipe to let it (--wipe never formats what is preserved)");
        else if (o->previous_derived)
                pd->wipe = true;
        else if (o->unattended && !disk_pinned(pd->disk))
                add_error(errors,
                          "disk '%s' (%s): the reinstall formats %s, which the profile does not preserve; an unattended install "
                          "formats it only when the profile pins the disk (MatchSerial=, MatchWWN=, MatchById=) or preserves it "
                          "(Preserve=yes)",
                          pd->disk->head.name, pd->dev->path, list);
        else if (!o->unattended && !o->wipe)
                add_error(errors,
                          "disk '%s' (%s): the reinstall formats %s, which the profile does not preserve; add --wipe to format it "
                          "anyway, or Preserve=yes to keep it",
                          pd->disk->head.name, pd->dev->path, list);
        else
                pd->wipe = true;
}

/* Reinstalled groups: reused when the profile preserves them, their
 * volumes kept, extended or made; the ones it no longer names left alone. */
static void reinstall_groups(Plan *plan, char *const *previous, char ***errors) {
        if (!plan->reinstall)
                return;
        char a[SIZE_BUF], b[SIZE_BUF], c[SIZE_BUF];
        for (size_t g = 0; g < plan->n_groups; g++) {
                PlanGroup *pg = &plan->groups[g];
                const char *name = pg->vg->head.name;
                _cleanup_strv_free_ char **vw = layout_find(previous, "vg", name);
                bool pvs = false, all_kept = true;
                for (size_t i = 0; i < plan->n_disks; i++)
                        for (size_t j = 0; j < plan->disks[i].n_parts; j++) {
                                const PlanPartition *x = &plan->disks[i].parts[j];
                                if (x->part->type == PART_LVM && streq(x->part->volume_group, name)) {
                                        pvs = true;
                                        all_kept &= x->keep;
                                }
                        }
                if (!pg->vg->preserve || !vw || !pvs || !all_kept)
                        continue;
                pg->reuse = true;
                if (word_u64(vw, 2) != pg->vg->extent_size) {
                        _cleanup_free_ char *where = profile_at(&pg->vg->head, "VolumeGroup", "ExtentSize");
                        add_error(errors, "%svolume group '%s' is preserved with extents of %s, and the profile gives %s: a group's "
                                          "extent size cannot change",
                                  where, name, format_size(a, word_u64(vw, 2)), format_size(b, pg->vg->extent_size));
                        continue;
                }
                _cleanup_free_ char *prefix = xasprintf("%s/", name);
                for (size_t i = 0; i < plan->n_volumes; i++) {
                        PlanVolume *v = &plan->volumes[i];
                        if (!streq(v->group, name))
                                continue;
                        _cleanup_free_ char *id = xasprintf("%s/%s", name, v->name);
                        _cleanup_strv_free_ char **lw = layout_find(previous, "lv", id);
                        if (!lw)
                                continue;
                        v->old_size = word_u64(lw, 2);
                        if (v->size == v->old_size)
                                v->state = VOLUME_KEEP;
                        else if (v->size > v->old_size)
                                v->state = VOLUME_GROW;
                        else {
                                _cleanup_free_ char *where = v->volume ? profile_at(&v->volume->head, "Volume", "Size")
                                                                       : profile_at(&v->domain->head, "Domain", v->format == FS_SWAP ? "Swap" : "Disk");
                                add_error(errors, "%svolume %s is %s, and the profile makes it %s: a preserved volume is never "
                                                  "shrunk (its filesystem would be cut)",
                                          where, id, format_size_human(a, v->old_size), format_size_human(b, v->size));
                        }
                }
                uint64_t orphaned = 0;
                pg->orphans = xcalloc(1, sizeof(char *));
                for (char *const *l = previous; l && *l; l++) {
                        _cleanup_strv_free_ char **w = strv_split_ws(*l);
                        if (strv_length(w) < 3 || !streq(w[0], "lv") || !startswith(w[1], prefix))
                                continue;
                        bool named = false;
                        for (size_t i = 0; i < plan->n_volumes; i++)
                                named |= streq(plan->volumes[i].group, name) && streq(plan->volumes[i].name, w[1] + strlen(prefix));
                        if (named)
                                continue;
                        strv_consume(&pg->orphans, xasprintf("%s %s", w[1] + strlen(prefix), format_size_human(a, word_u64(w, 2))));
                        orphaned += word_u64(w, 2); /* real groups: no overflow */
                }
                if (orphaned && pg->used + orphaned > pg->capacity)
                        add_error(errors, "volume group '%s' is too small: its volumes need %s, and the volumes the profile no "
                                          "longer names, left alone, hold %s more; it holds %s",
                                  name, format_size_human(a, pg->used), format_size_human(b, orphaned),
                                  format_size_human(c, pg->capacity));
                pg->used += orphaned;
        }
}

/* The installed layout a reinstall starts from: the finished journal's,
 * with the volumes of each preserved group read again from its physical
 * volume (a volume made after the install is there too). */
static char **reinstall_previous(const Plan *plan, const PlanOptions *o) {
        if (!o->previous)
                return NULL;
        if (!o->previous_found)
                return strv_copy(o->previous);
        char **out = xcalloc(1, sizeof(char *));
        _cleanup_strv_free_ char **read = xcalloc(1, sizeof(char *));
        for (size_t i = 0; i < plan->n_disks; i++) {
                const PlanDisk *pd = &plan->disks[i];
                for (size_t j = 0; j < pd->n_parts; j++) {
                        const PlanPartition *x = &pd->parts[j];
                        const ProbedPart *have = x->keep && x->part->type == PART_LVM ? probed_part(pd->dev, x->number) : NULL;
                        if (!have || !have->lvm.vg || strv_contains(read, have->lvm.vg))
                                continue;
                        strv_push(&read, have->lvm.vg);
                        for (size_t k = 0; k < have->lvm.n_lvs; k++)
                                strv_consume(&out, xasprintf("lv %s/%s %llu", have->lvm.vg, have->lvm.lvs[k].name,
                                                             (unsigned long long) have->lvm.lvs[k].size));
                }
        }
        for (char *const *l = o->previous; *l; l++) {
                _cleanup_strv_free_ char **w = strv_split_ws(*l);
                bool reread = false;
                for (char **g = read; strv_length(w) >= 2 && streq(w[0], "lv") && *g; g++) {
                        _cleanup_free_ char *prefix = xasprintf("%s/", *g);
                        reread |= startswith(w[1], prefix);
                }
                if (!reread)
                        strv_push(&out, *l);
        }
        return out;
}

static bool plan_formats(const Plan *plan, const ProbedDisk *d) {
        for (size_t i = 0; i < plan->n_disks; i++)
                if (plan->disks[i].dev == d && plan->disks[i].disk->use == DISK_FORMAT)
                        return true;
        return false;
}

/* A volume group of the profile's name on a disk we do not format: there
 * would be two of that name, and vgcreate would fail after the tables are
 * written. */
static void check_existing_groups(Plan *plan, char ***errors) {
        const Profile *p = plan->profile;
        const Inventory *inv = plan->inventory;
        for (size_t j = 0; j < inv->n_disks; j++) {
                const ProbedDisk *d = &inv->disks[j];
                if (plan_formats(plan, d))
                        continue;
                for (size_t g = 0; g < p->n_volume_groups; g++) {
                        const char *name = p->volume_groups[g]->head.name;
                        _cleanup_free_ char *where = NULL;
                        if (d->vg && streq(d->vg, name))
                                where = xstrdup(d->path);
                        for (size_t k = 0; !where && k < d->n_parts; k++)
                                if (d->parts[k].vg && streq(d->parts[k].vg, name))
                                        where = xasprintf("partition %u of %s", d->parts[k].number, d->path);
                        if (where)
                                add_error(errors,
                                          "%s already holds a volume group named '%s' (an LVM physical volume on %s), and the "
                                          "profile makes one of that name: rename it (vgrename) or take that disk out, then run again",
                                          d->path, name, where);
                }
        }
}

static void add_volume(Plan *plan, const char *group, char *name, uint64_t size, FsType fs, const char *mount, const Volume *v,
                       const Domain *dom) {
        plan->volumes = xrealloc(plan->volumes, (plan->n_volumes + 1) * sizeof(PlanVolume));
        plan->volumes[plan->n_volumes++] = (PlanVolume) {
                .group = group, .name = name, .size = size, .format = fs, .mount = mount, .volume = v, .domain = dom,
        };
}

static void plan_groups(Plan *plan, char ***errors) {
        const Profile *p = plan->profile;
        plan->n_groups = p->n_volume_groups;
        plan->groups = xcalloc(p->n_volume_groups, sizeof(PlanGroup));
        for (size_t g = 0; g < p->n_volume_groups; g++) {
                PlanGroup *pg = &plan->groups[g];
                pg->vg = p->volume_groups[g];
                for (size_t i = 0; i < plan->n_disks; i++)
                        for (size_t j = 0; j < plan->disks[i].n_parts; j++) {
                                const PlanPartition *x = &plan->disks[i].parts[j];
                                if (x->part->type == PART_LVM && streq(x->part->volume_group, pg->vg->head.name))
                                        pg->capacity += lvm_pv_capacity(x->size, pg->vg->extent_size); /* real disks: no overflow */
                        }
        }
        for (size_t i = 0; i < p->n_volumes; i++) {
                const Volume *v = p->volumes[i];
                add_volume(plan, v->head.parent, xstrdup(v->head.name), v->size, v->format, v->mount, v, NULL);
        }
        for (size_t i = 0; i < p->n_domains; i++) {
                const Domain *dom = p->domains[i];
                add_volume(plan, dom->volume_group, xasprintf("%s-disk", dom->head.name), dom->disk, dom->filesystem, "", NULL, dom);
                if (dom->swap)
                        add_volume(plan, dom->volume_group, xasprintf("%s-swap", dom->head.name), dom->swap, FS_SWAP, "", NULL, dom);
        }
        for (size_t g = 0; g < plan->n_groups; g++) {
                PlanGroup *pg = &plan->groups[g];
                uint64_t e = pg->vg->extent_size;
                bool overflow = false;
                for (size_t i = 0; i < plan->n_volumes && !overflow; i++) {
                        PlanVolume *v = &plan->volumes[i];
                        if (!streq(v->group, pg->vg->head.name))
                                continue;
                        /* Whole extents; each size and the sum checked. */
                        uint64_t up;
                        if (__builtin_add_overflow(v->size, e - 1, &up) || __builtin_add_overflow(pg->used, up / e * e, &pg->used)) {
                                _cleanup_free_ char *where = v->volume ? profile_at(&v->volume->head, "Volume", "Size")
                                                                       : profile_at(&v->domain->head, "Domain",
                                                                            v->format == FS_SWAP ? "Swap" : "Disk");
                                add_error(errors, "%sthe volumes of volume group '%s' add up to more than 16E with '%s' (no disk is that large)",
                                          where, pg->vg->head.name, v->name);
                                overflow = true;
                                break;
                        }
                        v->size = up / e * e;
                }
                if (!overflow && pg->used > pg->capacity) {
                        char a[SIZE_BUF], b[SIZE_BUF];
                        add_error(errors, "volume group '%s' is too small: its volumes need %s, it holds %s", pg->vg->head.name,
                                  format_size_human(a, pg->used), format_size_human(b, pg->capacity));
                }
        }
}

static void check_memory(Plan *plan, char ***errors) {
        const Profile *p = plan->profile;
        uint64_t guests = 0;
        for (size_t i = 0; i < p->n_domains; i++)
                if (__builtin_add_overflow(guests, p->domains[i]->memory, &guests)) {
                        _cleanup_free_ char *where = profile_at(&p->domains[i]->head, "Domain", "Memory");
                        add_error(errors, "%sthe guests' memory adds up to more than 16E with '%s' (no machine has that much)", where,
                                  p->domains[i]->head.name);
                        return;
                }
        if (__builtin_add_overflow(p->xen.dom0_memory, guests, &plan->memory_needed)) {
                _cleanup_free_ char *where = profile_at(&p->xen.head, "Xen", "Dom0Memory");
                add_error(errors, "%sdom0's and the guests' memory add up to more than 16E", where);
                return;
        }
        uint64_t have = plan->inventory->memory;
        if (have && plan->memory_needed > have) {
                char a[SIZE_BUF], b[SIZE_BUF], c[SIZE_BUF], d[SIZE_BUF];
                add_error(errors, "the guests (%s) and dom0 (%s) need %s of memory; this machine has %s", format_size_human(a, guests),
                          format_size_human(b, p->xen.dom0_memory), format_size_human(c, plan->memory_needed),
                          format_size_human(d, have));
        }
}

char *plan_nic_list(const Inventory *inv) {
        _cleanup_strv_free_ char **names = xcalloc(1, sizeof(char *));
        for (size_t i = 0; i < inv->n_nics; i++)
                strv_consume(&names, xasprintf("%s %s", inv->nics[i].name, strempty(inv->nics[i].mac)));
        return inv->n_nics ? strv_join(names, ", ") : xstrdup("none");
}

void plan_choose_nics(const Profile *p, const Inventory *inv, const ProbedNic **nic, const ProbedNic **nics, bool quiet, char ***errors) {
        const Network *n = &p->network;
        const ProbedNic *taken[1 + p->n_bridges];
        size_t n_taken = 0;
        /* The named ones first, so that "auto" takes what is left. */
        *nic = streq(n->interface, "auto") ? NULL : nic_choose(inv, n->interface, NULL, 0);
        if (*nic)
                taken[n_taken++] = *nic;
        for (size_t i = 0; i < p->n_bridges; i++) {
                nics[i] = streq(p->bridges[i]->interface, "auto") ? NULL : nic_choose(inv, p->bridges[i]->interface, NULL, 0);
                if (nics[i])
                        taken[n_taken++] = nics[i];
        }
        if (streq(n->interface, "auto") && (*nic = nic_choose(inv, "auto", taken, n_taken)))
                taken[n_taken++] = *nic;
        for (size_t i = 0; i < p->n_bridges; i++)
                if (streq(p->bridges[i]->interface, "auto") && (nics[i] = nic_choose(inv, "auto", taken, n_taken)))
                        taken[n_taken++] = nics[i];
        if (quiet)
                return;
        _cleanup_free_ char *list = plan_nic_list(inv);
        if (!*nic && !streq(n->interface, "auto")) {
                _cleanup_free_ char *where = profile_at(&n->head, "Network", "Interface");
                add_error(errors, "%sthis machine has no network card '%s' for the bridge %s (it has: %s)", where, n->interface, n->bridge,
                          list);
        }
        for (size_t i = 0; i < p->n_bridges; i++)
                if (!nics[i]) {
                        const Bridge *b = p->bridges[i];
                        _cleanup_free_ char *where = profile_at(&b->head, "Bridge", "Interface");
                        add_error(errors, "%sthis machine has no %snetwork card '%s' for the bridge %s (it has: %s)", where,
                                  streq(b->interface, "auto") ? "free wired " : "", b->interface, b->head.name, list);
                }
}

/* The bridges' cards, from the inventory. */
static void choose_nic(Plan *plan, char ***errors) {
        const Profile *p = plan->profile;
        plan_choose_nics(p, plan->inventory, &plan->nic, plan->bridge_nics, plan->storage_only, errors);
}

/* What a full install needs from the medium and the kernel, before the
 * first write. */
static void check_preconditions(Plan *plan, char ***errors) {
        const Inventory *inv = plan->inventory;
        if (plan->storage_only)
                return;
        if (!inv->root_image)
                add_error(errors, "no root image (%s) on the medium: boot the hyperion ISO to install (image files given with --disk "
                                  "get the storage steps only)",
                          MEDIUM_ROOT_IMAGE);
        if (plan->profile->n_domains && !inv->guest_archive)
                add_error(errors, "no guest archive (%s) on the medium: the guests' root filesystems come from it; build the ISO "
                                  "again with hyperion-build",
                          MEDIUM_GUEST_ARCHIVE);
        if (plan->n_groups && !inv->device_mapper)
                add_error(errors, "this kernel has no device-mapper: the volumes of volume group '%s' could not be used (load dm_mod)",
                          plan->groups[0].vg->head.name);
}

/* ---- UUIDs --------------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *s) {
        uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        return z ^ (z >> 31);
}

/* A random version 4 UUID (ext4, swap) or a FAT volume id (vfat). */
static void make_uuid(uint64_t *state, FsType fs, char out[40]) {
        uint64_t a = splitmix64(state), b = splitmix64(state);
        if (fs == FS_VFAT) {
                snprintf(out, 40, "%04X-%04X", (unsigned) (a >> 48), (unsigned) ((a >> 32) & 0xffff));
                return;
        }
        a = (a & ~UINT64_C(0xf000)) | UINT64_C(0x4000);             /* version 4 */
        b = (b & ~(UINT64_C(3) << 62)) | (UINT64_C(2) << 62);        /* variant 1 */
        snprintf(out, 40, "%08x-%04x-%04x-%04x-%012llx", (unsigned) (a >> 32), (unsigned) ((a >> 16) & 0xffff),
                 (unsigned) (a & 0xffff), (unsigned) (b >> 48), (unsigned long long) (b & UINT64_C(0xffffffffffff)));
}

static void choose_uuids(Plan *plan) {
        uint64_t s = plan->seed;
        for (size_t i = 0; i < plan->n_disks; i++)
                for (size_t j = 0; j < plan->disks[i].n_parts; j++) {
                        PlanPartition *x = &plan->disks[i].parts[j];
                        char made[40];
                        /* Drawn for kept ones too: the others' do not depend on what is kept. */
                        if (x->part->format != FS_NONE) {
                                make_uuid(&s, x->part->format, made);
                                if (!x->keep)
                                        memcpy(x->uuid, made, sizeof made);
                        }
                }
}

/* ---- identity -------------------------------------------------------------- */

/* The profile as it reads, the root image, the disks: what a journal of
 * this install carries, and what a rerun must match to carry on. */
static void plan_identity(Plan *plan) {
        char *text = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&text, &n);
        if (!f)
                oom();
        fprintf(f, "hyperion install/1\n");
        profile_print(plan->profile, f);
        fprintf(f, "\nimage %s\n", plan->inventory->root_image_id ? plan->inventory->root_image_id : "none");
        for (char **l = plan->previous; l && *l; l++)
                fprintf(f, "previous %s\n", *l);
        for (size_t i = 0; i < plan->n_disks; i++) {
                const PlanDisk *pd = &plan->disks[i];
                if (pd->disk->use == DISK_FORMAT)
                        fprintf(f, "disk %s size %llu model %s serial %s wwn %s\n", pd->disk->head.name,
                                (unsigned long long) pd->dev->size, pd->dev->model, pd->dev->serial, pd->dev->wwn);
        }
        fclose(f);
        Sha256 s;
        sha256_init(&s);
        sha256_update(&s, text, n);
        uint8_t d[32];
        sha256_final(&s, d);
        sha256_hex(d, plan->identity);
        free(text);
}

/* What this install makes, for its journal: what a later reinstall
 * recognises (journal.h). */
static void plan_layout(Plan *plan) {
        plan->layout = xcalloc(1, sizeof(char *));
        for (size_t i = 0; i < plan->n_disks; i++) {
                const PlanDisk *pd = &plan->disks[i];
                if (pd->disk->use != DISK_FORMAT)
                        continue;
                strv_consume(&plan->layout, xasprintf("disk %s %s %llu", pd->disk->head.name, table_type_to_string(pd->disk->table),
                                                      (unsigned long long) pd->dev->size));
                for (size_t j = 0; j < pd->n_parts; j++) {
                        const PlanPartition *x = &pd->parts[j];
                        const char *fs = x->part->type == PART_LVM ? "LVM2_member"
                                         : x->part->format == FS_NONE ? "-"
                                                                      : fs_type_to_string(x->part->format);
                        strv_consume(&plan->layout, layout_part_line(pd, x, x->start, x->size, fs, x->uuid));
                }
        }
        for (size_t g = 0; g < plan->n_groups; g++) {
                const PlanGroup *pg = &plan->groups[g];
                strv_consume(&plan->layout, xasprintf("vg %s %llu %s", pg->vg->head.name, (unsigned long long) pg->vg->extent_size,
                                                      pg->vg->preserve ? "preserve" : "new"));
                for (size_t i = 0; i < plan->n_volumes; i++)
                        if (streq(plan->volumes[i].group, pg->vg->head.name))
                                strv_consume(&plan->layout, xasprintf("lv %s/%s %llu", pg->vg->head.name, plan->volumes[i].name,
                                                                      (unsigned long long) plan->volumes[i].size));
        }
}

/* ---- the texts the install writes ------------------------------------------------ */

static const char *fs_options(FsType f, const char *mount, const char *opts) {
        if (f == FS_VFAT && streq(opts, "defaults"))
                return "umask=0077";
        if (f == FS_EXT4 && streq(mount, "/") && streq(opts, "defaults"))
                return "errors=remount-ro";
        return opts;
}

static const ProbedPart *keep_partition(const PlanDisk *pd) {
        for (size_t i = 0; i < pd->dev->n_parts; i++)
                if (pd->dev->parts[i].number == pd->disk->mount_partition)
                        return &pd->dev->parts[i];
        return NULL;
}

char *plan_fstab(const Plan *plan) {
        _cleanup_strv_free_ char **lines = xcalloc(1, sizeof(char *));
        strv_push(&lines, "# /etc/fstab: written by hyperion-firstboot from the profile; by UUID.");
        strv_push(&lines, "# <file system> <mount point> <type> <options> <dump> <pass>");
        for (size_t i = 0; i < plan->n_disks; i++) {
                const PlanDisk *pd = &plan->disks[i];
                if (pd->disk->use == DISK_KEEP && !isempty(pd->disk->mount)) {
                        const ProbedPart *x = keep_partition(pd);
                        if (!x || !x->uuid)
                                continue;
                        /* A kept disk that fails must not stop the boot. */
                        _cleanup_free_ char *opts = strstr(pd->disk->mount_options, "nofail")
                                                            ? xstrdup(pd->disk->mount_options)
                                                            : xasprintf("%s,nofail", pd->disk->mount_options);
                        strv_consume(&lines, xasprintf("UUID=%s %s %s %s 0 2", x->uuid, pd->disk->mount,
                                                       x->fstype ? x->fstype : "auto", opts));
                        continue;
                }
                for (size_t j = 0; j < pd->n_parts; j++) {
                        const PlanPartition *x = &pd->parts[j];
                        const Partition *p = x->part;
                        if (p->format == FS_NONE || (p->format != FS_SWAP && isempty(p->mount)))
                                continue;
                        if (p->format == FS_SWAP)
                                strv_consume(&lines, xasprintf("UUID=%s none swap sw 0 0", x->uuid));
                        else
                                strv_consume(&lines, xasprintf("UUID=%s %s %s %s 0 %d", x->uuid, p->mount, fs_type_to_string(p->format),
                                                               fs_options(p->format, p->mount, p->mount_options),
                                                               streq(p->mount, "/") ? 1 : 2));
                }
        }
        for (size_t i = 0; i < plan->n_volumes; i++) {
                const PlanVolume *v = &plan->volumes[i];
                if (!v->volume || isempty(v->mount))
                        continue;
                strv_consume(&lines, xasprintf("/dev/%s/%s %s %s %s 0 2", v->group, v->name, v->mount, fs_type_to_string(v->format),
                                               fs_options(v->format, v->mount, v->volume->mount_options)));
        }
        _cleanup_free_ char *body = strv_join(lines, "\n");
        return xasprintf("%s\n", body);
}

/* "iface BR inet ...": dom0's address on a bridge. */
static char *iface_address(const char *bridge, const char *address, const char *gateway, char **dns_l) {
        if (streq(address, "none"))
                return xasprintf("iface %s inet manual\n", bridge);
        if (streq(address, "dhcp"))
                return xasprintf("iface %s inet dhcp\n", bridge);
        _cleanup_free_ char *dns = strv_join(dns_l, " ");
        return xasprintf("iface %s inet static\n\taddress %s\n%s%s%s%s%s%s", bridge, address, isempty(gateway) ? "" : "\tgateway ",
                         gateway, isempty(gateway) ? "" : "\n", isempty(dns) ? "" : "\tdns-nameservers ", dns, isempty(dns) ? "" : "\n");
}

char *plan_interfaces(const Profile *p, const char *interface) {
        const Network *n = &p->network;
        _cleanup_free_ char *addr = iface_address(n->bridge, n->address, n->gateway, n->dns);
        return xasprintf("# /etc/network/interfaces: written by hyperion-firstboot from the profile.\n"
                         "# The guests' bridge %s, on %s.\n\n"
                         "auto lo\niface lo inet loopback\n\n"
                         "iface %s inet manual\n\n"
                         "auto %s\n%s"
                         "\tbridge_ports %s\n\tbridge_stp off\n\tbridge_fd 0\n\tbridge_maxwait 0\n"
                         "%s",
                         n->bridge, interface ? interface : "no interface (none was found)", interface ? interface : "none",
                         n->bridge, addr, interface ? interface : "none",
                         p->n_bridges ? "\n# The other bridges ([Bridge NAME]), a file each.\nsource /etc/network/interfaces.d/hyperion-*\n" : "");
}

char *plan_bridge_interfaces(const Bridge *b, const char *interface) {
        _cleanup_free_ char *addr = iface_address(b->head.name, b->address, b->gateway, b->dns);
        return xasprintf("# " BRIDGE_FILE_FMT ": written by hyperion-firstboot from the profile ([Bridge %s]).\n"
                         "# The bridge %s, on %s%s.\n\n"
                         "iface %s inet manual\n\n"
                         "auto %s\n%s"
                         "\tbridge_ports %s\n\tbridge_stp off\n\tbridge_fd 0\n\tbridge_maxwait 0\n",
                         b->head.name, b->head.name, b->head.name, interface, streq(b->address, "none") ? ", with no address for dom0" : "",
                         interface, b->head.name, addr, interface);
}

/* ---- the steps -------------------------------------------------------------- */

static Step *add_step(Plan *plan, StepKind kind, char *id, char *what) {
        plan->steps = xrealloc(plan->steps, (plan->n_steps + 1) * sizeof(Step));
        Step *s = &plan->steps[plan->n_steps++];
        *s = (Step) { .kind = kind, .id = id, .what = what, .disk = -1, .part = -1, .group = -1, .volume = -1, .firmware = -1 };
        return s;
}

static Step *add_file(Plan *plan, const char *path, char *text, const char *why) {
        Step *s = add_step(plan, STEP_FILE, xasprintf("file %s", path), xasprintf("file %s: %s", path, why));
        s->path = xstrdup(path);
        s->text = text;
        s->mode = 0644;
        return s;
}

static void add_setting(Plan *plan, const char *path, const char *var, const char *value, const char *why) {
        Step *s = add_step(plan, STEP_SETTING, xasprintf("setting %s %s", path, var),
                           xasprintf("setting %s=\"%s\" in %s: %s", var, value, path, why));
        s->path = xstrdup(path);
        s->var = xstrdup(var);
        s->text = xstrdup(value);
        s->why = xasprintf("hyperion: %s.", why);
}

bool plan_find_mount(const Plan *plan, const char *path, size_t *ri, size_t *rj) {
        for (size_t i = 0; i < plan->n_disks; i++)
                for (size_t j = 0; j < plan->disks[i].n_parts; j++)
                        if (streq(plan->disks[i].parts[j].part->mount, path)) {
                                *ri = i;
                                *rj = j;
                                return true;
                        }
        return false;
}

static void add_format(Plan *plan, size_t i, size_t j) {
        const PlanDisk *pd = &plan->disks[i];
        const PlanPartition *x = &pd->parts[j];
        const Partition *p = x->part;
        if (p->format == FS_NONE || x->keep)
                return;
        char ratio[SIZE_BUF];
        _cleanup_free_ char *inodes = p->inode_ratio ? xasprintf(", one inode per %s", format_size(ratio, p->inode_ratio)) : xstrdup("");
        Step *s = add_step(plan, STEP_FORMAT, xasprintf("format %s/%s", pd->disk->head.name, p->head.name),
                           xasprintf("format %s/%s: %s on partition %u of %s, UUID %s%s%s%s", pd->disk->head.name, p->head.name,
                                     fs_type_to_string(p->format), x->number, pd->dev->path, x->uuid, isempty(p->label) ? "" : ", label ",
                                     strempty(p->label), inodes));
        s->disk = (ssize_t) i;
        s->part = (ssize_t) j;
}

static void add_mount(Plan *plan, const char *where) {
        size_t i, j;
        if (!plan_find_mount(plan, where, &i, &j))
                return;
        const PlanDisk *pd = &plan->disks[i];
        Step *s = add_step(plan, STEP_MOUNT, xasprintf("mount %s", where),
                           xasprintf("mount %s/%s at %s%s", pd->disk->head.name, pd->parts[j].part->head.name, where,
                                     streq(where, "/") ? " (the journal goes onto it)" : ""));
        s->disk = (ssize_t) i;
        s->part = (ssize_t) j;
        s->path = xstrdup(where);
}

static bool has_part_type(const Plan *plan, PartType t, size_t *ri, size_t *rj) {
        for (size_t i = 0; i < plan->n_disks; i++)
                for (size_t j = 0; j < plan->disks[i].n_parts; j++)
                        if (plan->disks[i].parts[j].part->type == t) {
                                if (ri)
                                        *ri = i;
                                if (rj)
                                        *rj = j;
                                return true;
                        }
        return false;
}

static void storage_steps(Plan *plan) {
        char sz[SIZE_BUF], sz2[SIZE_BUF];
        /* What a reinstall keeps is checked before anything is written. */
        for (size_t i = 0; i < plan->n_disks; i++)
                for (size_t j = 0; j < plan->disks[i].n_parts; j++) {
                        const PlanDisk *pd = &plan->disks[i];
                        const PlanPartition *x = &pd->parts[j];
                        if (!x->keep || x->part->format != FS_EXT4)
                                continue;
                        _cleanup_free_ char *used = x->used ? xasprintf(", %s used", format_size_human(sz2, x->used)) : xstrdup("");
                        Step *s = add_step(plan, STEP_CHECK, xasprintf("check %s/%s", pd->disk->head.name, x->part->head.name),
                                           xasprintf("check %s/%s: its ext4 (UUID %s%s) checked read-only (e2fsck -n) before anything "
                                                     "is written; kept as it is",
                                                     pd->disk->head.name, x->part->head.name, x->uuid, used));
                        s->disk = (ssize_t) i;
                        s->part = (ssize_t) j;
                }
        for (size_t i = 0; i < plan->n_disks; i++) {
                const PlanDisk *pd = &plan->disks[i];
                if (pd->disk->use != DISK_FORMAT)
                        continue;
                if (pd->reinstall) {
                        Step *s = add_step(plan, STEP_TABLE, xasprintf("table %s", pd->disk->head.name),
                                           xasprintf("table %s: the installed %s table on %s is kept (a reinstall)", pd->disk->head.name,
                                                     table_type_to_string(pd->disk->table), pd->dev->path));
                        s->disk = (ssize_t) i;
                        continue;
                }
                Step *s = add_step(plan, STEP_TABLE, xasprintf("table %s", pd->disk->head.name),
                                   xasprintf("table %s: a new %s table on %s (%s%s%s), %zu partition%s%s", pd->disk->head.name,
                                             table_type_to_string(pd->disk->table), pd->dev->path,
                                             format_size_human_decimal(sz, pd->dev->size), isempty(pd->dev->serial) ? "" : ", serial ",
                                             pd->dev->serial, pd->n_parts, pd->n_parts == 1 ? "" : "s",
                                             pd->resume ? "; it is there already (an interrupted install of this plan)"
                                             : pd->wipe ? "; what it holds is wiped first"
                                                        : ""));
                s->disk = (ssize_t) i;
        }
        /* The root first: the journal lives on it. */
        size_t ri, rj;
        bool root = plan_find_mount(plan, "/", &ri, &rj);
        if (root) {
                add_format(plan, ri, rj);
                add_mount(plan, "/");
        }
        for (size_t i = 0; i < plan->n_disks; i++)
                for (size_t j = 0; j < plan->disks[i].n_parts; j++)
                        if (!root || i != ri || j != rj)
                                add_format(plan, i, j);
        for (size_t g = 0; g < plan->n_groups; g++) {
                const PlanGroup *pg = &plan->groups[g];
                const char *name = pg->vg->head.name;
                _cleanup_strv_free_ char **pvs = xcalloc(1, sizeof(char *));
                for (size_t i = 0; i < plan->n_disks; i++)
                        for (size_t j = 0; j < plan->disks[i].n_parts; j++) {
                                const Partition *p = plan->disks[i].parts[j].part;
                                if (p->type != PART_LVM || !streq(p->volume_group, name))
                                        continue;
                                if (pg->reuse) {
                                        strv_consume(&pvs, xasprintf("%s/%s", plan->disks[i].disk->head.name, p->head.name));
                                        continue;
                                }
                                Step *s = add_step(plan, STEP_PV, xasprintf("pv %s/%s", plan->disks[i].disk->head.name, p->head.name),
                                                   xasprintf("pv %s/%s: an LVM physical volume on partition %u of %s",
                                                             plan->disks[i].disk->head.name, p->head.name, plan->disks[i].parts[j].number,
                                                             plan->disks[i].dev->path));
                                s->disk = (ssize_t) i;
                                s->part = (ssize_t) j;
                                s->group = (ssize_t) g;
                                strv_consume(&pvs, xasprintf("%s/%s", plan->disks[i].disk->head.name, p->head.name));
                        }
                _cleanup_free_ char *on = strv_join(pvs, ", ");
                size_t kept = 0;
                for (size_t v = 0; v < plan->n_volumes; v++)
                        kept += streq(plan->volumes[v].group, name) && plan->volumes[v].state != VOLUME_NEW;
                Step *s = add_step(plan, STEP_VG, xasprintf("vg %s", name),
                                   pg->reuse ? xasprintf("vg %s: the installed volume group on %s, reused%s (%zu of its volumes kept)",
                                                         name, on, plan->storage_only ? "" : " and activated", kept)
                                             : xasprintf("vg %s: a volume group on %s, %s extents", name, on,
                                                         format_size(sz, plan->groups[g].vg->extent_size)));
                s->group = (ssize_t) g;
                for (size_t v = 0; v < plan->n_volumes; v++) {
                        const PlanVolume *pv = &plan->volumes[v];
                        if (!streq(pv->group, name) || pv->state == VOLUME_KEEP)
                                continue;
                        if (pv->state == VOLUME_GROW) {
                                Step *l = add_step(plan, STEP_LV_GROW, xasprintf("grow %s/%s", name, pv->name),
                                                   xasprintf("grow %s/%s: from %s to %s (lvextend)%s", name, pv->name,
                                                             format_size_human(sz, pv->old_size), format_size_human(sz2, pv->size),
                                                             pv->format == FS_SWAP ? ", its swap made again"
                                                             : pv->format == FS_EXT4 ? (plan->storage_only
                                                                                               ? "; its filesystem is grown on a real "
                                                                                                 "install (resize2fs; image files: metadata only)"
                                                                                               : ", then its filesystem (e2fsck, resize2fs)")
                                                                                     : ""));
                                l->group = (ssize_t) g;
                                l->volume = (ssize_t) v;
                                continue;
                        }
                        char ratio[SIZE_BUF];
                        _cleanup_free_ char *inodes = pv->volume && pv->volume->inode_ratio
                                                              ? xasprintf(", one inode per %s", format_size(ratio, pv->volume->inode_ratio))
                                                              : xstrdup("");
                        _cleanup_free_ char *use = pv->domain ? xasprintf("guest %s's %s", pv->domain->head.name,
                                                                          pv->format == FS_SWAP ? "swap" : "disk")
                                                              : isempty(pv->mount) ? xstrdup("not mounted")
                                                                                   : xasprintf("%s, mounted at %s%s",
                                                                                               fs_type_to_string(pv->format), pv->mount,
                                                                                               inodes);
                        Step *l = add_step(plan, STEP_LV, xasprintf("lv %s/%s", name, pv->name),
                                           xasprintf("lv %s/%s: %s, %s%s", name, pv->name, format_size_human(sz, pv->size), use,
                                                     plan->storage_only ? " (metadata only: no device-mapper on image files)"
                                                                        : "; its ends zeroed"));
                        l->group = (ssize_t) g;
                        l->volume = (ssize_t) v;
                }
        }
}

const PlanVolume *plan_guest_volume(const Plan *plan, const Domain *dom) {
        for (size_t v = 0; v < plan->n_volumes; v++)
                if (plan->volumes[v].domain == dom && plan->volumes[v].format != FS_SWAP)
                        return &plan->volumes[v];
        return NULL;
}

static void system_steps(Plan *plan) {
        const Profile *p = plan->profile;
        add_mount(plan, "/boot");
        add_mount(plan, "/boot/efi");
        add_step(plan, STEP_COPY, xstrdup("copy"),
                 xasprintf("copy: the live system's root image (%s) onto the new root", MEDIUM_ROOT_IMAGE));
        add_step(plan, STEP_CHROOT, xstrdup("chroot"),
                 xstrdup("chroot: /proc, /sys, /run and a /dev of its own for the programs run in the new system: the nodes of "
                         "the disks being installed only"));
        add_step(plan, STEP_PURGE_LIVE, xstrdup("purge hyperion-live"), xstrdup("purge hyperion-live: the live system's own package"));
        add_file(plan, "/etc/fstab", plan_fstab(plan), "the filesystems by UUID");
        add_file(plan, "/etc/hostname", xasprintf("%s\n", p->host.hostname), "the host name");
        add_file(plan, "/etc/systemd/system.conf.d/hyperion.conf",
                 xstrdup("# hyperion: no device of this host is given up on for showing up slowly\n"
                         "# (a loaded host, a disk that spins up): the boot waits for it.\n"
                         "[Manager]\nDefaultDeviceTimeoutSec=infinity\n"),
                 "no device timeout at boot");
        /* ifupdown waits for udev to settle: every device of the boot (the
         * disks, their volumes), half a minute of dom0's under TCG before
         * sshd. What ifup needs is each bridge's card with its name. */
        add_file(plan, "/etc/systemd/system/ifupdown-pre.service.d/hyperion.conf",
                 xstrdup("# hyperion: ifupdown waits for udev to settle (every device of the boot) so\n"
                         "# that the interfaces have their names. When every interface brought up at\n"
                         "# boot is a bridge, what it needs is the bridges' cards with their names\n"
                         "# (udevadm wait); a card that does not show up in 2 minutes, or any other\n"
                         "# interface, and it waits for udev to settle, as long as it takes (udevadm\n"
                         "# settle gives up after 120 s on its own, the unit after 180 s).\n"
                         "[Service]\nTimeoutStartSec=infinity\nExecStart=\n"
                         "ExecStart=/bin/sh -c 'ports=; for i in $(ifquery --list --allow=auto --exclude=lo); do"
                         " p=$(ifquery \"$i\" | sed -n \"s/^bridge[_-]ports: *//p\"); [ -n \"$p\" ] || { ports=settle; break; };"
                         " ports=\"$ports $p\"; done;"
                         " for p in $ports; do [ \"$p\" = none ] && continue;"
                         " [ \"$p\" != settle ] && udevadm wait --timeout=120 \"/sys/class/net/$p\" && continue;"
                         " until udevadm settle --timeout=60; do echo \"hyperion: udev is still busy; waiting\"; done; break; done'\n"),
                 "the network waits for the bridges' cards as long as it takes");
        _cleanup_free_ char *why = plan->nic ? xasprintf("the bridge %s on %s (%s)", p->network.bridge, plan->nic->name, plan->nic->mac)
                                             : xasprintf("the bridge %s, on no card (this machine has no wired one)", p->network.bridge);
        add_file(plan, "/etc/network/interfaces", plan_interfaces(p, plan->nic ? plan->nic->name : NULL), why);
        for (size_t i = 0; i < p->n_bridges; i++) {
                const Bridge *b = p->bridges[i];
                const ProbedNic *c = plan->bridge_nics[i];
                _cleanup_free_ char *path = xasprintf(BRIDGE_FILE_FMT, b->head.name);
                _cleanup_free_ char *bwhy = c ? xasprintf("the bridge %s on %s (%s)", b->head.name, c->name, c->mac)
                                              : xasprintf("the bridge %s", b->head.name);
                add_file(plan, path, plan_bridge_interfaces(b, c ? c->name : "none"), bwhy);
        }
        Step *id = add_step(plan, STEP_IDENTITY, xstrdup("identity"),
                            plan->reinstall && p->host.keep_identity
                                    ? xstrdup("identity: the installed system's machine-id and SSH host keys, carried over (read "
                                              "before its root is formatted; KeepIdentity=no makes new ones)")
                                    : xstrdup("identity: a machine-id and SSH host keys of its own"));
        id->keep = plan->reinstall && p->host.keep_identity;
        size_t keys = strv_length(p->host.root_authorized_keys);
        if (keys || !isempty(p->host.root_password_hash))
                add_step(plan, STEP_ROOT_ACCESS, xstrdup("root access"),
                         xasprintf("root access: %zu SSH key%s%s", keys, keys == 1 ? "" : "s",
                                   isempty(p->host.root_password_hash) ? "" : " and the password hash"));
        if (p->xen.default_entry)
                add_step(plan, STEP_DIVERT, xstrdup("divert 20_linux_xen"),
                         xstrdup("divert /etc/grub.d/20_linux_xen to 08_linux_xen: the Xen entry first, whatever upgrades do"));
        add_file(plan, "/etc/default/grub.d/hyperion-xen.cfg", xen_grub_cfg(p), "Xen's and dom0's command lines");
        add_setting(plan, "/etc/xen/xl.conf", "autoballoon", xen_autoballoon(p),
                    p->xen.ballooning ? "dom0 gives memory to the guests" : "dom0 keeps its memory, the guests use their swap");
        add_setting(plan, "/etc/default/xen", "XENCONSOLED_ARGS", CONSOLED_ARGS, "the guests' consoles kept in " CONSOLE_LOG_DIR);
        add_setting(plan, "/etc/default/xendomains", "XENDOMAINS_SAVE", "", "the guests shut down and boot with the host");
        Step *d = add_step(plan, STEP_DIR, xstrdup("dir " CONSOLE_LOG_DIR), xstrdup("dir " CONSOLE_LOG_DIR " root:adm 0750"));
        d->path = xstrdup(CONSOLE_LOG_DIR);
        d->owner = xstrdup("root:adm");
        d->mode = 0750;

        size_t ei, ej;
        if (has_part_type(plan, PART_ESP, &ei, &ej)) {
                const PlanDisk *pd = &plan->disks[ei];
                Step *g = add_step(plan, STEP_GRUB, xasprintf("grub %s", firmwares[FIRMWARE_UEFI].grub_target),
                                   plan->inventory->efi
                                           ? xasprintf("grub %s: GRUB for UEFI in EFI/debian on %s/%s, and the firmware's boot entry "
                                                       "'debian' (this machine booted through UEFI)",
                                                       firmwares[FIRMWARE_UEFI].grub_target, pd->disk->head.name,
                                                       pd->parts[ej].part->head.name)
                                           : xasprintf("grub %s: GRUB for UEFI in EFI/debian on %s/%s (no firmware boot entry: this "
                                                       "machine did not boot through UEFI)",
                                                       firmwares[FIRMWARE_UEFI].grub_target, pd->disk->head.name,
                                                       pd->parts[ej].part->head.name));
                g->firmware = FIRMWARE_UEFI;
                g->nvram = plan->inventory->efi;
                g->disk = (ssize_t) ei;
                g->part = (ssize_t) ej;
                Step *rm = add_step(plan, STEP_GRUB, xasprintf("grub %s removable", firmwares[FIRMWARE_UEFI].grub_target),
                                    xasprintf("grub %s removable: GRUB on the removable path %s too (a firmware that forgets its "
                                              "boot entries still boots)",
                                              firmwares[FIRMWARE_UEFI].grub_target, firmwares[FIRMWARE_UEFI].removable_path));
                rm->firmware = FIRMWARE_UEFI;
                rm->removable = true;
                rm->disk = (ssize_t) ei;
                rm->part = (ssize_t) ej;
        }
        size_t bi;
        if (has_part_type(plan, PART_BIOS_GRUB, &bi, NULL)) {
                Step *g = add_step(plan, STEP_GRUB, xasprintf("grub %s %s", firmwares[FIRMWARE_BIOS].grub_target, plan->disks[bi].disk->head.name),
                                   xasprintf("grub %s %s: GRUB for BIOS on %s and its bios_grub partition",
                                             firmwares[FIRMWARE_BIOS].grub_target, plan->disks[bi].disk->head.name,
                                             plan->disks[bi].dev->path));
                g->firmware = FIRMWARE_BIOS;
                g->disk = (ssize_t) bi;
        }
        add_step(plan, STEP_UPDATE_GRUB, xstrdup("update-grub"),
                 xstrdup(p->xen.default_entry ? "update-grub: GRUB's menu, its first entry checked to be Xen" : "update-grub: GRUB's menu"));
        /* The guest archive stays on the host: a guest added later (day
         * two) needs neither the ISO nor the network. */
        if (plan->inventory->guest_archive)
                add_step(plan, STEP_GUEST_ARCHIVE, xstrdup("guest-archive"),
                         xstrdup("guest-archive: the ISO's guest root archive kept on the host, " GUEST_ARCHIVE_HOST
                                 " (for guests added later, with no network)"));
        for (size_t i = 0; i < p->n_domains; i++) {
                const Domain *dom = p->domains[i];
                _cleanup_free_ char *swap = dom->swap ? xasprintf(", swap on %s/%s-swap", dom->volume_group, dom->head.name) : xstrdup("");
                const PlanVolume *disk = plan_guest_volume(plan, dom);
                _cleanup_free_ char *macs = strv_join(dom->macs, ", ");
                if (disk && disk->state != VOLUME_NEW) {
                        Step *s = add_step(plan, STEP_GUEST, xasprintf("guest %s", dom->head.name),
                                           xasprintf("guest %s: its volumes kept (%s/%s-disk%s), registered again: /etc/xen/%s.cfg, "
                                                     "MAC %s",
                                                     dom->head.name, dom->volume_group, dom->head.name, swap, dom->head.name, macs));
                        s->domain = dom;
                        s->keep = true;
                        continue;
                }
                Step *s = add_step(plan, STEP_GUEST, xasprintf("guest %s", dom->head.name),
                                   xasprintf("guest %s: %s on %s/%s-disk%s, its root from the guest archive, its own SSH host "
                                             "keys, /etc/xen/%s.cfg",
                                             dom->head.name, fs_type_to_string(dom->filesystem), dom->volume_group, dom->head.name,
                                             swap, dom->head.name));
                s->domain = dom;
        }
}

/* dom0's seats: udev gives each its devices, logind a session of its
 * account there, systemd starts its application. */
static void seat_steps(Plan *plan) {
        const Profile *p = plan->profile;
        size_t installed = 0;
        for (size_t i = 0; plan->seats && i < p->n_seats; i++)
                installed += !plan->seats[i].missing;
        if (!installed)
                return;
        add_file(plan, SEAT_RULES_FILE, seats_udev_rules(plan->seats, p->n_seats), "each seat's card, inputs and sound (logind's ID_SEAT)");
        add_file(plan, "/etc/pam.d/" SEAT_PAM_SERVICE, seat_pam_text(), "the seats' sessions, with logind, no password asked");
        for (size_t i = 0; i < p->n_seats; i++) {
                const SeatAssignment *a = &plan->seats[i];
                const Seat *t = a->seat;
                if (a->missing)
                        continue;
                _cleanup_free_ char *home = xasprintf(SEAT_HOME_FMT, t->head.name);
                Step *s = add_step(plan, STEP_SEAT, xasprintf("seat %s", t->head.name),
                                   xasprintf("seat %s: the system account %s (home %s), %s full screen in cage on %s, "
                                             "hyperion-seat-%s.service enabled",
                                             t->head.name, t->user, home, t->application, t->head.name, t->head.name));
                s->seat = a;
                s->path = xasprintf(SEAT_UNIT_FMT, t->head.name);
                s->text = seat_unit_text(a);
        }
}

static void plan_steps(Plan *plan) {
        storage_steps(plan);
        if (plan->storage_only) {
                add_step(plan, STEP_STORAGE, xstrdup("storage"),
                         xstrdup("storage: the disks are ready; the system itself installs only from the live ISO"));
                return;
        }
        system_steps(plan);
        seat_steps(plan);
        add_step(plan, STEP_DONE, xstrdup("done"), xstrdup("done: the install is finished"));
}

const Step *plan_find_step(const Plan *plan, const char *id) {
        for (size_t i = 0; i < plan->n_steps; i++)
                if (streq(plan->steps[i].id, id))
                        return &plan->steps[i];
        return NULL;
}

/* ---- the plan ---------------------------------------------------------------- */

int plan_make(const Profile *p, const Inventory *inv, const PlanOptions *o, Plan **ret, char ***errors) {
        static const PlanOptions none = {};
        if (!o)
                o = &none;
        *errors = xcalloc(1, sizeof(char *));
        _cleanup_(plan_freep) Plan *plan = xcalloc(1, sizeof(Plan));
        plan->profile = p;
        plan->inventory = inv;
        plan->seed = o->seed ? o->seed : inv->seed;
        plan->n_disks = p->n_disks;
        plan->disks = xcalloc(p->n_disks, sizeof(PlanDisk));
        /* Filled by choose_nic(); a layout-only plan leaves them NULL ("none"). */
        plan->bridge_nics = xcalloc(p->n_bridges + 1, sizeof(ProbedNic *));

        if (match_disks(plan, errors) < 0)
                return -EINVAL;
        for (size_t i = 0; i < plan->n_disks; i++)
                if (plan->disks[i].disk->use == DISK_FORMAT && plan->disks[i].dev->is_file)
                        plan->storage_only = true;
        for (size_t i = 0; i < plan->n_disks; i++)
                layout_disk(plan, &plan->disks[i], errors);
        reinstall_disks(plan, o, errors);
        plan->previous = reinstall_previous(plan, o);
        for (size_t i = 0; i < plan->n_disks; i++) {
                check_wipe(&plan->disks[i], o, errors);
                check_keep_mount(&plan->disks[i], errors);
        }
        check_existing_groups(plan, errors);
        plan_groups(plan, errors);
        reinstall_groups(plan, plan->previous, errors);
        for (size_t i = 0; i < plan->n_disks && !o->layout_only; i++)
                check_in_use(plan, &plan->disks[i], errors);
        if (!o->layout_only) {
                check_memory(plan, errors);
                choose_nic(plan, errors);
                check_preconditions(plan, errors);
                /* The seats' devices: found once each, a seat whose devices
                 * are not there left out, a device taken twice refused. */
                if (!plan->storage_only && p->n_seats && seats_assign(p, &inv->seat_devices, &plan->seats, errors) == 0)
                        plan->n_seats = p->n_seats;
        }
        if ((*errors)[0])
                return -EINVAL;
        choose_uuids(plan);
        plan_layout(plan);
        plan_identity(plan);
        plan_steps(plan);
        *ret = TAKE_PTR(plan);
        return 0;
}

void plan_free(Plan *plan) {
        if (!plan)
                return;
        for (size_t i = 0; i < plan->n_disks; i++)
                free(plan->disks[i].parts);
        free(plan->disks);
        for (size_t i = 0; i < plan->n_volumes; i++)
                free(plan->volumes[i].name);
        free(plan->volumes);
        for (size_t g = 0; g < plan->n_groups; g++)
                strv_free(plan->groups[g].orphans);
        free(plan->groups);
        strv_free(plan->layout);
        strv_free(plan->previous);
        for (size_t i = 0; i < plan->n_steps; i++) {
                Step *s = &plan->steps[i];
                free(s->id);
                free(s->what);
                free(s->path);
                free(s->text);
                free(s->var);
                free(s->why);
                free(s->owner);
        }
        free(plan->steps);
        free(plan->bridge_nics);
        seat_assignments_free(plan->seats, plan->n_seats);
        free(plan);
}

/* ---- printing ------------------------------------------------------------ */

static const char *dash(const char *s) {
        return isempty(s) ? "-" : s;
}

void plan_print(const Plan *plan, FILE *f) {
        const Profile *p = plan->profile;
        char a[SIZE_BUF], b[SIZE_BUF], c[SIZE_BUF];
        fprintf(f, "%s plan for host '%s' (profile '%s')\n", plan->reinstall ? "Reinstall" : "Install", p->host.hostname, p->name);
        if (plan->reinstall && plan->derived)
                fprintf(f, "reinstall: over a hyperion whose install journal is gone (a reinstall cut while it formatted the root), "
                           "recognised from its partition table and what the profile preserves; what the profile preserves is "
                           "kept, the rest is made anew\n");
        else if (plan->reinstall)
                fprintf(f, "reinstall: over the hyperion installed on these disks; what the profile preserves is kept, the rest is "
                           "made anew\n");
        if (plan->storage_only)
                fprintf(f, "The disks are image files: partitions, filesystems and LVM metadata only.\n");

        for (size_t i = 0; i < plan->n_disks; i++) {
                const PlanDisk *pd = &plan->disks[i];
                const ProbedDisk *dev = pd->dev;
                fprintf(f, "\ndisk %s -> %s  %s  %s%s%s\n", pd->disk->head.name, dev->path, format_size_human_decimal(a, dev->size),
                        isempty(dev->model) ? "(no model)" : dev->model, isempty(dev->serial) ? "" : "  serial ", dev->serial);
                _cleanup_free_ char *holds = disk_contents(dev);
                switch (pd->disk->use) {
                case DISK_KEEP:
                        if (isempty(pd->disk->mount))
                                fprintf(f, "  keep: not touched (holds: %s)\n", holds);
                        else
                                fprintf(f, "  keep: not touched (holds: %s); partition %u mounted at %s\n", holds,
                                        pd->disk->mount_partition, pd->disk->mount);
                        continue;
                case DISK_IGNORE:
                        fprintf(f, "  ignore: not touched (holds: %s)\n", holds);
                        continue;
                default:
                        break;
                }
                if (pd->reinstall) {
                        _cleanup_strv_free_ char **made = xcalloc(1, sizeof(char *));
                        fprintf(f, "  reinstall: its %s table is kept%s\n", table_type_to_string(pd->disk->table),
                                pd->wipe ? "; WIPES the partitions it does not preserve" : "");
                        for (size_t j = 0; j < pd->n_parts; j++) {
                                const PlanPartition *x = &pd->parts[j];
                                if (!x->keep) {
                                        strv_push(&made, x->part->head.name);
                                        continue;
                                }
                                if (x->part->type == PART_LVM)
                                        fprintf(f, "  preserve: %s %s, physical volume of %s\n", x->part->head.name,
                                                format_size_human(a, x->size), x->part->volume_group);
                                else if (x->used)
                                        fprintf(f, "  preserve: %s %s %s (%s used)\n", x->part->head.name, format_size_human(a, x->size),
                                                fs_type_to_string(x->part->format), format_size_human(b, x->used));
                                else
                                        fprintf(f, "  preserve: %s %s %s\n", x->part->head.name, format_size_human(a, x->size),
                                                fs_type_to_string(x->part->format));
                        }
                        if (made[0]) {
                                _cleanup_free_ char *list = strv_join(made, ", ");
                                fprintf(f, "  new: %s\n", list);
                        }
                } else if (pd->resume)
                        fprintf(f, "  format: resumes the interrupted install that made its %s table\n",
                                table_type_to_string(pd->disk->table));
                else
                        fprintf(f, "  format: new %s partition table%s%s%s\n", table_type_to_string(pd->disk->table),
                                pd->wipe ? ", WIPES what it holds (" : "", pd->wipe ? holds : "", pd->wipe ? ")" : "");
                fprintf(f, "  %-3s %-12s %10s %10s  %-9s %-6s %s\n", "#", "name", "start", "size", "type", "format", "mount");
                for (size_t j = 0; j < pd->n_parts; j++) {
                        const PlanPartition *x = &pd->parts[j];
                        const char *mount = x->part->type == PART_LVM ? x->part->volume_group
                                            : x->part->format == FS_SWAP ? "[swap]"
                                                                         : dash(x->part->mount);
                        fprintf(f, "  %-3u %-12s %10s %10s  %-9s %-6s %s%s\n", x->number, x->part->head.name,
                                format_size_human(a, x->start), format_size_human(b, x->size), part_type_to_string(x->part->type),
                                x->part->format == FS_NONE ? "-" : fs_type_to_string(x->part->format), mount,
                                x->keep ? "  (preserved)" : "");
                }
        }

        for (size_t g = 0; g < plan->n_groups; g++) {
                const PlanGroup *pg = &plan->groups[g];
                fprintf(f, "\nvolume group %s: %s in %s extents, %s used\n", pg->vg->head.name, format_size_human(a, pg->capacity),
                        format_size(b, pg->vg->extent_size), format_size_human(c, pg->used));
                if (pg->reuse) {
                        _cleanup_strv_free_ char **kept = xcalloc(1, sizeof(char *));
                        for (size_t i = 0; i < plan->n_volumes; i++)
                                if (streq(plan->volumes[i].group, pg->vg->head.name) && plan->volumes[i].state != VOLUME_NEW)
                                        strv_push(&kept, plan->volumes[i].name);
                        _cleanup_free_ char *list = strv_join(kept, " ");
                        fprintf(f, "  reuse: %s, %zu volume%s kept%s%s%s\n", pg->vg->head.name, strv_length(kept),
                                strv_length(kept) == 1 ? "" : "s", kept[0] ? " (" : "", list, kept[0] ? ")" : "");
                        for (char **o = pg->orphans; o && *o; o++)
                                fprintf(f, "  not in the profile, left alone: %s\n", *o);
                }
                for (size_t i = 0; i < plan->n_volumes; i++) {
                        const PlanVolume *v = &plan->volumes[i];
                        if (!streq(v->group, pg->vg->head.name))
                                continue;
                        _cleanup_free_ char *use = v->domain ? xasprintf("guest %s", v->domain->head.name) : xstrdup(dash(v->mount));
                        _cleanup_free_ char *state = !pg->reuse                 ? xstrdup("")
                                                     : v->state == VOLUME_KEEP ? xstrdup("  (kept)")
                                                     : v->state == VOLUME_GROW ? xasprintf("  (grown from %s)", format_size_human(c, v->old_size))
                                                                               : xstrdup("  (new)");
                        fprintf(f, "  %-16s %10s  %-6s %s%s\n", v->name, format_size_human(a, v->size),
                                v->format == FS_NONE ? "-" : fs_type_to_string(v->format), use, state);
                }
        }

        if (p->n_domains) {
                fprintf(f, "\nguests\n");
                for (size_t i = 0; i < p->n_domains; i++) {
                        const Domain *d = p->domains[i];
                        _cleanup_free_ char *nics = domain_nics(d);
                        fprintf(f, "  %-12s %-3s memory %s, %u vcpu%s, on %s\n", d->head.name, guest_type_to_string(d->type),
                                format_size(a, d->memory), d->vcpus, d->vcpus == 1 ? "" : "s", nics);
                }
        }
        if (p->n_seats) {
                uint64_t in_seats = 0;
                for (size_t i = 0; i < p->n_seats; i++)
                        in_seats += p->seats[i]->memory;
                fprintf(f, "\nseats of dom0 (%s of dom0's %s)\n", format_size(a, in_seats), format_size(b, p->xen.dom0_memory));
                for (size_t i = 0; i < p->n_seats; i++) {
                        const Seat *t = p->seats[i];
                        _cleanup_free_ char *inputs = strv_join(t->inputs, ", ");
                        fprintf(f, "  %-12s %s as %s, card %s, input %s, audio %s, memory %s\n", t->head.name, t->application, t->user,
                                t->card, inputs, t->audio, format_size(a, t->memory));
                        if (plan->seats && plan->seats[i].missing)
                                fprintf(f, "  %-12s left out, the host installed without it: %s\n", "", plan->seats[i].missing);
                        else if (plan->seats) {
                                _cleanup_free_ char *found = seat_assignment_describe(&plan->seats[i]);
                                fprintf(f, "  %-12s found: %s\n", "", found);
                        }
                }
        }
        fprintf(f, "\nXen: dom0 %s%s, Xen entry %s\n", format_size(a, p->xen.dom0_memory),
                p->xen.ballooning ? ", ballooning" : ", no ballooning", p->xen.default_entry ? "the default" : "not the default");
        if (plan->inventory->memory)
                fprintf(f, "memory: %s needed (dom0 and guests) of %s\n", format_size_human(a, plan->memory_needed),
                        format_size_human(b, plan->inventory->memory));
        if (!plan->storage_only) {
                if (plan->nic)
                        fprintf(f, "network: the bridge %s on %s (%s), %s\n", p->network.bridge, plan->nic->name, plan->nic->mac,
                                p->network.address);
                else
                        fprintf(f, "network: the bridge %s on no card (no wired card found)\n", p->network.bridge);
                for (size_t i = 0; i < p->n_bridges; i++)
                        if (plan->bridge_nics && plan->bridge_nics[i])
                                fprintf(f, "network: the bridge %s on %s (%s), %s\n", p->bridges[i]->head.name, plan->bridge_nics[i]->name,
                                        plan->bridge_nics[i]->mac,
                                        streq(p->bridges[i]->address, "none") ? "no address for dom0" : p->bridges[i]->address);
                fprintf(f, "firmware: %s\n", plan->inventory->efi ? "UEFI (a boot entry is written)" : "BIOS (no firmware boot entry)");
        }

        /* Every disk the profile does not name: also never touched. */
        bool header = false;
        for (size_t j = 0; j < plan->inventory->n_disks; j++) {
                const ProbedDisk *dev = &plan->inventory->disks[j];
                bool used = false;
                for (size_t i = 0; i < plan->n_disks; i++)
                        used |= plan->disks[i].dev == dev;
                if (used)
                        continue;
                if (!header)
                        fprintf(f, "\nother disks, not touched:\n");
                header = true;
                _cleanup_free_ char *line = disk_describe(dev);
                fprintf(f, "  %s\n", line);
        }

        fprintf(f, "\nsteps (%zu), each in the install journal (identity %.16s): a rerun after a power cut carries on\n",
                plan->n_steps, plan->identity);
        for (size_t i = 0; i < plan->n_steps; i++) {
                const Step *s = &plan->steps[i];
                fprintf(f, "  %3zu  %s\n", i + 1, s->what);
                for (const char *l = s->kind == STEP_FILE || s->kind == STEP_SEAT ? s->text : NULL; l && *l;) {
                        size_t n = strcspn(l, "\n");
                        fprintf(f, "         |%s%.*s\n", n ? " " : "", (int) n, l);
                        l += n + (l[n] == '\n');
                }
        }
}
