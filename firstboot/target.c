/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "target.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guard.h"
#include "log.h"
#include "partition.h"
#include "run.h"
#include "strutil.h"

int target_init(Target *t, const Plan *plan, const char *root) {
        *t = (Target) {
                .plan = plan,
                .root = xstrdup(root),
                .devs = xcalloc(plan->n_disks, sizeof(char **)),
                .loops = xcalloc(1, sizeof(char *)),
                .journal = xcalloc(1, sizeof(char *)),
        };
        for (size_t i = 0; i < plan->n_disks; i++) {
                t->devs[i] = xcalloc(plan->disks[i].n_parts + 1, sizeof(char *));
                if (plan->disks[i].disk->use == DISK_FORMAT && plan->disks[i].dev->is_file)
                        t->image_mode = true;
        }
        /* Without device-mapper (in the kernel, not just its node), LVM can
         * only write metadata. */
        _cleanup_free_ char *misc = NULL;
        t->offline = read_full_file("/proc/misc", &misc, NULL) < 0 || !strstr(misc, " device-mapper\n");
        return 0;
}

void target_release(Target *t) {
        for (char **l = t->loops; l && *l; l++)
                (void) run((char *[]) { "losetup", "--detach", *l, NULL }, NULL);
        strv_free(t->loops);
        for (size_t i = 0; t->devs && i < t->plan->n_disks; i++)
                strv_free(t->devs[i]);
        free(t->devs);
        strv_free(t->journal);
        free(t->root);
        free(t->root_image);
        *t = (Target) {};
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
        }
        *ret = t->devs[i][j];
        return 0;
}

bool target_find_mount(const Target *t, const char *path, size_t *ri, size_t *rj) {
        for (size_t i = 0; i < t->plan->n_disks; i++)
                for (size_t j = 0; j < t->plan->disks[i].n_parts; j++)
                        if (streq(t->plan->disks[i].parts[j].part->mount, path)) {
                                *ri = i;
                                *rj = j;
                                return true;
                        }
        return false;
}

/* ---- journal ------------------------------------------------------------- */

bool journal_done(const Target *t, const char *step) {
        return strv_contains(t->journal, step);
}

static int journal_write(Target *t) {
        if (!t->journal_on_disk)
                return 0;
        _cleanup_free_ char *body = strv_join(t->journal, "\n");
        _cleanup_free_ char *text = xasprintf("%s\n", body);
        _cleanup_free_ char *path = path_join(t->root, JOURNAL_PATH);
        int r = write_file_atomic(path, text, strlen(text), 0644);
        if (r < 0)
                return log_error_errno(r, "cannot write the install journal '%s': %m", path);
        return 0;
}

void journal_maybe_stop(const char *step) {
        const char *stop = getenv("HYPERION_STOP_AFTER");
        if (stop && streq(stop, step)) {
                log_warning("HYPERION_STOP_AFTER=%s: stopping here, as a power cut would", step);
                sync();
                _exit(137);
        }
}

int journal_add(Target *t, const char *step) {
        if (!journal_done(t, step))
                strv_push(&t->journal, step);
        log_debug("journal: %s", step);
        int r = journal_write(t);
        if (r < 0)
                return r;
        journal_maybe_stop(step);
        return 0;
}

int journal_attach(Target *t) {
        _cleanup_free_ char *path = path_join(t->root, JOURNAL_PATH);
        _cleanup_free_ char *text = NULL;
        if (read_full_file(path, &text, NULL) == 0) {
                _cleanup_strv_free_ char **old = strv_split_lines(text);
                for (char **s = old; *s; s++)
                        if (!journal_done(t, *s))
                                strv_push(&t->journal, *s);
                log_info("resuming: the journal of an earlier run lists %zu steps done", strv_length(old));
        }
        _cleanup_free_ char *dir = path_join(t->root, "var/lib/hyperion");
        int r = RUN(NULL, "mkdir", "-p", dir);
        if (r < 0)
                return r;
        t->journal_on_disk = true;
        return journal_write(t);
}
