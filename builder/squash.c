/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * squash.c: the live system's root as a squashfs image, with fixed options
 * so that the same tree gives the same bytes: sorted (mksquashfs's default),
 * every time set to SOURCE_DATE_EPOCH, xattrs kept. The kernel and initrd
 * go beside it, where the GRUB menu finds them.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build.h"
#include "log.h"
#include "sha256.h"
#include "medium.h"
#include "run.h"
#include "size.h"
#include "strutil.h"

/* The newest kernel of the tree: "6.12.57+deb13-amd64". */
static int find_kernel(Build *b) {
        _cleanup_free_ char *boot = path_join(b->root, "boot");
        struct dirent **list = NULL;
        int n = scandir(boot, &list, NULL, versionsort);
        if (n < 0)
                return log_error_errno(errno, "cannot list '%s': %m", boot);
        free(b->kernel_version);
        b->kernel_version = NULL;
        for (int i = 0; i < n; i++) {
                if (startswith(list[i]->d_name, "vmlinuz-")) {
                        free(b->kernel_version);
                        b->kernel_version = xstrdup(list[i]->d_name + strlen("vmlinuz-"));
                }
                free(list[i]);
        }
        free(list);
        if (!b->kernel_version)
                return log_error_errno(ENOENT, "the image has no kernel in /boot (is linux-image-amd64 installed?)");
        return 0;
}

static void squash_line(const char *line, void *userdata) {
        /* The progress bar, redrawn with \r: one "line" each. */
        int pct;
        if (progress_percent_of_line(line, &pct))
                progress_update(userdata, pct, NULL);
        else
                log_debug("%s", line);
}

static const char *comp_name(Compression c) {
        return compression_to_string(c);
}

/* zstd at this level rather than mksquashfs's 15: measured on the default
 * profile's root on two cores, 5.1 s instead of 28.3 s for 331 MiB instead
 * of 328. */
#define SQUASH_ZSTD_LEVEL "6"

int stage_squash(Build *b) {
        int r = find_kernel(b);
        if (r < 0)
                return r;
        _cleanup_free_ char *live = path_join(b->work, "iso/live");
        r = RUN(NULL, "mkdir", "-p", live);
        if (r < 0)
                return r;
        _cleanup_free_ char *vmlinuz = xasprintf("%s/boot/vmlinuz-%s", b->root, b->kernel_version);
        /* The live initrd leaves the tree: the installed system has its own in /boot. */
        _cleanup_free_ char *initrd = path_join(b->root, LIVE_INITRD);
        _cleanup_free_ char *v_out = path_join(live, "vmlinuz"), *i_out = path_join(live, "initrd.img");
        if ((r = RUN(NULL, "cp", vmlinuz, v_out)) < 0 || (r = RUN(NULL, "mv", initrd, i_out)) < 0)
                return log_error_errno(r, "cannot move the kernel %s and the live initrd onto the ISO", b->kernel_version);

        free(b->squashfs);
        b->squashfs = xasprintf("%s/iso/%s", b->work, MEDIUM_ROOT_IMAGE);
        _cleanup_free_ char *epoch = xasprintf("%lld", (long long) b->source_date_epoch);
        _cleanup_free_ char *procs = xasprintf("%ld", MAX(1L, sysconf(_SC_NPROCESSORS_ONLN)));
        Compression c = b->profile->image.compression;
        log_info("mksquashfs (%s) of the root", comp_name(c));
        Progress p;
        progress_begin(&p, "squash");
        _cleanup_free_ char *err = NULL;
        RunOptions o = { .on_line = squash_line, .userdata = &p, .capture_err = &err };
        _cleanup_strv_free_ char **argv = xcalloc(1, sizeof(char *));
        const char *const head[] = { "mksquashfs", b->root, b->squashfs, "-noappend", "-comp", comp_name(c), "-b", "1M",
                                     "-mkfs-time", epoch, "-all-time", epoch, "-processors", procs, "-progress" };
        for (size_t i = 0; i < ELEMENTSOF(head); i++)
                strv_push(&argv, head[i]);
        if (c == COMP_ZSTD) {
                strv_push(&argv, "-Xcompression-level");
                strv_push(&argv, SQUASH_ZSTD_LEVEL);
        }
        /* The mount points of the API file systems stay, empty (-e: last). */
        const char *const exclude[] = { "-wildcards", "-e", "proc/*", "sys/*", "dev/*", "run/*" };
        for (size_t i = 0; i < ELEMENTSOF(exclude); i++)
                strv_push(&argv, exclude[i]);
        r = run_ok(argv, &o);
        progress_end(&p);
        if (r < 0)
                return log_error_errno(r, "mksquashfs failed (is the disk full?)");
        struct stat st;
        char sz[SIZE_BUF];
        if (stat(b->squashfs, &st) == 0)
                log_info("root image: %s", format_size_human(sz, (uint64_t) st.st_size));
        /* Its checksum beside it: the installer's journal names the image it installs. */
        char hex[65];
        if ((r = sha256_file(b->squashfs, hex)) < 0)
                return log_error_errno(r, "cannot read '%s': %m", b->squashfs);
        _cleanup_free_ char *iso = path_join(b->work, "iso"), *line = xasprintf("%s  %s\n", hex, MEDIUM_ROOT_IMAGE);
        _cleanup_free_ char *dir = path_join(iso, "hyperion");
        if ((r = RUN(NULL, "mkdir", "-p", dir)) < 0)
                return r;
        return write_file_under(iso, MEDIUM_ROOT_IMAGE_SHA256, line, 0644);
}
