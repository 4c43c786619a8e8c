/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "apply.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "grub.h"
#include "guard.h"
#include "guests.h"
#include "log.h"
#include "lvm.h"
#include "mkfs.h"
#include "mount-util.h"
#include "partition.h"
#include "probe.h"
#include "run.h"
#include "strutil.h"
#include "system.h"
#include "target.h"

/* ---- storage ------------------------------------------------------------------ */

/* A preserved filesystem, checked read-only before the first write: one
 * that does not check clean stops the reinstall with nothing written. */
static int do_check(Target *t, const Step *s) {
        const PlanPartition *x = &t->plan->disks[s->disk].parts[s->part];
        const char *dev;
        int r = target_device(t, (size_t) s->disk, (size_t) s->part, &dev);
        if (r < 0)
                return r;
        log_info("%s: checking the preserved %s (e2fsck -n, read-only)", dev, s->id + strlen("check "));
        _cleanup_free_ char *out = NULL, *err = NULL;
        RunOptions o = { .capture = &out, .capture_err = &err };
        r = run((char *[]) { "e2fsck", "-n", "-f", (char *) dev, NULL }, &o);
        if (r != 0) {
                log_error("%s%s", strempty(out), strempty(err));
                return log_error_errno(EUCLEAN,
                                       "the preserved filesystem %s (%s, UUID %s) does not check clean (e2fsck -n exit %d): nothing "
                                       "was written; repair it (e2fsck -f %s) and run again",
                                       s->id + strlen("check "), dev, x->uuid, r, dev);
        }
        return 0;
}

static int do_table(Target *t, const Step *s) {
        const PlanDisk *pd = &t->plan->disks[s->disk];
        /* A reinstall keeps the table: the plan checked it is the profile's. */
        if (pd->reinstall)
                return 0;
        /* An interrupted install of this plan wrote it already. */
        if (pd->resume && plan_disk_matches(pd))
                return 0;
        int r = wipe_signatures(&t->guard, pd->dev->path, s->id);
        if (r < 0)
                return r;
        return partition_write(&t->guard, pd, s->id);
}

static int do_format(Target *t, const Step *s) {
        const PlanPartition *x = &t->plan->disks[s->disk].parts[s->part];
        const char *dev;
        int r = target_device(t, (size_t) s->disk, (size_t) s->part, &dev);
        if (r < 0)
                return r;
        log_info("%s: %s for %s%s%s", dev, fs_type_to_string(x->part->format), s->id + strlen("format "),
                 isempty(x->part->mount) ? "" : ", ", x->part->mount);
        return make_filesystem(&t->guard, dev, x->part->format, x->part->label, x->uuid, x->part->inode_ratio, s->id);
}

static int do_mount(Target *t, const Step *s) {
        const PlanPartition *x = &t->plan->disks[s->disk].parts[s->part];
        const char *dev;
        int r = target_device(t, (size_t) s->disk, (size_t) s->part, &dev);
        if (r < 0)
                return r;
        _cleanup_free_ char *where = path_join(t->root, s->path);
        if (mkdir(where, 0755) < 0 && errno != EEXIST)
                return log_error_errno(errno, "cannot create '%s': %m", where);
        if (mount(dev, where, fs_type_to_string(x->part->format), 0, NULL) < 0)
                return log_error_errno(errno, "cannot mount '%s' on '%s': %m", dev, where);
        /* The root: the journal goes onto it, and a reinstall's kept identity. */
        if (!streq(s->path, "/"))
                return 0;
        r = journal_attach(&t->journal, t->root);
        return r < 0 ? r : identity_put_aside(t);
}

/* The devices of the physical volumes of plan group g. */
static int group_pvs(Target *t, ssize_t g, char ***ret) {
        const char *name = t->plan->groups[g].vg->head.name;
        _cleanup_strv_free_ char **pvs = xcalloc(1, sizeof(char *));
        for (size_t i = 0; i < t->plan->n_disks; i++)
                for (size_t j = 0; j < t->plan->disks[i].n_parts; j++) {
                        const Partition *p = t->plan->disks[i].parts[j].part;
                        if (p->type != PART_LVM || !streq(p->volume_group, name))
                                continue;
                        const char *dev;
                        int r = target_device(t, i, j, &dev);
                        if (r < 0)
                                return r;
                        strv_push(&pvs, dev);
                }
        *ret = TAKE_PTR(pvs);
        return 0;
}

/* The volume group a device's LVM label names, or NULL. */
static char *vg_on(const char *dev) {
        _cleanup_close_ int fd = open(dev, O_RDONLY | O_CLOEXEC);
        return fd < 0 ? NULL : lvm_vg_name_at(fd, 0, 0);
}

static int do_pv(Target *t, const Step *s) {
        const char *dev;
        int r = target_device(t, (size_t) s->disk, (size_t) s->part, &dev);
        if (r < 0)
                return r;
        /* Cut after vgcreate: the group is there, its physical volume too. */
        _cleanup_free_ char *vg = vg_on(dev);
        if (vg && streq(vg, t->plan->groups[s->group].vg->head.name))
                return 0;
        Lvm *l = target_lvm(t);
        if (!l)
                return -EIO;
        if ((r = wipe_signatures(&t->guard, dev, s->id)) < 0)
                return r;
        return lvm_pvcreate(l, dev, s->id);
}

static int do_vg(Target *t, const Step *s) {
        const VolumeGroup *vg = t->plan->groups[s->group].vg;
        _cleanup_strv_free_ char **pvs = NULL;
        int r = group_pvs(t, s->group, &pvs);
        if (r < 0)
                return r;
        Lvm *l = target_lvm(t);
        if (!l)
                return -EIO;
        _cleanup_free_ char *there = pvs[0] ? vg_on(pvs[0]) : NULL;
        if (t->plan->groups[s->group].reuse && (!there || !streq(there, vg->head.name)))
                return log_error_errno(ENOENT, "the preserved volume group %s is not on %s any more: stopping", vg->head.name, pvs[0]);
        if (!there || !streq(there, vg->head.name)) {
                log_info("volume group %s on %s", vg->head.name, pvs[0]);
                if ((r = lvm_vgcreate(l, vg->head.name, vg->extent_size, pvs, s->id)) < 0)
                        return r;
        }
        if (!t->offline && !strv_contains(t->active, vg->head.name)) {
                /* Its volumes are used until the end, then let go. */
                if ((r = lvm_activate(l, vg->head.name, true)) < 0)
                        return r;
                strv_push(&t->active, vg->head.name);
        }
        return 0;
}

/* What a volume's step works with: its group's physical volumes, LVM. */
static int volume_context(Target *t, const Step *s, char ***pvs, Lvm **l) {
        int r = group_pvs(t, s->group, pvs);
        if (r < 0)
                return r;
        *l = target_lvm(t);
        return *l ? 0 : -EIO;
}

static int do_lv(Target *t, const Step *s) {
        const PlanVolume *v = &t->plan->volumes[s->volume];
        _cleanup_strv_free_ char **pvs = NULL;
        Lvm *l;
        int r = volume_context(t, s, &pvs, &l);
        if (r < 0)
                return r;
        uint64_t have = 0;
        if (lvm_lv_size(l, v->group, v->name, &have) > 0) {
                /* Made by a run cut before its journal entry. */
                if (have != v->size)
                        return log_error_errno(EEXIST, "volume %s/%s exists with %llu bytes, the plan makes it %llu: stopping", v->group,
                                               v->name, (unsigned long long) have, (unsigned long long) v->size);
        } else if ((r = lvm_lvcreate(l, v->group, pvs, v->name, v->size, s->id)) < 0)
                return r;
        if (t->offline)
                return 0;
        _cleanup_free_ char *dev = xasprintf("/dev/%s/%s", v->group, v->name);
        if ((r = zero_ends(&t->guard, dev, v->size, s->id)) < 0)
                return r;
        /* The host's own volumes get their filesystem now; the guests' with the guests. */
        if (v->volume && v->format != FS_NONE)
                return make_filesystem(&t->guard, dev, v->format, v->volume->label, NULL, v->volume->inode_ratio, s->id);
        return 0;
}

static int do_lv_grow(Target *t, const Step *s) {
        const PlanVolume *v = &t->plan->volumes[s->volume];
        _cleanup_strv_free_ char **pvs = NULL;
        Lvm *l;
        int r = volume_context(t, s, &pvs, &l);
        if (r < 0)
                return r;
        uint64_t have = 0;
        if (lvm_lv_size(l, v->group, v->name, &have) <= 0)
                return log_error_errno(ENOENT, "the kept volume %s/%s is not there: stopping", v->group, v->name);
        /* Cut after lvextend: extended already. */
        if (have < v->size) {
                log_info("volume %s/%s: %llu -> %llu bytes", v->group, v->name, (unsigned long long) have, (unsigned long long) v->size);
                if ((r = lvm_lvextend(l, v->group, pvs, v->name, v->size, s->id)) < 0)
                        return r;
        }
        if (t->offline)
                return 0;
        _cleanup_free_ char *dev = xasprintf("/dev/%s/%s", v->group, v->name);
        return grow_filesystem(&t->guard, dev, v->format, s->id);
}

static int do_storage(Target *t, const Step *s) {
        (void) s;
        log_notice("the disks are ready (partitions, filesystems, LVM%s); the system itself installs only from the live ISO",
                   t->offline ? " metadata" : "");
        return 0;
}

static int do_done(Target *t, const Step *s) {
        (void) t;
        (void) s;
        return 0;
}

/* ---- the walk ------------------------------------------------------------------ */

typedef struct StepOps {
        int (*run)(Target *t, const Step *s);
        bool again; /* done on every run (mounts): never journalled */
} StepOps;

static const StepOps step_ops[_STEP_KIND_MAX] = {
        [STEP_CHECK] = { do_check },
        [STEP_TABLE] = { do_table },
        [STEP_FORMAT] = { do_format },
        [STEP_MOUNT] = { do_mount, .again = true },
        [STEP_PV] = { do_pv },
        [STEP_VG] = { do_vg },
        [STEP_LV] = { do_lv },
        [STEP_LV_GROW] = { do_lv_grow },
        [STEP_STORAGE] = { do_storage },
        [STEP_COPY] = { system_copy_root },
        [STEP_CHROOT] = { system_chroot, .again = true },
        [STEP_PURGE_LIVE] = { system_purge_live },
        [STEP_FILE] = { system_file },
        [STEP_SETTING] = { system_setting },
        [STEP_DIR] = { system_dir },
        [STEP_IDENTITY] = { system_identity },
        [STEP_ROOT_ACCESS] = { system_root_access },
        [STEP_DIVERT] = { grub_divert },
        [STEP_GRUB] = { grub_install },
        [STEP_UPDATE_GRUB] = { grub_update },
        [STEP_GUEST_ARCHIVE] = { guest_keep_archive },
        [STEP_GUEST] = { guest_prepare },
        [STEP_SEAT] = { system_seat },
        [STEP_DONE] = { do_done },
};

static void on_signal(int sig) {
        guard_interrupt(sig);
        /* The program we wait for stops too; a terminal's Ctrl-C reaches it already. */
        if (run_current_child > 0 && sig != SIGINT)
                kill(run_current_child, SIGTERM);
}

int apply_plan(const Plan *plan, const ApplyOptions *o) {
        Target t;
        target_init(&t, plan, o->root, o->resumed);
        struct sigaction sa = { .sa_handler = on_signal }, old[3];
        static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < ELEMENTSOF(sigs); i++)
                sigaction(sigs[i], &sa, &old[i]);

        uint64_t start = now_usec();
        int r = 0;
        /* A group a reinstall reuses may be active (the live system's udev
         * activates what it finds): let go of it, so that its disk can be
         * held; the group's step activates it again. */
        for (size_t g = 0; g < plan->n_groups && r >= 0 && !t.offline; g++) {
                if (!plan->groups[g].reuse)
                        continue;
                Lvm *l = target_lvm(&t);
                r = l ? lvm_activate(l, plan->groups[g].vg->head.name, false) : -EIO;
        }
        /* Before the first write: every disk to write is the one planned. */
        for (size_t i = 0; i < plan->n_disks && r >= 0; i++)
                if (plan->disks[i].disk->use == DISK_FORMAT)
                        r = guard_hold(&t.guard, plan->disks[i].dev, plan->disks[i].disk->head.name);
        /* A reinstall keeping the host's identity reads it before the old root goes. */
        const Step *id = plan_find_step(plan, "identity");
        size_t ri, rj;
        if (r >= 0 && id && id->keep && plan_find_mount(plan, "/", &ri, &rj)) {
                _cleanup_free_ char *fmt = xasprintf("format %s/%s", plan->disks[ri].disk->head.name, plan->disks[ri].parts[rj].part->head.name);
                if (!journal_done(&t.journal, fmt))
                        r = identity_read_old(&t);
        }
        if (r >= 0)
                r = RUN(NULL, "mkdir", "-p", t.root);
        /* Anything left mounted there by an earlier, interrupted run goes first. */
        if (r >= 0)
                umount_below(t.root);

        for (size_t i = 0; i < plan->n_steps && r >= 0; i++) {
                const Step *s = &plan->steps[i];
                const StepOps *ops = &step_ops[s->kind];
                if (!ops->again && journal_done(&t.journal, s->id))
                        continue;
                if (guard_interrupted()) {
                        r = log_error_errno(EINTR, "interrupted (%s) before '%s'", strsignal(guard_interrupted()), s->id);
                        break;
                }
                log_info("step %zu/%zu: %s", i + 1, plan->n_steps, s->id);
                /* A test's hook: stopped here, to be signalled at a known point. */
                const char *pause = getenv("HYPERION_PAUSE_BEFORE");
                if (pause && streq(pause, s->id)) {
                        log_warning("HYPERION_PAUSE_BEFORE=%s: stopping myself (SIGSTOP) until SIGCONT", s->id);
                        (void) raise(SIGSTOP);
                }
                if ((r = ops->run(&t, s)) < 0)
                        break;
                if (!ops->again)
                        r = journal_add(&t.journal, s->id);
        }
        if (r < 0 && guard_interrupted())
                r = -EINTR;
        target_release(&t);
        sync();
        for (size_t i = 0; i < ELEMENTSOF(sigs); i++)
                sigaction(sigs[i], &old[i], NULL);
        char d[32];
        format_duration(d, sizeof d, now_usec() - start);
        if (r >= 0)
                log_info("install finished in %s", d);
        else if (r == -EINTR)
                log_error("the install was interrupted after %s: nothing is mounted; run it again to carry on from the last step done", d);
        else
                log_error("the install stopped after %s; run it again to carry on from the last step done", d);
        return r;
}
