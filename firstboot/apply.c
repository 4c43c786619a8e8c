/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * apply.c: the plan, carried out step by step. Each step is journalled once
 * done; each can be done again without harm, so a rerun after a power cut
 * skips what the journal lists and ends in the same state.
 */
#include "apply.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guard.h"
#include "guests.h"
#include "log.h"
#include "lvm.h"
#include "mount-util.h"
#include "partition.h"
#include "run.h"
#include "strutil.h"
#include "system.h"

#define ZERO_SPAN (UINT64_C(1) << 20)

static char *step_name(const char *what, const char *a, const char *b) {
        return b ? xasprintf("%s %s/%s", what, a, b) : xasprintf("%s %s", what, a);
}

/* Old signatures in the way of a new filesystem or PV: gone (guarded). */
static int wipe_signatures(const char *dev) {
        int r = guard_check(dev);
        if (r < 0)
                return r;
        return RUN(&(RunOptions) { .quiet = true }, "wipefs", "--all", "--quiet", dev);
}

int make_filesystem(const char *dev, FsType fs, const char *label) {
        int r = wipe_signatures(dev);
        if (r < 0)
                return r;
        RunOptions q = { .quiet = true };
        switch (fs) {
        case FS_EXT4:
                return isempty(label) ? RUN(&q, "mkfs.ext4", "-q", "-F", dev) : RUN(&q, "mkfs.ext4", "-q", "-F", "-L", label, dev);
        case FS_VFAT:
                return isempty(label) ? RUN(&q, "mkfs.vfat", "-F", "32", dev) : RUN(&q, "mkfs.vfat", "-F", "32", "-n", label, dev);
        case FS_SWAP:
                return isempty(label) ? RUN(&q, "mkswap", dev) : RUN(&q, "mkswap", "-L", label, dev);
        default:
                return 0;
        }
}

/* The first and last MiB of a new volume: zeroes, so nothing of before shows through. */
int zero_ends(const char *dev, uint64_t size) {
        int r = guard_check(dev);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = open(dev, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "cannot open '%s' for writing: %m", dev);
        _cleanup_free_ char *zero = xcalloc(1, ZERO_SPAN);
        uint64_t span = MIN(ZERO_SPAN, size);
        if (pwrite(fd, zero, span, 0) != (ssize_t) span ||
            pwrite(fd, zero, span, (off_t) (size - span)) != (ssize_t) span || fsync(fd) < 0)
                return log_error_errno(errno, "cannot zero the ends of '%s': %m", dev);
        return 0;
}

static int step_partitions(Target *t) {
        const Plan *plan = t->plan;
        for (size_t i = 0; i < plan->n_disks; i++) {
                const PlanDisk *pd = &plan->disks[i];
                if (pd->disk->use != DISK_FORMAT)
                        continue;
                _cleanup_free_ char *step = step_name("partitions", pd->disk->head.name, NULL);
                if (journal_done(t, step) || (pd->resume && plan_disk_matches(pd))) {
                        journal_add(t, step);
                        continue;
                }
                int r = wipe_signatures(pd->dev->path);
                if (r < 0 || (r = partition_write(pd)) < 0)
                        return r;
                if ((r = journal_add(t, step)) < 0)
                        return r;
        }
        return 0;
}

static int format_partition(Target *t, size_t i, size_t j, bool journal) {
        const PlanDisk *pd = &t->plan->disks[i];
        const Partition *p = pd->parts[j].part;
        if (p->format == FS_NONE)
                return 0;
        _cleanup_free_ char *step = step_name("format", pd->disk->head.name, p->head.name);
        const char *dev;
        int r = target_device(t, i, j, &dev);
        if (r < 0 || journal_done(t, step))
                return r;
        log_info("%s: %s for %s/%s%s%s", dev, fs_type_to_string(p->format), pd->disk->head.name, p->head.name,
                 isempty(p->mount) ? "" : ", ", p->mount);
        if ((r = make_filesystem(dev, p->format, p->label)) < 0)
                return r;
        return journal ? journal_add(t, step) : 0;
}

static int mount_at(const char *dev, const char *where, FsType fs) {
        if (mkdir(where, 0755) < 0 && errno != EEXIST)
                return log_error_errno(errno, "cannot create '%s': %m", where);
        if (mount(dev, where, fs_type_to_string(fs), 0, NULL) < 0)
                return log_error_errno(errno, "cannot mount '%s' on '%s': %m", dev, where);
        return 0;
}

/* The root first: the journal lives on it. */
static int step_root(Target *t) {
        size_t i, j;
        if (!target_find_mount(t, "/", &i, &j))
                return log_error_errno(EINVAL, "the plan mounts nothing at '/'");
        /* Formatted, mounted, the journal on it: only then is the step done. */
        int r = format_partition(t, i, j, false);
        if (r < 0)
                return r;
        const char *dev;
        if ((r = target_device(t, i, j, &dev)) < 0 || (r = mount_at(dev, t->root, t->plan->disks[i].parts[j].part->format)) < 0 ||
            (r = journal_attach(t)) < 0)
                return r;
        _cleanup_free_ char *step = step_name("format", t->plan->disks[i].disk->head.name, t->plan->disks[i].parts[j].part->head.name);
        return journal_add(t, step);
}

static int step_filesystems(Target *t) {
        const Plan *plan = t->plan;
        for (size_t i = 0; i < plan->n_disks; i++)
                for (size_t j = 0; j < plan->disks[i].n_parts; j++) {
                        int r = format_partition(t, i, j, true);
                        if (r < 0)
                                return r;
                }
        return 0;
}

/* /boot, then /boot/efi: what the system copy and GRUB write into. */
static int mount_boot(Target *t) {
        static const char *const order[] = { "/boot", "/boot/efi", NULL };
        for (size_t k = 0; order[k]; k++) {
                size_t i, j;
                if (!target_find_mount(t, order[k], &i, &j))
                        continue;
                const char *dev;
                _cleanup_free_ char *where = path_join(t->root, order[k]);
                int r = target_device(t, i, j, &dev);
                if (r < 0 || (r = mount_at(dev, where, t->plan->disks[i].parts[j].part->format)) < 0)
                        return r;
        }
        return 0;
}

static int step_lvm(Target *t) {
        const Plan *plan = t->plan;
        if (plan->n_groups == 0)
                return 0;
        Lvm lvm;
        int r = lvm_open(&lvm, t->offline);
        if (r < 0)
                return r;
        for (size_t g = 0; g < plan->n_groups && r >= 0; g++) {
                const VolumeGroup *vg = plan->groups[g].vg;
                const char *name = vg->head.name;
                _cleanup_strv_free_ char **pvs = xcalloc(1, sizeof(char *));
                for (size_t i = 0; i < plan->n_disks && r >= 0; i++)
                        for (size_t j = 0; j < plan->disks[i].n_parts && r >= 0; j++) {
                                const Partition *p = plan->disks[i].parts[j].part;
                                if (p->type != PART_LVM || !streq(p->volume_group, name))
                                        continue;
                                const char *dev;
                                if ((r = target_device(t, i, j, &dev)) < 0)
                                        break;
                                strv_push(&pvs, dev);
                                _cleanup_free_ char *step = step_name("pv", plan->disks[i].disk->head.name, p->head.name);
                                _cleanup_free_ char *vgstep = step_name("vg", name, NULL);
                                if (journal_done(t, step) || journal_done(t, vgstep))
                                        continue;
                                if ((r = wipe_signatures(dev)) < 0 || (r = lvm_pvcreate(&lvm, dev)) < 0)
                                        break;
                                r = journal_add(t, step);
                        }
                if (r < 0)
                        break;
                _cleanup_free_ char *vgstep = step_name("vg", name, NULL);
                if (!journal_done(t, vgstep)) {
                        log_info("volume group %s on %s", name, pvs[0]);
                        if ((r = lvm_vgcreate(&lvm, name, vg->extent_size, pvs)) < 0 || (r = journal_add(t, vgstep)) < 0)
                                break;
                }
                for (size_t v = 0; v < plan->n_volumes && r >= 0; v++) {
                        const PlanVolume *pv = &plan->volumes[v];
                        if (!streq(pv->group, name))
                                continue;
                        _cleanup_free_ char *step = step_name("lv", name, pv->name);
                        if (journal_done(t, step))
                                continue;
                        if ((r = lvm_lvcreate(&lvm, name, pv->name, pv->size)) < 0)
                                break;
                        if (!t->offline) {
                                _cleanup_free_ char *dev = xasprintf("/dev/%s/%s", name, pv->name);
                                if ((r = zero_ends(dev, pv->size)) < 0)
                                        break;
                                /* The host's own volumes get their filesystem now; the guests' with the guests. */
                                if (pv->volume && (r = make_filesystem(dev, pv->format, pv->volume->label)) < 0)
                                        break;
                        }
                        r = journal_add(t, step);
                }
        }
        lvm_close(&lvm);
        return r;
}

static int step_system(Target *t) {
        int r = 0;
        if (!journal_done(t, "copy")) {
                if ((r = system_copy_root(t)) < 0 || (r = journal_add(t, "copy")) < 0)
                        return r;
        }
        r = chroot_mount(t->root);
        if (r < 0)
                return r;
        if (!journal_done(t, "configure") && ((r = system_configure(t)) < 0 || (r = journal_add(t, "configure")) < 0))
                goto out;
        if (!journal_done(t, "boot") && ((r = system_boot(t)) < 0 || (r = journal_add(t, "boot")) < 0))
                goto out;
        r = guests_prepare(t);
out:
        chroot_umount(t->root);
        return r;
}

int apply_plan(const Plan *plan, const ApplyOptions *o) {
        Target t;
        target_init(&t, plan, o->root);
        for (char **j = o->journal; j && *j; j++)
                strv_push(&t.journal, *j);
        int r = 0;
        guard_reset();
        for (size_t i = 0; i < plan->n_disks && r >= 0; i++)
                if (plan->disks[i].disk->use == DISK_FORMAT)
                        r = guard_allow(plan->disks[i].dev->path);
        if (r >= 0)
                r = RUN(NULL, "mkdir", "-p", t.root);
        /* Anything left mounted there by an earlier, interrupted run goes first. */
        if (r >= 0)
                umount_below(t.root);
        if (r >= 0)
                t.root_image = o->root_image ? xstrdup(o->root_image) : system_find_root_image();

        uint64_t start = now_usec();
        if (r >= 0)
                r = step_partitions(&t);
        if (r >= 0)
                r = step_root(&t);
        if (r >= 0)
                r = step_filesystems(&t);
        if (r >= 0)
                r = step_lvm(&t);
        if (r >= 0 && (t.image_mode || t.offline || !t.root_image)) {
                log_notice("the disks are ready (partitions, filesystems, LVM%s); the system itself installs only from the "
                           "live ISO%s",
                           t.offline ? " metadata" : "", t.root_image ? "" : " (no root image here)");
                r = journal_add(&t, "storage");
        } else if (r >= 0) {
                if ((r = mount_boot(&t)) >= 0 && (r = step_system(&t)) >= 0)
                        r = journal_add(&t, "done");
        }
        umount_below(t.root);
        sync();
        char d[32];
        format_duration(d, sizeof d, now_usec() - start);
        if (r >= 0)
                log_info("install finished in %s", d);
        else
                log_error("the install stopped after %s; run it again to carry on from the last step done", d);
        target_release(&t);
        guard_reset();
        return r;
}
