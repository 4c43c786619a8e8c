/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The write guard: writes go to the disks the plan formats and nowhere
 * else, including loop devices over other image files (root only).
 */
#include "test-helpers.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "guard.h"
#include "log.h"
#include "run.h"

static void make_file(const char *path) {
        int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, 64 << 20), 0);
        close(fd);
}

static void test_files(void **state) {
        (void) state;
        guard_reset();
        make_file("format.img");
        make_file("keep.img");
        assert_int_equal(guard_check("format.img"), -EPERM);
        assert_int_equal(guard_allow("format.img"), 0);
        assert_int_equal(guard_check("format.img"), 0);
        assert_int_equal(guard_check("keep.img"), -EPERM);
        /* Another name for the same file is the same file. */
        assert_int_equal(link("format.img", "alias.img"), 0);
        assert_int_equal(guard_check("alias.img"), 0);
        assert_int_equal(guard_check("does-not-exist"), -EPERM);
        assert_int_equal(guard_check("/dev/null"), -EPERM);
        guard_reset();
        assert_int_equal(guard_check("format.img"), -EPERM);
}

static char *attach(const char *file, const char *offset) {
        char *out = NULL;
        RunOptions o = { .capture = &out };
        if (run((char *[]) { "losetup", "-f", "--show", "-o", (char *) offset, "--sizelimit", "1048576", (char *) file, NULL },
                &o) != 0) {
                free(out);
                return NULL;
        }
        return strstrip(out);
}

static void test_loops(void **state) {
        (void) state;
        if (geteuid() != 0 || access("/dev/loop-control", F_OK) < 0) {
                print_message("skipped: loop devices need root and /dev/loop-control\n");
                skip();
        }
        guard_reset();
        make_file("format.img");
        make_file("keep.img");
        assert_int_equal(guard_allow("format.img"), 0);
        _cleanup_free_ char *ok = attach("format.img", "1048576"), *no = attach("keep.img", "1048576");
        if (!ok || !no) {
                print_message("skipped: no free loop device\n");
                skip();
        }
        int a = guard_check(ok), b = guard_check(no);
        (void) run((char *[]) { "losetup", "-d", ok, NULL }, NULL);
        (void) run((char *[]) { "losetup", "-d", no, NULL }, NULL);
        /* A partition of the kept disk is as sacred as the disk. */
        assert_int_equal(a, 0);
        assert_int_equal(b, -EPERM);
        guard_reset();
}

int main(void) {
        log_set_level(LOG_LEVEL_ERROR + 1);
        const struct CMUnitTest tests[] = { cmocka_unit_test(test_files), cmocka_unit_test(test_loops) };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
