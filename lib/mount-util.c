/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "mount-util.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "log.h"
#include "macro.h"
#include "strutil.h"

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static char *unescape(const char *s) {
        char *r = xmalloc(strlen(s) + 1), *q = r;
        for (const char *p = s; *p; p++) {
                if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0' && p[3] <= '7') {
                        *q++ = (char) ((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
                        p += 3;
                } else
                        *q++ = *p;
        }
        *q = 0;
        return r;
}

char **mounts_below(const char *dir) {
        char **l = xcalloc(1, sizeof(char *));
        char real[PATH_MAX];
        if (!realpath(dir, real))
                return l;
        size_t n = strlen(real);
        _cleanup_free_ char *mi = NULL;
        if (read_full_file("/proc/self/mountinfo", &mi, NULL) < 0)
                return l;
        char *save = NULL;
        for (char *line = strtok_r(mi, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char mp[PATH_MAX];
                if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1)
                        continue;
                _cleanup_free_ char *m = unescape(mp);
                if (strneq(m, real, n) && (m[n] == 0 || m[n] == '/' || streq(real, "/")))
                        strv_push(&l, m);
        }
        return l;
}

static int cmp_depth(const void *a, const void *b) {
        /* Longer paths first: children before their parents. */
        size_t la = strlen(*(char *const *) a), lb = strlen(*(char *const *) b);
        return la < lb ? 1 : la > lb ? -1 : strcmp(*(char *const *) a, *(char *const *) b);
}

int umount_below(const char *dir) {
        int ret = 0;
        /* A mount may hide others; go again until nothing is left. */
        for (int round = 0; round < 8; round++) {
                _cleanup_strv_free_ char **l = mounts_below(dir);
                size_t n = strv_length(l);
                if (n == 0)
                        return ret;
                qsort(l, n, sizeof(char *), cmp_depth);
                for (size_t i = 0; i < n; i++) {
                        if (umount2(l[i], UMOUNT_NOFOLLOW) == 0) {
                                log_debug("unmounted %s", l[i]);
                                continue;
                        }
                        if (errno == EINVAL || errno == ENOENT)
                                continue; /* already gone with its parent */
                        /* Busy: detach it now, the kernel frees it when it can. */
                        if (umount2(l[i], MNT_DETACH | UMOUNT_NOFOLLOW) < 0) {
                                ret = log_warning_errno(errno, "cannot unmount '%s': %m", l[i]);
                        } else
                                log_debug("detached busy mount %s", l[i]);
                }
        }
        return ret;
}

static int mount_one(const char *src, const char *root, const char *where, const char *type, unsigned long flags,
                     const char *data) {
        _cleanup_free_ char *target = path_join(root, where);
        if (mkdir(target, 0755) < 0 && errno != EEXIST)
                return log_error_errno(errno, "cannot create '%s': %m", target);
        if (mount(src, target, type, flags, data) < 0)
                return log_error_errno(errno, "cannot mount %s on '%s': %m", type ? type : src, target);
        /* Nothing mounted in the chroot goes back to the host, nor the reverse. */
        if ((flags & MS_BIND) && mount(NULL, target, NULL, MS_SLAVE | MS_REC, NULL) < 0)
                return log_error_errno(errno, "cannot make '%s' a slave mount: %m", target);
        return 0;
}

/* The tree's own /dev: no device of the machine but those named. */
static int private_dev(const char *root, const DevNode *nodes, size_t n) {
        static const struct {
                const char *name;
                unsigned major, minor;
                mode_t mode;
        } chars[] = {
                { "null", 1, 3, 0666 }, { "zero", 1, 5, 0666 }, { "full", 1, 7, 0666 },
                { "random", 1, 8, 0666 }, { "urandom", 1, 9, 0666 }, { "tty", 5, 0, 0666 },
        };
        static const struct {
                const char *name, *target;
        } links[] = {
                { "fd", "/proc/self/fd" }, { "stdin", "/proc/self/fd/0" }, { "stdout", "/proc/self/fd/1" },
                { "stderr", "/proc/self/fd/2" }, { "ptmx", "pts/ptmx" },
        };
        _cleanup_free_ char *dev = path_join(root, "dev");
        int r = mount_one("tmpfs", root, "dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=4m");
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(chars); i++) {
                _cleanup_free_ char *p = path_join(dev, chars[i].name);
                if (mknod(p, S_IFCHR | chars[i].mode, makedev(chars[i].major, chars[i].minor)) < 0 || chmod(p, chars[i].mode) < 0)
                        return log_error_errno(errno, "cannot make '%s': %m", p);
        }
        for (size_t i = 0; i < ELEMENTSOF(links); i++) {
                _cleanup_free_ char *p = path_join(dev, links[i].name);
                if (symlink(links[i].target, p) < 0)
                        return log_error_errno(errno, "cannot make '%s': %m", p);
        }
        if ((r = mount_one("devpts", root, "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620")) < 0 ||
            (r = mount_one("tmpfs", root, "dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")) < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *p = path_join(dev, nodes[i].name);
                _cleanup_free_ char *dir = xstrdup(p);
                char *slash = strrchr(dir, '/');
                *slash = 0;
                for (char *s = dir + strlen(dev) + 1; *s; s++)
                        if (*s == '/') {
                                *s = 0;
                                (void) mkdir(dir, 0755);
                                *s = '/';
                        }
                (void) mkdir(dir, 0755);
                if (nodes[i].link ? symlink(nodes[i].link, p) < 0 : mknod(p, S_IFBLK | 0660, nodes[i].devno) < 0)
                        return log_error_errno(errno, "cannot make '%s': %m", p);
        }
        return 0;
}

int chroot_mount(const char *root, const DevNode *nodes, size_t n_nodes) {
        int r;
        if ((r = mount_one("proc", root, "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)) < 0 ||
            (r = mount_one("sysfs", root, "sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL)) < 0 ||
            (r = private_dev(root, nodes, n_nodes)) < 0 ||
            (r = mount_one("tmpfs", root, "run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755")) < 0) {
                chroot_umount(root);
                return r;
        }
        return 0;
}

int chroot_umount(const char *root) {
        static const char *const sub[] = { "proc", "sys", "dev", "run" };
        int ret = 0;
        for (size_t i = 0; i < ELEMENTSOF(sub); i++) {
                _cleanup_free_ char *p = path_join(root, sub[i]);
                int r = umount_below(p);
                if (r < 0)
                        ret = r;
        }
        return ret;
}
