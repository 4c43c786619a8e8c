/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The write guard: writes go to the disks the plan formats and nowhere
 * else, including loop devices over other image files (root only); a disk
 * held is the disk probed: an image swapped for another is refused; an
 * interrupt stops the next write.
 */
#include "test-helpers.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "guard.h"
#include "log.h"
#include "probe.h"
#include "run.h"

static void make_file(const char *path) {
        int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, 64 << 20), 0);
        close(fd);
}

/* Hold path as the probe sees it now. */
static int hold(Guard *g, const char *path) {
        Inventory inv = {};
        assert_int_equal(probe_paths((char *[]) { (char *) path, NULL }, &inv), 0);
        int r = guard_hold(g, &inv.disks[0], "test");
        inventory_release(&inv);
        return r;
}

static void test_files(void **state) {
        (void) state;
        Guard g = {};
        make_file("format.img");
        make_file("keep.img");
        assert_int_equal(guard_write(&g, "format.img", "test"), -EPERM);
        assert_int_equal(hold(&g, "format.img"), 0);
        assert_int_equal(guard_write(&g, "format.img", "test"), 0);
        assert_int_equal(guard_write(&g, "keep.img", "test"), -EPERM);
        /* Another name for the same file is the same file. */
        assert_int_equal(link("format.img", "alias.img"), 0);
        assert_int_equal(guard_write(&g, "alias.img", "test"), 0);
        assert_int_equal(guard_write(&g, "does-not-exist", "test"), -EPERM);
        assert_int_equal(guard_write(&g, "/dev/null", "test"), -EPERM);
        guard_release(&g);
        assert_int_equal(guard_write(&g, "format.img", "test"), -EPERM);
}

static void test_swapped(void **state) {
        (void) state;
        /* The plan's image file, replaced by another of the same name and size
         * between the probe and the first write: refused. */
        make_file("disk.img");
        make_file("other.img");
        Inventory inv = {};
        assert_int_equal(probe_paths((char *[]) { "disk.img", NULL }, &inv), 0);
        assert_int_equal(rename("other.img", "disk.img"), 0);
        Guard g = {};
        assert_int_equal(guard_hold(&g, &inv.disks[0], "system"), -ENXIO);
        assert_int_equal(g.n_disks, 0);
        inventory_release(&inv);
        /* Grown: refused too. */
        assert_int_equal(probe_paths((char *[]) { "disk.img", NULL }, &inv), 0);
        assert_int_equal(truncate("disk.img", 128 << 20), 0);
        assert_int_equal(guard_hold(&g, &inv.disks[0], "system"), -ENXIO);
        inventory_release(&inv);
        guard_release(&g);
}

static void test_interrupt(void **state) {
        (void) state;
        Guard g = {};
        make_file("format.img");
        assert_int_equal(hold(&g, "format.img"), 0);
        guard_interrupt(SIGTERM);
        assert_int_equal(guard_write(&g, "format.img", "test"), -EINTR);
        guard_interrupt(0);
        assert_int_equal(guard_write(&g, "format.img", "test"), 0);
        guard_release(&g);
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
        Guard g = {};
        make_file("format.img");
        make_file("keep.img");
        assert_int_equal(hold(&g, "format.img"), 0);
        _cleanup_free_ char *ok = attach("format.img", "1048576"), *no = attach("keep.img", "1048576");
        if (!ok || !no) {
                print_message("skipped: no free loop device\n");
                skip();
        }
        int a = guard_write(&g, ok, "test"), b = guard_write(&g, no, "test");
        (void) run((char *[]) { "losetup", "-d", ok, NULL }, NULL);
        (void) run((char *[]) { "losetup", "-d", no, NULL }, NULL);
        /* A partition of the kept disk is as sacred as the disk. */
        assert_int_equal(a, 0);
        assert_int_equal(b, -EPERM);
        guard_release(&g);
}

int main(void) {
        log_set_level(LOG_LEVEL_ERROR + 1);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_files),
                cmocka_unit_test(test_swapped),
                cmocka_unit_test(test_interrupt),
                cmocka_unit_test(test_loops),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
