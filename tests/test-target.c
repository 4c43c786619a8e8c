/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The target's chroot: its /dev holds the nodes of the disks being
 * installed (and their filesystems' by-uuid links), the usual character
 * devices, and nothing of the disks kept, ignored, or the boot medium.
 */
#include "test-helpers.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "inventory.h"
#include "log.h"
#include "mount-util.h"
#include "plan.h"
#include "target.h"

static void test_dev_nodes(void **state) {
        (void) state;
        _cleanup_free_ char *path = src_path("tests/data/plans/seed.inv");
        Inventory inv;
        InventoryOptions io;
        assert_int_equal(inventory_load(path, &inv, &io), 0);
        /* sda data (keep), sdb system, sdc vms, sdd spare (ignore), sde the medium */
        for (size_t i = 0; i < inv.n_disks; i++)
                inv.disks[i].devno = makedev(240, (unsigned) i * 16);
        Profile *p = load_src_profile(io.profile);
        _cleanup_(plan_freep) Plan *plan = NULL;
        _cleanup_strv_free_ char **errors = NULL;
        assert_int_equal(plan_make(p, &inv, NULL, &plan, &errors), 0);
        size_t n;
        DevNode *nodes = target_dev_nodes(plan, &n);
        _cleanup_strv_free_ char **names = xcalloc(1, sizeof(char *));
        for (size_t i = 0; i < n; i++) {
                strv_push(&names, nodes[i].name);
                /* Nothing of a disk not being formatted. */
                assert_true(nodes[i].link || (major(nodes[i].devno) == 240 && (minor(nodes[i].devno) == 16 || minor(nodes[i].devno) == 32)));
        }
        assert_true(strv_contains(names, "sdb"));
        assert_true(strv_contains(names, "sdc"));
        assert_false(strv_contains(names, "sda"));
        assert_false(strv_contains(names, "sdd"));
        assert_false(strv_contains(names, "sde"));
        dev_nodes_free(nodes, n);
        plan_free(TAKE_PTR(plan));
        profile_free(p);
        free(io.profile);
        inventory_release(&inv);
}

static void test_private_dev(void **state) {
        (void) state;
        if (geteuid() != 0) {
                print_message("skipped: mounting needs root\n");
                skip();
        }
        assert_int_equal(mkdir("root", 0755), 0);
        const DevNode nodes[] = {
                { .name = "sdx", .devno = makedev(240, 16) },
                { .name = "sdx1", .devno = makedev(240, 17) },
                { .name = "disk/by-uuid/0123-4567", .link = "../../sdx1" },
        };
        assert_int_equal(chroot_mount("root", nodes, ELEMENTSOF(nodes)), 0);
        DIR *d = opendir("root/dev");
        assert_non_null(d);
        _cleanup_strv_free_ char **got = xcalloc(1, sizeof(char *));
        struct dirent *e;
        while ((e = readdir(d)))
                if (e->d_name[0] != '.')
                        strv_push(&got, e->d_name);
        closedir(d);
        strv_sort(got);
        _cleanup_free_ char *list = strv_join(got, " ");
        char link[64] = {};
        ssize_t k = readlink("root/dev/disk/by-uuid/0123-4567", link, sizeof link - 1);
        struct stat st;
        int sr = stat("root/dev/sdx1", &st);
        assert_int_equal(chroot_umount("root"), 0);
        assert_string_equal(list, "disk fd full null ptmx pts random sdx sdx1 shm stderr stdin stdout tty urandom zero");
        assert_true(k > 0);
        assert_string_equal(link, "../../sdx1");
        assert_int_equal(sr, 0);
        assert_true(S_ISBLK(st.st_mode));
        assert_int_equal(st.st_rdev, makedev(240, 17));
}

int main(void) {
        log_set_level(LOG_LEVEL_ERROR + 1);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_dev_nodes),
                cmocka_unit_test(test_private_dev),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
