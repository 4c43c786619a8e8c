/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "guard.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "log.h"
#include "macro.h"
#include "strutil.h"

/* An allowed disk: a whole block device (its devno) or a file (dev, inode). */
typedef struct Allowed {
        bool is_file;
        dev_t dev;
        ino_t ino;
        char *path;
} Allowed;

static Allowed *allowed;
static size_t n_allowed;

void guard_reset(void) {
        for (size_t i = 0; i < n_allowed; i++)
                free(allowed[i].path);
        free(allowed);
        allowed = NULL;
        n_allowed = 0;
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

int guard_allow(const char *path) {
        struct stat st;
        if (stat(path, &st) < 0)
                return log_error_errno(errno, "cannot stat '%s': %m", path);
        allowed = xrealloc(allowed, (n_allowed + 1) * sizeof(Allowed));
        Allowed *a = &allowed[n_allowed++];
        *a = (Allowed) { .path = xstrdup(path) };
        if (S_ISBLK(st.st_mode))
                a->dev = whole_disk(st.st_rdev);
        else if (S_ISREG(st.st_mode)) {
                a->is_file = true;
                a->dev = st.st_dev;
                a->ino = st.st_ino;
        } else
                return log_error_errno(ENOTBLK, "'%s' is neither a block device nor an image file", path);
        return 0;
}

static bool file_allowed(const struct stat *st) {
        for (size_t i = 0; i < n_allowed; i++)
                if (allowed[i].is_file && allowed[i].dev == st->st_dev && allowed[i].ino == st->st_ino)
                        return true;
        return false;
}

static bool devno_writable(dev_t d, int depth);

/* A loop device over an allowed file. */
static bool loop_writable(dev_t d) {
        char p[128];
        snprintf(p, sizeof p, "/sys/dev/block/%u:%u/loop/backing_file", major(d), minor(d));
        _cleanup_free_ char *f = NULL;
        if (read_full_file(p, &f, NULL) < 0)
                return false;
        strstrip(f);
        struct stat st;
        return stat(f, &st) == 0 && S_ISREG(st.st_mode) && file_allowed(&st);
}

/* A device-mapper device (an LVM volume) whose every slave is writable. */
static bool dm_writable(dev_t d, int depth) {
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
                all &= devno_writable(makedev(ma, mi), depth + 1);
        }
        closedir(dir);
        return any && all;
}

static bool devno_writable(dev_t d, int depth) {
        if (depth > 8)
                return false;
        dev_t w = whole_disk(d);
        for (size_t i = 0; i < n_allowed; i++)
                if (!allowed[i].is_file && allowed[i].dev == w)
                        return true;
        return loop_writable(w) || dm_writable(d, depth);
}

bool guard_writable(const char *path) {
        struct stat st;
        if (stat(path, &st) < 0)
                return false;
        if (S_ISREG(st.st_mode))
                return file_allowed(&st);
        if (S_ISBLK(st.st_mode))
                return devno_writable(st.st_rdev, 0);
        return false;
}

int guard_check(const char *path) {
        if (guard_writable(path))
                return 0;
        return log_error_errno(EPERM, "refusing to write to '%s': it is not on a disk the profile marks Use=format", path);
}
