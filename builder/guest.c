/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * guest.c: the guests' root filesystem, built once with debootstrap and apt
 * (what a guest needs: systemd, a kernel, SSH, DHCP), cleaned like the image,
 * and stored on the ISO as a reproducible archive (libarchive: sorted
 * entries, numeric owners, times clamped to SOURCE_DATE_EPOCH). The
 * installer unpacks it into each guest's volume. Cached.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bootstrap.h"
#include "build.h"
#include "image.h"
#include "log.h"
#include "run.h"
#include "sha256.h"
#include "size.h"
#include "strutil.h"
#include "tarball.h"

static const char *const guest_packages[] = {
        "systemd-sysv", "linux-image-amd64", "openssh-server", "ifupdown", "isc-dhcp-client", "zstd", "less", NULL,
};

#define GUEST_ARCHIVE "hyperion/guest-root.tar.zst"

static int make_guest_tree(Build *b, const char *root) {
        _cleanup_free_ char *boot = cache_path(b, "bootstrap", b->bootstrap_key, ".tar.zst");
        int r = cache_restore(boot, root, "bootstrap");
        if (r < 0)
                return r;
        if (r == 0 && (r = debootstrap_tree(&b->profile->distribution, b->mirror, root)) < 0)
                return r;
        if ((r = apt_sources(root, &b->profile->distribution, b->mirror)) < 0 || (r = policy_rc_d(root, true)) < 0 ||
            (r = apt_install(root, "guest", (char *const *) guest_packages)) < 0)
                return r;
        /* A small initrd: the guest needs its Xen disk and ext4, nothing else;
         * the default (MODULES=most) does not even unpack in 128M of memory. */
        if ((r = write_file_under(root, "etc/initramfs-tools/conf.d/hyperion-guest.conf",
                            "# hyperion: a Xen guest's initrd holds only what mounts its root.\nMODULES=list\n", 0644)) < 0 ||
            (r = write_file_under(root, "etc/initramfs-tools/modules", "# hyperion: a Xen guest's root\nxen_blkfront\next4\n", 0644)) < 0 ||
            (r = chroot_run(root, "guest", (char *[]) { "update-initramfs", "-u", "-k", "all", NULL })) < 0)
                return r;
        /* The guest makes its own SSH host keys at its first boot. */
        _cleanup_free_ char *dropin = path_join(root, "etc/systemd/system/ssh.service.d");
        if ((r = RUN(NULL, "mkdir", "-p", dropin)) < 0)
                return r;
        return write_file_under(root, "etc/systemd/system/ssh.service.d/hyperion-hostkeys.conf",
                          "# hyperion: a guest makes its own SSH host keys at its first boot.\n"
                          "[Service]\nExecStartPre=\nExecStartPre=/usr/bin/ssh-keygen -A\nExecStartPre=/usr/sbin/sshd -t\n",
                          0644);
}

int stage_guest(Build *b) {
        if (b->profile->n_domains == 0) {
                log_info("the profile has no guests");
                return 0;
        }
        Sha256 s;
        sha256_init(&s);
        sha256_update_str(&s, "guest/2");
        sha256_update_str(&s, b->code_sha256);
        sha256_update_str(&s, b->bootstrap_key);
        for (size_t i = 0; guest_packages[i]; i++)
                sha256_update_str(&s, guest_packages[i]);
        char epoch[32];
        snprintf(epoch, sizeof epoch, "%lld", (long long) b->source_date_epoch);
        sha256_update_str(&s, epoch);
        uint8_t dg[32];
        char key[65];
        sha256_final(&s, dg);
        sha256_hex(dg, key);

        _cleanup_free_ char *cached = cache_path(b, "guest", key, ".tar.zst");
        _cleanup_free_ char *dest = xasprintf("%s/iso/%s", b->work, GUEST_ARCHIVE);
        _cleanup_free_ char *destdir = xasprintf("%s/iso/hyperion", b->work);
        int r = RUN(NULL, "mkdir", "-p", destdir);
        if (r < 0)
                return r;
        if (access(cached, F_OK) != 0) {
                _cleanup_free_ char *root = path_join(b->work, "guest");
                if (mkdir(root, 0755) < 0 && errno != EEXIST)
                        return log_error_errno(errno, "cannot create '%s': %m", root);
                log_info("the guests' root filesystem (%s)", b->profile->distribution.suite);
                if ((r = make_guest_tree(b, root)) < 0 || (r = clean_tree(root, b->source_date_epoch)) < 0)
                        return r;
                TarballOptions o = { .clamp_mtime = b->source_date_epoch, .zstd_level = 9, .label = "guest" };
                if ((r = tarball_create(root, cached, &o)) < 0)
                        return r;
                (void) RUN(NULL, "rm", "-rf", "--one-file-system", root);
        } else
                log_info("guest: cached in %s", cached);
        if ((r = RUN(NULL, "cp", cached, dest)) < 0)
                return r;
        struct stat st;
        char sz[SIZE_BUF];
        if (stat(dest, &st) == 0)
                log_info("guest archive: %s", format_size_human(sz, (uint64_t) st.st_size));
        return 0;
}
