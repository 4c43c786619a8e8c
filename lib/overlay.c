/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * overlay.c: an overlay folder laid over the image's root, and nothing
 * outside it ever reached.
 *
 * Debian trees hold symbolic links, absolute ones among them
 * (etc/localtime -> /usr/share/zoneinfo/..., lib -> usr/lib): a copy that
 * follows them as the build host sees them writes into the build host.
 * Here every path is resolved inside the root, as if the root were /: a
 * link met on the way is followed within the root (an absolute one from
 * the root, ".." never above it), and the last component is never
 * followed: an overlay file whose destination is a link replaces the link.
 *
 * What the overlay lays is owned by root:root (a tree cloned by a normal
 * user must not make uid 1000 the owner of the image's files), with its
 * modes and times, unless [Image] OverlayOwners=keep; folders that the
 * image has already keep their owner and mode.
 */
#include "overlay.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "strutil.h"

#define MAX_LINKS 40

/* The folder rel ('/'-separated, from the folder start), resolved within
 * the root, created where missing (mode, owner): an O_DIRECTORY descriptor. */
static int open_dir_in_root(int root, int start, const char *rel, mode_t mode, uid_t uid, gid_t gid, bool create, int *ret) {
        _cleanup_free_ char *todo = xstrdup(rel);
        int cur = fcntl(start, F_DUPFD_CLOEXEC, 3);
        if (cur < 0)
                return -errno;
        unsigned links = 0;
        char *save = NULL;
        /* A queue of components: a link's target is put in front of the rest. */
        _cleanup_strv_free_ char **queue = xcalloc(1, sizeof(char *));
        for (char *c = strtok_r(todo, "/", &save); c; c = strtok_r(NULL, "/", &save))
                strv_push(&queue, c);
        size_t i = 0;
        while (queue[i]) {
                const char *c = queue[i++];
                if (streq(c, "."))
                        continue;
                if (streq(c, "..")) {
                        /* Never above the root: the root's parent is itself. */
                        struct stat a, b;
                        if (fstat(cur, &a) == 0 && fstat(root, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
                                continue;
                        int up = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                        close(cur);
                        if (up < 0)
                                return -errno;
                        cur = up;
                        continue;
                }
                struct stat st;
                if (fstatat(cur, c, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno != ENOENT || !create) {
                                int r = -errno;
                                close(cur);
                                return r;
                        }
                        if (mkdirat(cur, c, mode) < 0 || fchownat(cur, c, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ||
                            fchmodat(cur, c, mode, 0) < 0) {
                                int r = -errno;
                                close(cur);
                                return r;
                        }
                        if (fstatat(cur, c, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                                int r = -errno;
                                close(cur);
                                return r;
                        }
                }
                if (S_ISLNK(st.st_mode)) {
                        if (++links > MAX_LINKS) {
                                close(cur);
                                return -ELOOP;
                        }
                        char target[PATH_MAX];
                        ssize_t n = readlinkat(cur, c, target, sizeof target - 1);
                        if (n < 0) {
                                int r = -errno;
                                close(cur);
                                return r;
                        }
                        target[n] = 0;
                        bool absolute = target[0] == '/';
                        /* The target's components, then what was left. */
                        char **rest = strv_copy(queue + i);
                        strv_free(queue);
                        queue = xcalloc(1, sizeof(char *));
                        char *s2 = NULL;
                        for (char *t = strtok_r(target, "/", &s2); t; t = strtok_r(NULL, "/", &s2))
                                strv_push(&queue, t);
                        for (char **r = rest; *r; r++)
                                strv_push(&queue, *r);
                        strv_free(rest);
                        i = 0;
                        if (absolute) {
                                /* From the root: the image's /, not the build host's. */
                                close(cur);
                                cur = fcntl(root, F_DUPFD_CLOEXEC, 3);
                                if (cur < 0)
                                        return -errno;
                        }
                        continue;
                }
                if (!S_ISDIR(st.st_mode)) {
                        close(cur);
                        return -ENOTDIR;
                }
                int next = openat(cur, c, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                close(cur);
                if (next < 0)
                        return -errno;
                cur = next;
        }
        *ret = cur;
        return 0;
}

typedef struct Lay {
        int root;
        bool keep_owners;
        unsigned files, dirs, links;
} Lay;

static int copy_file(int from, int to) {
        char buf[65536];
        for (;;) {
                ssize_t n = read(from, buf, sizeof buf);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return 0;
                for (ssize_t off = 0; off < n;) {
                        ssize_t k = write(to, buf + off, (size_t) (n - off));
                        if (k < 0) {
                                if (errno == EINTR)
                                        continue;
                                return -errno;
                        }
                        off += k;
                }
        }
}

/* One entry of the overlay (src, relative path rel) onto the root. */
static int lay_entry(Lay *l, const char *src, const char *rel, const struct stat *st) {
        uid_t uid = l->keep_owners ? st->st_uid : 0;
        gid_t gid = l->keep_owners ? st->st_gid : 0;
        mode_t mode = st->st_mode & 07777;
        _cleanup_free_ char *parent = xstrdup(rel);
        char *slash = strrchr(parent, '/');
        const char *name = slash ? slash + 1 : parent;
        if (slash)
                *slash = 0;
        _cleanup_close_ int dir = -EBADF;
        /* Missing folders on the way: made as the overlay's own would be, 0755. */
        int r = open_dir_in_root(l->root, l->root, slash ? parent : ".", 0755, uid, gid, true, &dir);
        if (r < 0)
                return log_error_errno(r, "overlay: cannot reach the folder of '%s' inside the image: %m", rel);
        struct stat have;
        bool exists = fstatat(dir, name, &have, AT_SYMLINK_NOFOLLOW) == 0;

        if (S_ISDIR(st->st_mode)) {
                if (exists && (S_ISDIR(have.st_mode) || S_ISLNK(have.st_mode))) {
                        /* The image's own folder (or a link to one, followed
                         * within the root) keeps its owner and mode. */
                        _cleanup_close_ int d = -EBADF;
                        r = open_dir_in_root(l->root, dir, name, 0755, uid, gid, true, &d);
                        return r < 0 ? log_error_errno(r, "overlay: '%s' in the image is not a folder inside it: %m", rel) : 0;
                }
                if (exists && unlinkat(dir, name, 0) < 0)
                        return log_error_errno(errno, "overlay: cannot replace '%s': %m", rel);
                if (mkdirat(dir, name, mode) < 0 || fchownat(dir, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ||
                    fchmodat(dir, name, mode, 0) < 0)
                        return log_error_errno(errno, "overlay: cannot make the folder '%s': %m", rel);
                l->dirs++;
                return 0;
        }
        /* A file or a link replaces whatever the image has there, a link
         * included: never written through. */
        if (exists) {
                if (S_ISDIR(have.st_mode))
                        return log_error_errno(EISDIR, "overlay: '%s' is a folder in the image, a file in the overlay", rel);
                if (unlinkat(dir, name, 0) < 0)
                        return log_error_errno(errno, "overlay: cannot replace '%s': %m", rel);
        }
        if (S_ISLNK(st->st_mode)) {
                char target[PATH_MAX];
                ssize_t n = readlink(src, target, sizeof target - 1);
                if (n < 0)
                        return log_error_errno(errno, "overlay: cannot read the link '%s': %m", src);
                target[n] = 0;
                if (symlinkat(target, dir, name) < 0 || fchownat(dir, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                        return log_error_errno(errno, "overlay: cannot make the link '%s': %m", rel);
                struct timespec t[2] = { st->st_atim, st->st_mtim };
                (void) utimensat(dir, name, t, AT_SYMLINK_NOFOLLOW);
                l->links++;
                return 0;
        }
        if (!S_ISREG(st->st_mode))
                return log_error_errno(EINVAL, "overlay: '%s' is not a file, folder or link: an overlay holds nothing else", src);
        _cleanup_close_ int in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        _cleanup_close_ int out = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (in < 0 || out < 0)
                return log_error_errno(errno, "overlay: cannot copy '%s': %m", rel);
        struct timespec t[2] = { st->st_atim, st->st_mtim };
        if ((r = copy_file(in, out)) < 0 || fchown(out, uid, gid) < 0 || fchmod(out, mode) < 0 || futimens(out, t) < 0)
                return log_error_errno(r < 0 ? r : -errno, "overlay: cannot copy '%s': %m", rel);
        l->files++;
        return 0;
}

static int lay_tree(Lay *l, const char *src, const char *rel) {
        struct dirent **list = NULL;
        int n = scandir(src, &list, NULL, alphasort);
        if (n < 0)
                return log_error_errno(errno, "overlay: cannot read '%s': %m", src);
        int r = 0;
        for (int i = 0; i < n; i++) {
                const char *name = list[i]->d_name;
                /* git's placeholder for an empty folder is not ours to lay. */
                if (r >= 0 && !streq(name, ".") && !streq(name, "..") && !(rel[0] == 0 && streq(name, ".keep"))) {
                        _cleanup_free_ char *s = path_join(src, name);
                        _cleanup_free_ char *d = rel[0] ? xasprintf("%s/%s", rel, name) : xstrdup(name);
                        struct stat st;
                        if (lstat(s, &st) < 0)
                                r = log_error_errno(errno, "overlay: cannot stat '%s': %m", s);
                        else if ((r = lay_entry(l, s, d, &st)) >= 0 && S_ISDIR(st.st_mode))
                                r = lay_tree(l, s, d);
                }
                free(list[i]);
        }
        free(list);
        return r;
}

int overlay_lay(const char *overlay, const char *root, bool keep_owners) {
        _cleanup_close_ int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "cannot open the image root '%s': %m", root);
        Lay l = { .root = fd, .keep_owners = keep_owners };
        int r = lay_tree(&l, overlay, "");
        if (r >= 0)
                log_info("overlay: %u files, %u folders, %u links laid over the root", l.files, l.dirs, l.links);
        return r;
}
