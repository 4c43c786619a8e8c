/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "target.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "log.h"
#include "mount-util.h"
#include "partition.h"
#include "run.h"
#include "strutil.h"

int target_init(Target *t, const Plan *plan, const char *root, const Journal *resumed) {
        *t = (Target) {
                .plan = plan,
                .root = xstrdup(root),
                .devs = xcalloc(plan->n_disks, sizeof(char **)),
                .loops = xcalloc(1, sizeof(char *)),
                .active = xcalloc(1, sizeof(char *)),
                /* Image files: LVM metadata only, nothing activated. */
                .offline = plan->storage_only || !plan->inventory->device_mapper,
        };
        for (size_t i = 0; i < plan->n_disks; i++)
                t->devs[i] = xcalloc(plan->disks[i].n_parts + 1, sizeof(char *));
        journal_init(&t->journal, plan->identity, plan->seed);
        journal_set_layout(&t->journal, plan->layout, plan->previous);
        for (char **s = resumed ? resumed->steps : NULL; s && *s; s++)
                strv_push(&t->journal.steps, *s);
        return 0;
}

void target_release(Target *t) {
        if (t->chroot)
                chroot_umount(t->root);
        if (t->root)
                umount_below(t->root);
        for (char **g = t->active; g && *g; g++)
                (void) lvm_activate(&t->lvm, *g, false);
        if (t->lvm_open)
                lvm_close(&t->lvm);
        for (char **l = t->loops; l && *l; l++)
                (void) run((char *[]) { "losetup", "--detach", *l, NULL }, NULL);
        strv_free(t->loops);
        strv_free(t->active);
        strv_free(t->identity);
        /* Not strv_free: partitions are attached in the steps' order, with gaps. */
        for (size_t i = 0; t->devs && i < t->plan->n_disks; i++) {
                for (size_t j = 0; j < t->plan->disks[i].n_parts; j++)
                        free(t->devs[i][j]);
                free(t->devs[i]);
        }
        free(t->devs);
        journal_release(&t->journal);
        guard_release(&t->guard);
        free(t->root);
        *t = (Target) {};
}

Lvm *target_lvm(Target *t) {
        if (!t->lvm_open) {
                if (lvm_open(&t->lvm, &t->guard, t->offline) < 0)
                        return NULL;
                t->lvm_open = true;
        }
        return &t->lvm;
}

static int attach_loop(Target *t, const char *file, uint64_t offset, uint64_t size, char **ret) {
        _cleanup_free_ char *o = xasprintf("%" PRIu64, offset), *s = xasprintf("%" PRIu64, size), *out = NULL;
        RunOptions ro = { .capture = &out };
        int r = run_ok((char *[]) { "losetup", "--find", "--show", "--offset", o, "--sizelimit", s, (char *) file, NULL }, &ro);
        if (r < 0)
                return log_error_errno(r, "cannot attach a loop device to '%s'", file);
        strstrip(out);
        strv_push(&t->loops, out);
        *ret = TAKE_PTR(out);
        return 0;
}

/* A new partition's node appears when udev has seen the new table. */
static int wait_for_node(const char *node) {
        (void) run((char *[]) { "udevadm", "settle", "--timeout=10", NULL }, &(RunOptions) { .quiet = true });
        for (int i = 0; i < 100; i++) {
                struct stat st;
                if (stat(node, &st) == 0 && S_ISBLK(st.st_mode))
                        return 0;
                usleep(100 * 1000);
        }
        return log_error_errno(ENOENT, "the partition '%s' did not appear after 10 s", node);
}

int target_device(Target *t, size_t i, size_t j, const char **ret) {
        const PlanDisk *pd = &t->plan->disks[i];
        if (!t->devs[i][j]) {
                const PlanPartition *x = &pd->parts[j];
                int r;
                if (pd->dev->is_file)
                        r = attach_loop(t, pd->dev->path, x->start, x->size, &t->devs[i][j]);
                else {
                        t->devs[i][j] = partition_node(pd->dev->path, x->number);
                        r = wait_for_node(t->devs[i][j]);
                }
                if (r < 0)
                        return r;
                /* The node must be a partition of the disk the guard holds. */
                if (!guard_writable(&t->guard, t->devs[i][j]))
                        return log_error_errno(ENXIO, "'%s' is not a partition of the disk '%s' the install holds: stopping",
                                               t->devs[i][j], pd->disk->head.name);
        }
        *ret = t->devs[i][j];
        return 0;
}

void dev_nodes_free(DevNode *nodes, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free((char *) nodes[i].name);
                free((char *) nodes[i].link);
        }
        free(nodes);
}

static void add_node(DevNode **l, size_t *n, char *name, dev_t devno, char *link) {
        *l = xrealloc(*l, (*n + 1) * sizeof(DevNode));
        (*l)[(*n)++] = (DevNode) { .name = name, .devno = devno, .link = link };
}

DevNode *target_dev_nodes(const Plan *plan, size_t *n) {
        DevNode *l = NULL;
        *n = 0;
        for (size_t i = 0; i < plan->n_disks; i++) {
                const PlanDisk *pd = &plan->disks[i];
                if (pd->disk->use != DISK_FORMAT || pd->dev->is_file)
                        continue;
                add_node(&l, n, xstrdup(pd->dev->name), pd->dev->devno, NULL);
                for (size_t j = 0; j < pd->n_parts; j++) {
                        _cleanup_free_ char *node = partition_node(pd->dev->name, pd->parts[j].number);
                        /* Its number, from the kernel's view of the disk. */
                        _cleanup_free_ char *sys = xasprintf("/sys/dev/block/%u:%u/%s/dev", major(pd->dev->devno), minor(pd->dev->devno),
                                                             node);
                        _cleanup_free_ char *text = NULL;
                        unsigned ma, mi;
                        if (read_full_file(sys, &text, NULL) < 0 || sscanf(text, "%u:%u", &ma, &mi) != 2)
                                continue;
                        add_node(&l, n, xstrdup(node), makedev(ma, mi), NULL);
                        if (!isempty(pd->parts[j].uuid))
                                add_node(&l, n, xasprintf("disk/by-uuid/%s", pd->parts[j].uuid), 0, xasprintf("../../%s", node));
                }
        }
        return l;
}

int target_chroot(Target *t) {
        if (t->chroot)
                return 0;
        size_t n;
        DevNode *nodes = target_dev_nodes(t->plan, &n);
        int r = chroot_mount(t->root, nodes, n);
        dev_nodes_free(nodes, n);
        if (r < 0)
                return r;
        t->chroot = true;
        return 0;
}
