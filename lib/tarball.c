/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "tarball.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "strutil.h"

static void archive_write_freep(struct archive **a) {
        if (*a)
                archive_write_free(*a);
}

static void archive_read_freep(struct archive **a) {
        if (*a)
                archive_read_free(*a);
}

static void archive_entry_freep(struct archive_entry **e) {
        if (*e)
                archive_entry_free(*e);
}

static void linkresolver_freep(struct archive_entry_linkresolver **l) {
        if (*l)
                archive_entry_linkresolver_free(*l);
}

/* A libarchive failure as a negative errno, its own message kept. */
static int archive_error(struct archive *a, const char *what, const char *path) {
        int e = archive_errno(a);
        return log_error_errno(e > 0 ? e : EIO, "%s '%s': %s", what, path, strempty(archive_error_string(a)));
}

typedef struct Writer {
        struct archive *out;
        struct archive *disk; /* to read metadata (xattrs, ACLs) of files */
        struct archive_entry_linkresolver *links;
        const TarballOptions *o;
        const char *root;
        uint64_t files;
        Progress progress;
} Writer;

static int write_data(Writer *w, struct archive_entry *e, const char *full) {
        if (archive_entry_filetype(e) != AE_IFREG || archive_entry_size(e) == 0)
                return 0;
        _cleanup_close_ int fd = open(full, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return log_error_errno(errno, "cannot read '%s': %m", full);
        char buf[1 << 16];
        for (;;) {
                ssize_t n = read(fd, buf, sizeof buf);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return log_error_errno(errno, "cannot read '%s': %m", full);
                }
                if (n == 0)
                        return 0;
                if (archive_write_data(w->out, buf, (size_t) n) < 0)
                        return archive_error(w->out, "cannot write data of", full);
        }
}

static int write_entry(Writer *w, struct archive_entry *e) {
        /* Hard links: the first is written whole, later ones as links. */
        struct archive_entry *sparse = NULL;
        archive_entry_linkify(w->links, &e, &sparse);
        for (struct archive_entry *x = e; x; x = (x == e ? sparse : NULL)) {
                if (archive_write_header(w->out, x) < ARCHIVE_WARN)
                        return archive_error(w->out, "cannot add", archive_entry_pathname(x));
                int r = write_data(w, x, archive_entry_sourcepath(x));
                if (r < 0)
                        return r;
        }
        return 0;
}

static int name_cmp(const struct dirent **a, const struct dirent **b) {
        return strcmp((*a)->d_name, (*b)->d_name);
}

static int no_dots(const struct dirent *d) {
        return !streq(d->d_name, ".") && !streq(d->d_name, "..");
}

/* rel: path inside the tree, "." for the root. */
static int walk(Writer *w, const char *rel) {
        _cleanup_free_ char *full = path_join(w->root, rel);
        struct stat st;
        if (lstat(full, &st) < 0)
                return log_error_errno(errno, "cannot stat '%s': %m", full);

        _cleanup_(archive_entry_freep) struct archive_entry *e = archive_entry_new();
        if (!e)
                oom();
        /* libarchive reads xattrs and ACLs through this path: the full one. */
        archive_entry_copy_sourcepath(e, full);
        int fd = S_ISREG(st.st_mode) || S_ISDIR(st.st_mode) ? open(full, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
        int r = archive_read_disk_entry_from_file(w->disk, e, fd, &st);
        if (fd >= 0)
                close(fd);
        if (r < ARCHIVE_WARN)
                return archive_error(w->disk, "cannot read metadata of", full);
        /* Name in the archive: "./usr/bin/x", like tar --numeric-owner -C root . */
        _cleanup_free_ char *name = streq(rel, ".") ? xstrdup(".") : xasprintf("./%s", rel);
        archive_entry_copy_pathname(e, name);
        archive_entry_set_uname(e, NULL);
        archive_entry_set_gname(e, NULL);
        archive_entry_unset_atime(e);
        archive_entry_unset_ctime(e);
        archive_entry_unset_birthtime(e);
        if (w->o->clamp_mtime > 0 && archive_entry_mtime(e) > w->o->clamp_mtime) {
                archive_entry_set_mtime(e, w->o->clamp_mtime, 0);
        } else
                archive_entry_set_mtime(e, archive_entry_mtime(e), 0);
        r = write_entry(w, e);
        if (r < 0)
                return r;
        if (++w->files % 2000 == 0)
                progress_update(&w->progress, -1, rel);

        if (!S_ISDIR(st.st_mode))
                return 0;
        struct dirent **list = NULL;
        int n = scandir(full, &list, no_dots, name_cmp);
        if (n < 0)
                return log_error_errno(errno, "cannot list '%s': %m", full);
        r = 0;
        for (int i = 0; i < n; i++) {
                if (r >= 0) {
                        _cleanup_free_ char *child = streq(rel, ".") ? xstrdup(list[i]->d_name) : path_join(rel, list[i]->d_name);
                        r = walk(w, child);
                }
                free(list[i]);
        }
        free(list);
        return r;
}

int tarball_create(const char *root, const char *path, const TarballOptions *o) {
        static const TarballOptions none = {};
        if (!o)
                o = &none;
        _cleanup_free_ char *tmp = xasprintf("%s.partial", path);
        _cleanup_(archive_write_freep) struct archive *out = archive_write_new();
        _cleanup_(archive_read_freep) struct archive *disk = archive_read_disk_new();
        _cleanup_(linkresolver_freep) struct archive_entry_linkresolver *links = archive_entry_linkresolver_new();
        if (!out || !disk || !links)
                oom();
        archive_write_set_format_pax_restricted(out);
        archive_entry_linkresolver_set_strategy(links, archive_format(out));
        if (endswith(path, ".zst")) {
                if (archive_write_add_filter_zstd(out) != ARCHIVE_OK)
                        return archive_error(out, "cannot compress", path);
                if (o->zstd_level > 0) {
                        char lvl[16];
                        snprintf(lvl, sizeof lvl, "%d", o->zstd_level);
                        archive_write_set_filter_option(out, "zstd", "compression-level", lvl);
                }
        }
        /* Fixed block size so the output does not depend on anything else. */
        archive_write_set_bytes_per_block(out, 10240);
        archive_read_disk_set_behavior(disk, ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS);
        if (archive_write_open_filename(out, tmp) != ARCHIVE_OK)
                return archive_error(out, "cannot create", tmp);

        Writer w = { .out = out, .disk = disk, .links = links, .o = o, .root = root };
        progress_begin(&w.progress, o->label ? o->label : "archive");
        int r = walk(&w, ".");
        if (r >= 0) {
                /* Hard links whose other names never came. */
                struct archive_entry *e = NULL, *sparse = NULL;
                for (;;) {
                        archive_entry_linkify(links, &e, &sparse);
                        if (!e)
                                break;
                        if (archive_write_header(out, e) < ARCHIVE_WARN) {
                                r = archive_error(out, "cannot add", archive_entry_pathname(e));
                                break;
                        }
                        archive_entry_free(e);
                        e = NULL;
                }
        }
        progress_end(&w.progress);
        if (r >= 0 && archive_write_close(out) != ARCHIVE_OK)
                r = archive_error(out, "cannot finish", tmp);
        if (r >= 0 && rename(tmp, path) < 0)
                r = log_error_errno(errno, "cannot rename '%s': %m", tmp);
        if (r < 0)
                unlink(tmp);
        else
                log_debug("archived %s: %llu entries into %s", root, (unsigned long long) w.files, path);
        return r;
}

int tarball_extract(const char *path, const char *dir, const char *label) {
        _cleanup_(archive_read_freep) struct archive *in = archive_read_new();
        _cleanup_(archive_write_freep) struct archive *out = archive_write_disk_new();
        if (!in || !out)
                oom();
        archive_read_support_filter_all(in);
        archive_read_support_format_tar(in);
        archive_write_disk_set_options(out, ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
                                                    ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_ACL | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                                    ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_UNLINK);
        if (archive_read_open_filename(in, path, 1 << 16) != ARCHIVE_OK)
                return archive_error(in, "cannot open", path);
        struct stat st;
        uint64_t total = stat(path, &st) == 0 ? (uint64_t) st.st_size : 0;

        Progress progress;
        progress_begin(&progress, label ? label : "extract");
        int r = 0;
        for (;;) {
                struct archive_entry *e;
                int k = archive_read_next_header(in, &e);
                if (k == ARCHIVE_EOF)
                        break;
                if (k < ARCHIVE_WARN) {
                        r = archive_error(in, "cannot read", path);
                        break;
                }
                const char *name = archive_entry_pathname(e);
                if (!name || name[0] == '/' || streq(name, "..") || startswith(name, "../") || strstr(name, "/../")) {
                        r = log_error_errno(EINVAL, "'%s' holds an unsafe path '%s'", path, strempty(name));
                        break;
                }
                _cleanup_free_ char *full = path_join(dir, name);
                archive_entry_copy_pathname(e, full);
                const char *link = archive_entry_hardlink(e);
                if (link) {
                        _cleanup_free_ char *fl = path_join(dir, link);
                        archive_entry_copy_hardlink(e, fl);
                }
                k = archive_write_header(out, e);
                if (k < ARCHIVE_WARN) {
                        r = archive_error(out, "cannot extract", full);
                        break;
                }
                const void *buf;
                size_t size;
                int64_t offset;
                while ((k = archive_read_data_block(in, &buf, &size, &offset)) == ARCHIVE_OK)
                        if (archive_write_data_block(out, buf, size, offset) < ARCHIVE_WARN) {
                                k = ARCHIVE_FATAL;
                                break;
                        }
                if (k < ARCHIVE_WARN) {
                        r = archive_error(k == ARCHIVE_FATAL ? out : in, "cannot extract", full);
                        break;
                }
                if (archive_write_finish_entry(out) < ARCHIVE_WARN) {
                        r = archive_error(out, "cannot finish", full);
                        break;
                }
                if (total)
                        progress_update(&progress, (int) (archive_filter_bytes(in, -1) * 100 / total), name);
        }
        progress_end(&progress);
        if (r >= 0 && archive_write_close(out) != ARCHIVE_OK)
                r = archive_error(out, "cannot finish extracting into", dir);
        return r;
}
