/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guests: their xl configuration files against golden files, each
 * parsed back with libxlutil; a guest's root prepared from an archive into
 * a folder and then into an ext4 image (mkfs.ext4 -d), read back.
 */
#include "test-helpers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guests.h"
#include "log.h"
#include "medium.h"
#include "profile.h"
#include "run.h"
#include "tarball.h"
#include "xen.h"

static Profile *hyperion(void) {
        return load_src_profile("profiles/hyperion");
}

static void test_cfg_golden(void **state) {
        (void) state;
        _cleanup_(profile_freep) Profile *p = hyperion();
        bool update = getenv("HYPERION_UPDATE_GOLDEN") != NULL;
        assert_int_equal(p->n_domains, 3);
        for (size_t i = 0; i < p->n_domains; i++) {
                const Domain *d = p->domains[i];
                _cleanup_free_ char *text = guest_cfg_text(d);
                /* Every file we write parses, and names its disks as libxl reads them. */
                assert_int_equal(guest_cfg_check(d->head.name, text), 0);
                _cleanup_free_ char *rel = xasprintf("tests/expected/xen/%s.cfg", d->head.name), *path = src_path(rel);
                if (update)
                        assert_int_equal(write_file_atomic(path, text, strlen(text), 0644), 0);
                _cleanup_free_ char *want = NULL;
                assert_int_equal(read_full_file(path, &want, NULL), 0);
                assert_string_equal(text, want);
        }
}

static void test_cfg_refused(void **state) {
        (void) state;
        /* A file that does not parse is refused, so it is never written. */
        assert_int_equal(guest_cfg_check("io", "name = \"io\"\ndisk = [ \"format=raw, vdev=xvda, target=/dev/vg0/io-disk\"\n"), -EINVAL);
        assert_int_equal(guest_cfg_check("io", "name = \"other\"\ndisk = [ \"target=/dev/vg0/io-disk\" ]\n"), -EINVAL);
        assert_int_equal(guest_cfg_check("io", "name = \"io\"\ndisk = [ \"vdev=xvda, nonsense=1, target=/dev/x\" ]\n"), -EINVAL);
        assert_int_equal(guest_cfg_check("io", "name = \"io\"\ndisk = [ \"format=raw, vdev=xvda, access=rw, target=/dev/x\" ]\n"), 0);
}

static void test_disk_specs(void **state) {
        (void) state;
        _cleanup_(profile_freep) Profile *p = hyperion();
        const Domain *io = profile_find_domain(p, "io");
        assert_non_null(io);
        _cleanup_strv_free_ char **specs = guest_disk_specs(io);
        assert_int_equal(strv_length(specs), 2);
        assert_string_equal(specs[0], "format=raw, vdev=xvda, access=rw, script=/usr/lib/hyperion/block, target=/dev/vg0/io-disk");
        assert_string_equal(specs[1], "format=raw, vdev=xvdb, access=rw, script=/usr/lib/hyperion/block, target=/dev/vg0/io-swap");
}

/* A file of a guest's root, read as the guest's (a kept guest's root is
 * its own): its links resolved within that root, regular files only,
 * bounded in size; a link to dom0's files or a device node copies nothing. */
static void test_copy_file(void **state) {
        (void) state;
        _cleanup_free_ char *cwd = getcwd(NULL, 0);
        assert_int_equal(RUN(NULL, "mkdir", "-p", "g/boot", "g/dev", "out"), 0);
        assert_int_equal(write_file_atomic("secret", "dom0's secret\n", 14, 0600), 0);
        assert_int_equal(write_file_atomic("g/boot/vmlinuz-1", "kernel", 6, 0644), 0);
        assert_int_equal(symlink("boot/vmlinuz-1", "g/vmlinuz"), 0);
        assert_int_equal(symlink("/boot/vmlinuz-1", "g/absolute"), 0);
        _cleanup_free_ char *outside = xasprintf("%s/secret", cwd);
        assert_int_equal(symlink(outside, "g/initrd.img"), 0);
        assert_int_equal(symlink("../../../../secret", "g/up"), 0);
        assert_int_equal(mkfifo("g/dev/fifo", 0600), 0);
        assert_int_equal(symlink("dev/fifo", "g/fifo"), 0);

        _cleanup_free_ char *got = NULL;
        assert_int_equal(guest_copy_file("g", "vmlinuz", "out/vmlinuz", 1024), 0);
        assert_int_equal(read_full_file("out/vmlinuz", &got, NULL), 0);
        assert_string_equal(got, "kernel");
        /* An absolute link is the guest's own path. */
        assert_int_equal(guest_copy_file("g", "absolute", "out/absolute", 1024), 0);
        free(got);
        got = NULL;
        assert_int_equal(read_full_file("out/absolute", &got, NULL), 0);
        assert_string_equal(got, "kernel");
        /* Out of the root: resolved within it, where there is no such file. */
        assert_int_equal(guest_copy_file("g", "initrd.img", "out/initrd.img", 1024), -ENOENT);
        assert_int_equal(guest_copy_file("g", "up", "out/up", 1024), -ENOENT);
        assert_int_equal(access("out/initrd.img", F_OK), -1);
        assert_int_equal(access("out/up", F_OK), -1);
        /* Not a regular file; too large. */
        assert_int_equal(guest_copy_file("g", "fifo", "out/fifo", 1024), -EPERM);
        assert_int_equal(guest_copy_file("g", "vmlinuz", "out/small", 5), -EFBIG);
        assert_int_equal(access("out/small", F_OK), -1);
        assert_int_equal(access("out/small.new", F_OK), -1);
}

static void test_root_into_image(void **state) {
        (void) state;
        if (geteuid() != 0) {
                print_message("skipped: systemd-machine-id-setup --root and mkfs need root\n");
                skip();
        }
        _cleanup_(profile_freep) Profile *p = hyperion();
        const Domain *d = profile_find_domain(p, "tethys");
        /* A small guest tree, archived as the builder does. */
        assert_int_equal(RUN(NULL, "mkdir", "-p", "tree/etc/network", "tree/etc/ssh", "tree/root", "tree/boot"), 0);
        assert_int_equal(write_file_atomic("tree/etc/os-release", "ID=debian\n", 10, 0644), 0);
        TarballOptions o = { .clamp_mtime = 1700000000 };
        assert_int_equal(tarball_create("tree", "guest.tar.zst", &o), 0);
        assert_int_equal(mkdir("root", 0755), 0);
        assert_int_equal(tarball_extract("guest.tar.zst", "root", NULL), 0);
        assert_int_equal(guest_configure_root(p, d, "root"), 0);

        _cleanup_free_ char *hostname = NULL, *fstab = NULL, *net = NULL, *mid = NULL;
        assert_int_equal(read_full_file("root/etc/hostname", &hostname, NULL), 0);
        assert_string_equal(hostname, "tethys\n");
        assert_int_equal(read_full_file("root/etc/fstab", &fstab, NULL), 0);
        assert_non_null(strstr(fstab, "/dev/xvda / ext4"));
        assert_non_null(strstr(fstab, "/dev/xvdb none swap sw,nofail 0 0\n"));
        /* nofail: the ready line waits for the swap itself. */
        _cleanup_free_ char *ready = NULL;
        assert_int_equal(read_full_file("root/" GUEST_READY_SWAP_DROPIN, &ready, NULL), 0);
        assert_non_null(strstr(ready, "\nWants=dev-xvdb.swap\nAfter=dev-xvdb.swap\n"));
        assert_int_equal(read_full_file("root/etc/network/interfaces", &net, NULL), 0);
        assert_non_null(strstr(net, "iface eth0 inet dhcp"));
        assert_int_equal(read_full_file("root/etc/machine-id", &mid, NULL), 0);
        assert_int_equal(strlen(strstrip(mid)), 32);
        /* Its own SSH host keys, made now: sshd answers as soon as it is up. */
        static const char *const types[] = { "rsa", "ecdsa", "ed25519" };
        for (size_t i = 0; i < ELEMENTSOF(types); i++) {
                _cleanup_free_ char *key = xasprintf("root/etc/ssh/ssh_host_%s_key", types[i]), *pub = xasprintf("%s.pub", key);
                _cleanup_free_ char *text = NULL;
                struct stat st;
                assert_int_equal(stat(key, &st), 0);
                assert_int_equal(st.st_mode & 0777, 0600);
                assert_int_equal(read_full_file(pub, &text, NULL), 0);
                assert_non_null(strstr(text, " root@tethys"));
        }
        /* Another guest from the same archive: keys of its own. */
        assert_int_equal(mkdir("other", 0755), 0);
        assert_int_equal(tarball_extract("guest.tar.zst", "other", NULL), 0);
        assert_int_equal(guest_configure_root(p, profile_find_domain(p, "io"), "other"), 0);
        _cleanup_free_ char *k1 = NULL, *k2 = NULL;
        assert_int_equal(read_full_file("root/etc/ssh/ssh_host_ed25519_key.pub", &k1, NULL), 0);
        assert_int_equal(read_full_file("other/etc/ssh/ssh_host_ed25519_key.pub", &k2, NULL), 0);
        assert_string_not_equal(k1, k2);

        /* Into an ext4 image, as the guest's volume would hold it. */
        assert_int_equal(RUN(&(RunOptions) { .quiet = true }, "mkfs.ext4", "-q", "-F", "-L", "tethys", "-d", "root", "disk.img", "64M"), 0);
        _cleanup_free_ char *out = NULL;
        RunOptions ro = { .capture = &out, .quiet = true };
        assert_int_equal(run((char *[]) { "debugfs", "-R", "cat /etc/hostname", "disk.img", NULL }, &ro), 0);
        assert_non_null(strstr(out, "tethys"));
}

int main(void) {
        log_set_level(LOG_LEVEL_ERROR + 1);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cfg_golden),
                cmocka_unit_test(test_cfg_refused),
                cmocka_unit_test(test_disk_specs),
                cmocka_unit_test(test_copy_file), cmocka_unit_test(test_root_into_image),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
