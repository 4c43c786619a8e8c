/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "test-helpers.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "log.h"
#include "sha256.h"
#include "tarball.h"

static void make_tree(const char *root, time_t mtime) {
        assert_int_equal(mkdir(root, 0755), 0);
        _cleanup_free_ char *d = path_join(root, "etc"), *f = path_join(root, "etc/hostname"),
                            *h = path_join(root, "etc/hostname.link"), *s = path_join(root, "etc/os"),
                            *p = path_join(root, "fifo"), *x = path_join(root, "secret");
        assert_int_equal(mkdir(d, 0700), 0);
        assert_int_equal(write_file_atomic(f, "hyperion\n", 9, 0644), 0);
        assert_int_equal(link(f, h), 0);
        assert_int_equal(symlink("hostname", s), 0);
        assert_int_equal(mkfifo(p, 0600), 0);
        assert_int_equal(write_file_atomic(x, "k", 1, 0400), 0);
        if (geteuid() == 0)
                assert_int_equal(lchown(x, 1234, 5678), 0);
        /* A user xattr, where the filesystem takes one. */
        (void) setxattr(f, "user.hyperion", "yes", 3, 0);
        struct timespec t[2] = { { mtime, 0 }, { mtime, 0 } };
        const char *all[] = { f, x, p, d, root };
        for (size_t i = 0; i < ELEMENTSOF(all); i++)
                assert_int_equal(utimensat(AT_FDCWD, all[i], t, AT_SYMLINK_NOFOLLOW), 0);
}

static char *slurp(const char *path) {
        char *t = NULL;
        size_t n;
        assert_int_equal(read_full_file(path, &t, &n), 0);
        return t;
}

static void test_roundtrip(void **state) {
        (void) state;
        make_tree("a", 2000000000); /* in 2033: newer than the clamp */
        TarballOptions o = { .clamp_mtime = 1700000000 };
        assert_int_equal(tarball_create("a", "a.tar.zst", &o), 0);
        assert_int_equal(access("a.tar.zst.partial", F_OK), -1);
        assert_int_equal(mkdir("b", 0755), 0);
        assert_int_equal(tarball_extract("a.tar.zst", "b", NULL), 0);

        struct stat sa, sb;
        assert_int_equal(stat("b/etc", &sb), 0);
        assert_int_equal(sb.st_mode & 07777, 0700);
        assert_int_equal(sb.st_mtime, 1700000000);
        _cleanup_free_ char *t = slurp("b/etc/hostname");
        assert_string_equal(t, "hyperion\n");
        assert_int_equal(stat("b/etc/hostname", &sa), 0);
        assert_int_equal(stat("b/etc/hostname.link", &sb), 0);
        assert_int_equal(sa.st_ino, sb.st_ino); /* still a hard link */
        assert_int_equal(sa.st_nlink, 2);
        char target[64] = {};
        assert_int_equal(readlink("b/etc/os", target, sizeof target - 1), 8);
        assert_string_equal(target, "hostname");
        assert_int_equal(lstat("b/fifo", &sb), 0);
        assert_true(S_ISFIFO(sb.st_mode));
        assert_int_equal(stat("b/secret", &sb), 0);
        assert_int_equal(sb.st_mode & 07777, 0400);
        if (geteuid() == 0) {
                assert_int_equal(sb.st_uid, 1234);
                assert_int_equal(sb.st_gid, 5678);
        }
        char v[8] = {};
        if (getxattr("a/etc/hostname", "user.hyperion", v, sizeof v) == 3) {
                memset(v, 0, sizeof v);
                assert_int_equal(getxattr("b/etc/hostname", "user.hyperion", v, sizeof v), 3);
                assert_memory_equal(v, "yes", 3);
        }
}

/* The same tree, made again elsewhere at another time: the same bytes. */
static void test_reproducible(void **state) {
        (void) state;
        make_tree("x", 2000000000);
        make_tree("y", 2000000100);
        /* Other atimes and ctimes, another order of creation: no difference. */
        sleep(1);
        _cleanup_free_ char *extra = path_join("y", "etc/hostname");
        (void) chmod(extra, 0644);
        TarballOptions o = { .clamp_mtime = 1700000000 };
        assert_int_equal(tarball_create("x", "x.tar", &o), 0);
        assert_int_equal(tarball_create("y", "y.tar", &o), 0);
        char hx[65], hy[65];
        assert_int_equal(sha256_file("x.tar", hx), 0);
        assert_int_equal(sha256_file("y.tar", hy), 0);
        assert_string_equal(hx, hy);
}

static void test_unsafe(void **state) {
        (void) state;
        assert_true(tarball_extract("missing.tar", ".", NULL) < 0);
}

int main(void) {
        log_set_level(LOG_LEVEL_ERROR + 1);
        const struct CMUnitTest tests[] = { cmocka_unit_test(test_roundtrip), cmocka_unit_test(test_reproducible),
                                            cmocka_unit_test(test_unsafe) };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
