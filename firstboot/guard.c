/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "guard.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "strutil.h"

static volatile sig_atomic_t interrupted;

void guard_interrupt(int sig) {
        interrupted = sig;
}

int guard_interrupted(void) {
        return interrupted;
}

/* The devno of the whole disk a block device belongs to. */
static dev_t whole_disk(dev_t d) {
        char sys[128];
        snprintf(sys, sizeof sys, "/sys/dev/block/%u:%u/partition", major(d), minor(d));
        struct stat st;
        if (stat(sys, &st) < 0)
                return d;
        snprintf(sys, sizeof sys, "/sys/dev/block/%u:%u/../dev", major(d), minor(d));
        _cleanup_free_ char *t = NULL;
        unsigned ma, mi;
        if (read_full_file(sys, &t, NULL) < 0 || sscanf(t, "%u:%u", &ma, &mi) != 2)
                return d;
        return makedev(ma, mi);
}

static char *describe(const ProbedDisk *d) {
        return xasprintf("%s%s%s%s%s", isempty(d->model) ? "(no model)" : d->model, isempty(d->serial) ? "" : " serial ", d->serial,
                         isempty(d->wwn) ? "" : " wwn ", d->wwn);
}

/* Is the block device open on fd the disk the probe saw? */
static int check_block(const ProbedDisk *d, const char *name, int fd, dev_t *devno) {
        struct stat st;
        if (fstat(fd, &st) < 0)
                return log_error_errno(errno, "cannot stat '%s': %m", d->path);
        if (!S_ISBLK(st.st_mode))
                return log_error_errno(ENOTBLK, "disk '%s': '%s' is no longer a block device: nothing was written", name, d->path);
        if (st.st_rdev != d->devno)
                return log_error_errno(ENXIO,
                                       "disk '%s': %s is now device %u:%u, not the %u:%u the plan was made for (a disk was unplugged "
                                       "or plugged in since): nothing was written; run the installer again",
                                       name, d->path, major(st.st_rdev), minor(st.st_rdev), major(d->devno), minor(d->devno));
        uint64_t size = 0;
        if (ioctl(fd, BLKGETSIZE64, &size) < 0)
                return log_error_errno(errno, "cannot read the size of '%s': %m", d->path);
        ProbedDisk now;
        disk_init(&now, d->path, d->name);
        _cleanup_free_ char *devs = xasprintf("%u:%u", major(st.st_rdev), minor(st.st_rdev));
        probe_identity(&now, devs);
        int r = 0;
        if (size != d->size || !streq(now.model, d->model) || !streq(now.serial, d->serial) || !streq(now.wwn, d->wwn)) {
                _cleanup_free_ char *was = describe(d), *is = describe(&now);
                r = log_error_errno(ENXIO,
                                    "disk '%s': %s is now %s, %llu bytes, not %s, %llu bytes, that the plan was made for: nothing was "
                                    "written; run the installer again",
                                    name, d->path, is, (unsigned long long) size, was, (unsigned long long) d->size);
        }
        disk_done(&now);
        *devno = st.st_rdev;
        return r;
}

int guard_hold(Guard *g, const ProbedDisk *d, const char *name) {
        HeldDisk h = { .path = xstrdup(d->path), .name = xstrdup(name), .fd = -EBADF, .is_file = d->is_file };
        int r = 0;
        if (d->is_file) {
                h.fd = open(d->path, O_RDONLY | O_CLOEXEC);
                struct stat st;
                if (h.fd < 0)
                        r = log_error_errno(errno, "disk '%s': cannot open '%s': %m", name, d->path);
                else if (fstat(h.fd, &st) < 0)
                        r = log_error_errno(errno, "cannot stat '%s': %m", d->path);
                else if (!S_ISREG(st.st_mode) || st.st_dev != d->devno || st.st_ino != d->ino || (uint64_t) st.st_size != d->size)
                        r = log_error_errno(ENXIO,
                                            "disk '%s': '%s' is not the image file the plan was made for (another file is there, or its "
                                            "size changed): nothing was written; run the installer again",
                                            name, d->path);
                else {
                        h.fdev = st.st_dev;
                        h.ino = st.st_ino;
                }
        } else {
                /* Exclusive: nothing may hold it now (a mount, swap, LVM). */
                _cleanup_close_ int ex = open(d->path, O_RDONLY | O_CLOEXEC | O_EXCL | O_NONBLOCK);
                if (ex < 0)
                        r = errno == EBUSY ? log_error_errno(EBUSY,
                                                             "disk '%s' (%s) is busy: something holds it (mounted, swap, an active "
                                                             "volume group): nothing was written",
                                                             name, d->path)
                                           : log_error_errno(errno, "disk '%s': cannot open '%s': %m", name, d->path);
                else if ((r = check_block(d, name, ex, &h.devno)) >= 0) {
                        h.fd = open(d->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
                        struct stat st;
                        if (h.fd < 0 || fstat(h.fd, &st) < 0 || st.st_rdev != h.devno)
                                r = log_error_errno(ENXIO, "disk '%s': %s changed while it was opened: nothing was written", name,
                                                    d->path);
                }
        }
        if (r < 0) {
                if (h.fd >= 0)
                        close(h.fd);
                free(h.path);
                free(h.name);
                return r;
        }
        g->disks = xrealloc(g->disks, (g->n_disks + 1) * sizeof(HeldDisk));
        g->disks[g->n_disks++] = h;
        log_debug("holding disk '%s': %s", name, d->path);
        return 0;
}

void guard_release(Guard *g) {
        for (size_t i = 0; i < g->n_disks; i++) {
                if (g->disks[i].fd >= 0)
                        close(g->disks[i].fd);
                free(g->disks[i].path);
                free(g->disks[i].name);
        }
        free(g->disks);
        free(g->allowed);
        strv_free(g->volumes);
        *g = (Guard) {};
}

int guard_allow_device(Guard *g, const char *path) {
        struct stat st;
        if (stat(path, &st) < 0 || !S_ISBLK(st.st_mode))
                return log_error_errno(ENODEV, "'%s' is not a block device", path);
        g->allowed = xrealloc(g->allowed, (g->n_allowed + 1) * sizeof(dev_t));
        g->allowed[g->n_allowed++] = st.st_rdev;
        return 0;
}

/* device-mapper's name of VG/LV: each '-' doubled, joined by '-'. */
static char *dm_name(const char *vg, const char *lv) {
        size_t n = 0;
        for (const char *p = vg; *p; p++)
                n += *p == '-' ? 2 : 1;
        for (const char *p = lv; *p; p++)
                n += *p == '-' ? 2 : 1;
        char *s = xcalloc(n + 2, 1), *o = s;
        for (const char *p = vg; *p; p++)
                o = *p == '-' ? stpcpy(o, "--") : (*o = *p, o + 1);
        *o++ = '-';
        for (const char *p = lv; *p; p++)
                o = *p == '-' ? stpcpy(o, "--") : (*o = *p, o + 1);
        return s;
}

void guard_allow_volume(Guard *g, const char *vg, const char *lv) {
        if (!g->volumes)
                g->volumes = xcalloc(1, sizeof(char *));
        strv_consume(&g->volumes, dm_name(vg, lv));
}

static bool allowed(const Guard *g, dev_t d) {
        for (size_t i = 0; i < g->n_allowed; i++)
                if (g->allowed[i] == d)
                        return true;
        if (!g->volumes || !g->volumes[0])
                return false;
        char p[128];
        snprintf(p, sizeof p, "/sys/dev/block/%u:%u/dm/name", major(d), minor(d));
        _cleanup_free_ char *name = NULL;
        if (read_full_file(p, &name, NULL) < 0)
                return false;
        return strv_contains(g->volumes, strstrip(name));
}

static bool file_held(const Guard *g, const struct stat *st) {
        for (size_t i = 0; i < g->n_disks; i++)
                if (g->disks[i].is_file && g->disks[i].fdev == st->st_dev && g->disks[i].ino == st->st_ino)
                        return true;
        return false;
}

static bool devno_writable(const Guard *g, dev_t d, int depth);

/* A loop device over a held file (its backing file now, by inode). */
static bool loop_writable(const Guard *g, dev_t d) {
        char p[128];
        snprintf(p, sizeof p, "/sys/dev/block/%u:%u/loop/backing_file", major(d), minor(d));
        _cleanup_free_ char *f = NULL;
        if (read_full_file(p, &f, NULL) < 0)
                return false;
        strstrip(f);
        struct stat st;
        return stat(f, &st) == 0 && S_ISREG(st.st_mode) && file_held(g, &st);
}

/* A device-mapper device (an LVM volume) whose every slave is writable. */
static bool dm_writable(const Guard *g, dev_t d, int depth) {
        char p[128];
        snprintf(p, sizeof p, "/sys/dev/block/%u:%u/slaves", major(d), minor(d));
        DIR *dir = opendir(p);
        if (!dir)
                return false;
        bool any = false, all = true;
        struct dirent *e;
        while ((e = readdir(dir))) {
                if (e->d_name[0] == '.')
                        continue;
                char q[512];
                snprintf(q, sizeof q, "%s/%s/dev", p, e->d_name);
                _cleanup_free_ char *t = NULL;
                unsigned ma, mi;
                if (read_full_file(q, &t, NULL) < 0 || sscanf(t, "%u:%u", &ma, &mi) != 2) {
                        all = false;
                        continue;
                }
                any = true;
                all &= devno_writable(g, makedev(ma, mi), depth + 1);
        }
        closedir(dir);
        return any && all;
}

static bool devno_writable(const Guard *g, dev_t d, int depth) {
        if (depth > 8)
                return false;
        /* Named ones count as themselves only: a physical volume allowed for
         * LVM's metadata makes no other volume on it writable. */
        if (depth == 0 && allowed(g, d))
                return true;
        dev_t w = whole_disk(d);
        for (size_t i = 0; i < g->n_disks; i++)
                if (!g->disks[i].is_file && g->disks[i].devno == w)
                        return true;
        return loop_writable(g, w) || dm_writable(g, d, depth);
}

bool guard_writable(const Guard *g, const char *path) {
        struct stat st;
        if (!g || stat(path, &st) < 0)
                return false;
        if (S_ISREG(st.st_mode))
                return file_held(g, &st);
        if (S_ISBLK(st.st_mode))
                return devno_writable(g, st.st_rdev, 0);
        return false;
}

static void write_point(const char *what) {
        const char *list = getenv("HYPERION_WRITE_POINTS");
        if (!isempty(list)) {
                FILE *f = fopen(list, "ae");
                if (f) {
                        fprintf(f, "%s\n", what);
                        fclose(f);
                }
        }
        const char *fail = getenv("HYPERION_FAIL_AT");
        if (!isempty(fail) && streq(fail, what)) {
                log_warning("HYPERION_FAIL_AT: stopping before '%s', as a power cut would", what);
                sync();
                _exit(137);
        }
}

int guard_write(const Guard *g, const char *path, const char *what) {
        if (interrupted)
                return log_error_errno(EINTR, "interrupted (%s) before '%s'", strsignal(interrupted), what);
        if (!guard_writable(g, path))
                return log_error_errno(EPERM, "refusing to write to '%s' (%s): it is not on a disk the profile marks Use=format", path,
                                       what);
        log_debug("write: %s (%s)", what, path);
        write_point(what);
        return 0;
}
