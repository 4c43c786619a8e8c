/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The probe on image files: an LVM physical volume's volume group read from
 * its label and metadata (made by the real pvcreate and vgcreate, without
 * device-mapper), on a whole image and inside a GPT partition.
 */
#include "test-helpers.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "lvmmeta.h"
#include "probe.h"
#include "run.h"

/* vgcreate NAME on the byte range of an image, through a loop device. */
static bool make_vg(const char *image, const char *offset, const char *size, const char *name) {
        _cleanup_free_ char *loop = NULL;
        RunOptions o = { .capture = &loop, .quiet = true };
        if (run((char *[]) { "losetup", "--find", "--show", "--offset", (char *) offset, "--sizelimit", (char *) size, (char *) image,
                             NULL },
                &o) != 0)
                return false;
        strstrip(loop);
        RunOptions q = { .quiet = true };
        int r = RUN(&q, "pvcreate", "--driverloaded", "n", "--yes", loop);
        if (r == 0)
                r = RUN(&q, "vgcreate", "--driverloaded", "n", "--yes", (char *) name, loop);
        (void) RUN(NULL, "losetup", "--detach", loop);
        return r == 0;
}

static void test_vg_name(void **state) {
        (void) state;
        if (geteuid() != 0 || access("/dev/loop-control", F_OK) < 0 || access("/sbin/vgcreate", X_OK) < 0) {
                print_message("skipped: needs root, loop devices and lvm2\n");
                skip();
        }
        assert_int_equal(RUN(NULL, "truncate", "-s", "64M", "whole.img", "parted.img"), 0);
        assert_true(make_vg("whole.img", "0", "67108864", "vg0"));
        _cleanup_close_ int fd = open("whole.img", O_RDONLY | O_CLOEXEC);
        _cleanup_free_ char *name = lvm_vg_name_at(fd, 0, 64 << 20);
        assert_non_null(name);
        assert_string_equal(name, "vg0");

        /* In a partition, through the probe as the installer runs it. */
        assert_int_equal(RUN(&(RunOptions) { .quiet = true }, "sh", "-c", "printf 'label: gpt\\nstart=2048, type=L\\n' | sfdisk -q parted.img"), 0);
        assert_true(make_vg("parted.img", "1048576", "66060288", "other_vg"));
        Inventory inv = {};
        assert_int_equal(probe_paths((char *[]) { "parted.img", "whole.img", NULL }, &inv), 0);
        assert_int_equal(inv.disks[0].n_parts, 1);
        assert_non_null(inv.disks[0].parts[0].vg);
        assert_string_equal(inv.disks[0].parts[0].vg, "other_vg");
        assert_non_null(inv.disks[1].vg);
        assert_string_equal(inv.disks[1].vg, "vg0");
        inventory_release(&inv);

        /* Anything else is no volume group. */
        assert_int_equal(RUN(NULL, "truncate", "-s", "1M", "blank.img"), 0);
        _cleanup_close_ int bfd = open("blank.img", O_RDONLY | O_CLOEXEC);
        assert_null(lvm_vg_name_at(bfd, 0, 1 << 20));
}

/* The volumes of a group, read from its metadata as lvcreate wrote it
 * (without device-mapper: -an -Zn), with their sizes and first extents. */
static void test_volumes(void **state) {
        (void) state;
        if (geteuid() != 0 || access("/dev/loop-control", F_OK) < 0 || access("/sbin/lvcreate", X_OK) < 0) {
                print_message("skipped: needs root, loop devices and lvm2\n");
                skip();
        }
        assert_int_equal(RUN(NULL, "truncate", "-s", "64M", "lv.img"), 0);
        _cleanup_free_ char *loop = NULL;
        RunOptions o = { .capture = &loop, .quiet = true };
        assert_int_equal(run((char *[]) { "losetup", "--find", "--show", "lv.img", NULL }, &o), 0);
        strstrip(loop);
        RunOptions q = { .quiet = true };
        int r = RUN(&q, "pvcreate", "--driverloaded", "n", "--yes", loop);
        if (r == 0)
                r = RUN(&q, "vgcreate", "--driverloaded", "n", "--yes", "-s", "4M", "vgt", loop);
        if (r == 0)
                r = RUN(&q, "lvcreate", "--driverloaded", "n", "-an", "-Zn", "--yes", "-L", "8M", "-n", "alpha", "vgt");
        if (r == 0)
                r = RUN(&q, "lvcreate", "--driverloaded", "n", "-an", "-Zn", "--yes", "-L", "12M", "-n", "beta-disk", "vgt");
        /* Grown: a second segment. */
        if (r == 0)
                r = RUN(&q, "lvextend", "--driverloaded", "n", "--yes", "-L", "16M", "vgt/alpha");
        (void) RUN(NULL, "losetup", "--detach", loop);
        assert_int_equal(r, 0);

        _cleanup_close_ int fd = open("lv.img", O_RDONLY | O_CLOEXEC);
        LvmMeta m;
        assert_int_equal(lvm_meta_read(fd, 0, 64 << 20, &m), 0);
        assert_string_equal(m.vg, "vgt");
        assert_int_equal(m.extent_size, 4 << 20);
        assert_int_equal(m.pe_start, 1 << 20);
        assert_int_equal(m.n_lvs, 2);
        const LvmVolume *a = lvm_meta_find(&m, "alpha"), *b = lvm_meta_find(&m, "beta-disk");
        assert_non_null(a);
        assert_non_null(b);
        assert_int_equal(a->size, 16 << 20);
        assert_int_equal(b->size, 12 << 20);
        assert_string_equal(a->pv, m.pv);
        assert_int_equal(a->pv_extent, 0);
        assert_int_equal(b->pv_extent, 2);
        assert_null(lvm_meta_find(&m, "gamma"));
        lvm_meta_done(&m);

        /* Not a physical volume, and a broken text. */
        assert_int_equal(RUN(NULL, "truncate", "-s", "1M", "none.img"), 0);
        _cleanup_close_ int nfd = open("none.img", O_RDONLY | O_CLOEXEC);
        assert_int_equal(lvm_meta_read(nfd, 0, 1 << 20, &m), -ENOENT);
        assert_int_equal(lvm_meta_parse("vg0 { extent_size = 8192\nlogical_volumes { x { segment1 { extent_count = ", NULL, &m),
                         -EBADMSG);
        assert_int_equal(lvm_meta_parse("# nothing\ncontents = \"Text\"\n", NULL, &m), -EBADMSG);
        /* Deeply nested: refused, not a stack overflow. */
        char deep[4096] = "vg0 { extent_size = 1\n";
        for (int i = 0; i < 200; i++)
                strcat(deep, "a { ");
        assert_int_equal(lvm_meta_parse(deep, NULL, &m), -EBADMSG);

}

int main(void) {
        log_set_level(LOG_LEVEL_ERROR + 1);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_vg_name),
                cmocka_unit_test(test_volumes),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
