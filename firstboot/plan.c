/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "plan.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "size.h"
#include "strutil.h"

static void add_error(char ***errors, const char *fmt, ...) _printf_(2, 3);
static void add_error(char ***errors, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        strv_consume(errors, xvasprintf(fmt, ap));
        va_end(ap);
}

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
                if (pd->parts[i].part->size.rest)
                        rest = &pd->parts[i];
                else
                        fixed += pd->parts[i].part->size.bytes;
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
                start += x->size;
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

static void check_wipe(Plan *plan, PlanDisk *pd, const PlanOptions *o, char ***errors) {
        if (pd->disk->use != DISK_FORMAT || !pd->dev || !disk_has_data(pd->dev))
                return;
        _cleanup_free_ char *what = disk_contents(pd->dev);
        (void) plan;
        if ((strv_contains(o->resumable, pd->disk->head.name) && plan_disk_matches(pd)) || blank_planned_table(pd))
                pd->resume = true;
        else if (o->unattended && !disk_pinned(pd->disk))
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

static void add_volume(Plan *plan, const char *group, char *name, uint64_t size, FsType fs, const char *mount, const Volume *v,
                       const Domain *dom) {
        plan->volumes = xrealloc(plan->volumes, (plan->n_volumes + 1) * sizeof(PlanVolume));
        plan->volumes[plan->n_volumes++] = (PlanVolume) {
                .group = group, .name = name, .size = size, .format = fs, .mount = mount, .volume = v, .domain = dom,
        };
}

static uint64_t round_up(uint64_t v, uint64_t to) {
        return (v + to - 1) / to * to;
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
                                        pg->capacity += lvm_pv_capacity(x->size, pg->vg->extent_size);
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
                for (size_t i = 0; i < plan->n_volumes; i++) {
                        PlanVolume *v = &plan->volumes[i];
                        if (!streq(v->group, pg->vg->head.name))
                                continue;
                        v->size = round_up(v->size, pg->vg->extent_size);
                        pg->used += v->size;
                }
                if (pg->used > pg->capacity) {
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
                guests += p->domains[i]->memory;
        plan->memory_needed = p->xen.dom0_memory + guests;
        uint64_t have = plan->inventory->memory;
        if (have && plan->memory_needed > have) {
                char a[SIZE_BUF], b[SIZE_BUF], c[SIZE_BUF], d[SIZE_BUF];
                add_error(errors, "the guests (%s) and dom0 (%s) need %s of memory; this machine has %s", format_size_human(a, guests),
                          format_size_human(b, p->xen.dom0_memory), format_size_human(c, plan->memory_needed),
                          format_size_human(d, have));
        }
}

int plan_make(const Profile *p, const Inventory *inv, const PlanOptions *o, Plan **ret, char ***errors) {
        static const PlanOptions none = {};
        if (!o)
                o = &none;
        *errors = xcalloc(1, sizeof(char *));
        _cleanup_(plan_freep) Plan *plan = xcalloc(1, sizeof(Plan));
        plan->profile = p;
        plan->inventory = inv;
        plan->n_disks = p->n_disks;
        plan->disks = xcalloc(p->n_disks, sizeof(PlanDisk));

        if (match_disks(plan, errors) < 0)
                return -EINVAL;
        for (size_t i = 0; i < plan->n_disks; i++) {
                layout_disk(plan, &plan->disks[i], errors);
                check_wipe(plan, &plan->disks[i], o, errors);
                check_keep_mount(&plan->disks[i], errors);
        }
        plan_groups(plan, errors);
        check_memory(plan, errors);
        if ((*errors)[0])
                return -EINVAL;
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
        free(plan->groups);
        free(plan);
}

/* ---- printing ------------------------------------------------------------ */

static const char *dash(const char *s) {
        return isempty(s) ? "-" : s;
}

void plan_print(const Plan *plan, FILE *f) {
        const Profile *p = plan->profile;
        char a[SIZE_BUF], b[SIZE_BUF], c[SIZE_BUF];
        fprintf(f, "Install plan for host '%s' (profile '%s')\n", p->host.hostname, p->name);

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
                if (pd->resume)
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
                        fprintf(f, "  %-3u %-12s %10s %10s  %-9s %-6s %s\n", x->number, x->part->head.name,
                                format_size_human(a, x->start), format_size_human(b, x->size), part_type_to_string(x->part->type),
                                x->part->format == FS_NONE ? "-" : fs_type_to_string(x->part->format), mount);
                }
        }

        for (size_t g = 0; g < plan->n_groups; g++) {
                const PlanGroup *pg = &plan->groups[g];
                fprintf(f, "\nvolume group %s: %s in %s extents, %s used\n", pg->vg->head.name, format_size_human(a, pg->capacity),
                        format_size(b, pg->vg->extent_size), format_size_human(c, pg->used));
                for (size_t i = 0; i < plan->n_volumes; i++) {
                        const PlanVolume *v = &plan->volumes[i];
                        if (!streq(v->group, pg->vg->head.name))
                                continue;
                        _cleanup_free_ char *use = v->domain ? xasprintf("guest %s", v->domain->head.name) : xstrdup(dash(v->mount));
                        fprintf(f, "  %-16s %10s  %-6s %s\n", v->name, format_size_human(a, v->size),
                                v->format == FS_NONE ? "-" : fs_type_to_string(v->format), use);
                }
        }

        if (p->n_domains) {
                fprintf(f, "\nguests\n");
                for (size_t i = 0; i < p->n_domains; i++) {
                        const Domain *d = p->domains[i];
                        fprintf(f, "  %-12s %-3s memory %s, %u vcpu%s, on %s (%s)\n", d->head.name, guest_type_to_string(d->type),
                                format_size(a, d->memory), d->vcpus, d->vcpus == 1 ? "" : "s", d->bridge, d->mac);
                }
        }
        fprintf(f, "\nXen: dom0 %s%s, Xen entry %s\n", format_size(a, p->xen.dom0_memory),
                p->xen.ballooning ? ", ballooning" : ", no ballooning", p->xen.default_entry ? "the default" : "not the default");
        if (plan->inventory->memory)
                fprintf(f, "memory: %s needed (dom0 and guests) of %s\n", format_size_human(a, plan->memory_needed),
                        format_size_human(b, plan->inventory->memory));

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
}
