/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "mkfs.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "run.h"
#include "strutil.h"

#define ZERO_SPAN (UINT64_C(1) << 20)

int wipe_signatures(const Guard *g, const char *dev, const char *what) {
        _cleanup_free_ char *w = xasprintf("%s: wipefs", what);
        int r = guard_write(g, dev, w);
        if (r < 0)
                return r;
        return RUN(&(RunOptions) { .quiet = true }, "wipefs", "--all", "--quiet", dev);
}

int make_filesystem(const Guard *g, const char *dev, FsType fs, const char *label, const char *uuid, uint64_t inode_ratio,
                    const char *what) {
        int r = wipe_signatures(g, dev, what);
        if (r < 0)
                return r;
        static const char *const tools[_FS_TYPE_MAX] = { [FS_EXT4] = "mkfs.ext4", [FS_VFAT] = "mkfs.vfat", [FS_SWAP] = "mkswap" };
        if (fs <= FS_NONE || fs >= _FS_TYPE_MAX)
                return 0;
        _cleanup_strv_free_ char **argv = xcalloc(1, sizeof(char *));
        strv_push(&argv, tools[fs]);
        switch (fs) {
        case FS_EXT4:
                strv_push(&argv, "-q");
                strv_push(&argv, "-F");
                if (inode_ratio) {
                        strv_push(&argv, "-i");
                        strv_consume(&argv, xasprintf("%" PRIu64, inode_ratio));
                }
                break;
        case FS_VFAT:
                strv_push(&argv, "-F");
                strv_push(&argv, "32");
                break;
        default:
                break;
        }
        if (!isempty(uuid)) {
                if (fs == FS_VFAT) {
                        /* "93B6-C865" -> -i 93B6C865 */
                        _cleanup_free_ char *id = xstrdup(uuid);
                        char *dash = strchr(id, '-');
                        if (dash)
                                memmove(dash, dash + 1, strlen(dash));
                        strv_push(&argv, "-i");
                        strv_push(&argv, id);
                } else {
                        strv_push(&argv, "-U");
                        strv_push(&argv, uuid);
                }
        }
        if (!isempty(label)) {
                strv_push(&argv, fs == FS_VFAT ? "-n" : "-L");
                strv_push(&argv, label);
        }
        strv_push(&argv, dev);
        _cleanup_free_ char *w = xasprintf("%s: %s", what, tools[fs]);
        if ((r = guard_write(g, dev, w)) < 0)
                return r;
        return run_ok(argv, &(RunOptions) { .quiet = true });
}

int zero_ends(const Guard *g, const char *dev, uint64_t size, const char *what) {
        _cleanup_free_ char *w = xasprintf("%s: zero", what);
        int r = guard_write(g, dev, w);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = open(dev, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "cannot open '%s' for writing: %m", dev);
        _cleanup_free_ char *zero = xcalloc(1, ZERO_SPAN);
        uint64_t span = MIN(ZERO_SPAN, size);
        if (pwrite(fd, zero, span, 0) != (ssize_t) span || pwrite(fd, zero, span, (off_t) (size - span)) != (ssize_t) span ||
            fsync(fd) < 0)
                return log_error_errno(errno, "cannot zero the ends of '%s': %m", dev);
        return 0;
}

int grow_filesystem(const Guard *g, const char *dev, FsType fs, const char *what) {
        if (fs == FS_SWAP)
                return make_filesystem(g, dev, FS_SWAP, NULL, NULL, 0, what);
        if (fs != FS_EXT4)
                return 0;
        int r = guard_write(g, dev, what);
        if (r < 0)
                return r;
        /* resize2fs wants a freshly checked filesystem. */
        int e = run((char *[]) { "e2fsck", "-f", "-p", (char *) dev, NULL }, NULL);
        if (e < 0 || e > 1)
                return log_error_errno(EUCLEAN, "%s: e2fsck -f -p exit %d before growing it: stopping (repair it, then run again)", dev, e);
        return RUN(NULL, "resize2fs", dev);
}
