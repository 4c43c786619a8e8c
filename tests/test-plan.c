/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Plans from fake machines (tests/data/plans/NAME.inv) against golden files
 * (tests/expected/plans/NAME.plan). HYPERION_UPDATE_GOLDEN=1 rewrites the
 * golden files instead of comparing: read the diff before committing it.
 */
#include "test-helpers.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "inventory.h"
#include "log.h"
#include "plan.h"
#include "profile.h"
#include "size.h"

/* Loaded from the source tree by its relative path, so that the plans'
 * FILE:LINE messages are the same bytes wherever the tree is. */
static Profile *load_profile(const char *rel) {
        char here[4096];
        assert_non_null(getcwd(here, sizeof here));
        assert_int_equal(chdir(srcdir()), 0);
        Profile *p = NULL;
        _cleanup_strv_free_ char **errors = NULL;
        int r = profile_load(rel, &p, &errors);
        assert_int_equal(chdir(here), 0);
        if (r < 0)
                fail_msg("profile '%s' does not load: %s", rel, errors[0]);
        return p;
}

/* The plan, or "error: ..." lines, as text. */
static char *plan_text(const Profile *p, const Inventory *inv, const PlanOptions *o) {
        char *buf = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&buf, &n);
        assert_non_null(f);
        _cleanup_(plan_freep) Plan *plan = NULL;
        _cleanup_strv_free_ char **errors = NULL;
        if (plan_make(p, inv, o, &plan, &errors) == 0) {
                assert_null(errors[0]);
                plan_print(plan, f);
        } else {
                assert_non_null(errors[0]);
                assert_null(plan);
                for (char **e = errors; *e; e++)
                        fprintf(f, "error: %s\n", *e);
        }
        fclose(f);
        return buf;
}

/* One case: an inventory of tests/data/plans and the profile it names. */
typedef struct Case {
        Inventory inv;
        InventoryOptions io;
        Profile *p;
} Case;

static void case_load(Case *c, const char *rel) {
        _cleanup_free_ char *path = src_path(rel);
        assert_int_equal(inventory_load(path, &c->inv, &c->io), 0);
        c->p = load_profile(c->io.profile);
}

static void case_release(Case *c) {
        profile_free(c->p);
        free(c->io.profile);
        strv_free(c->io.previous);
        inventory_release(&c->inv);
}

/* plan_make refuses: its reasons. */
static char **plan_refused(Case *c, const PlanOptions *o) {
        Plan *plan = NULL;
        char **errors = NULL;
        assert_int_equal(plan_make(c->p, &c->inv, o, &plan, &errors), -EINVAL);
        assert_null(plan);
        assert_non_null(errors[0]);
        return errors;
}

static void test_golden_plans(void **state) {
        (void) state;
        _cleanup_free_ char *dir = src_path("tests/data/plans");
        struct dirent **list = NULL;
        int n = scandir(dir, &list, NULL, alphasort);
        assert_true(n > 0);
        unsigned cases = 0, failed = 0;
        for (int i = 0; i < n; i++) {
                const char *name = list[i]->d_name;
                if (!endswith(name, ".inv")) {
                        free(list[i]);
                        continue;
                }
                _cleanup_free_ char *path = path_join(dir, name);
                _cleanup_free_ char *base = xstrndup(name, strlen(name) - 4);
                _cleanup_free_ char *rel = xasprintf("tests/expected/plans/%s.plan", base), *what = xasprintf("plan of %s", name);
                free(list[i]);

                Inventory inv;
                InventoryOptions io;
                assert_int_equal(inventory_load(path, &inv, &io), 0);
                Profile *p = load_profile(io.profile);
                PlanOptions o = { .wipe = io.wipe, .unattended = io.unattended, .previous = io.previous,
                                  .previous_found = io.previous != NULL };
                _cleanup_free_ char *got = plan_text(p, &inv, &o);
                /* Twice: the same bytes for the same input. */
                _cleanup_free_ char *again = plan_text(p, &inv, &o);
                assert_string_equal(got, again);

                if (!golden_equal(rel, got, what))
                        failed++;
                cases++;
                profile_free(p);
                free(io.profile);
                strv_free(io.previous);
                inventory_release(&inv);
        }
        free(list);
        print_message("%u plans, %u differ\n", cases, failed);
        assert_true(cases >= 8);
        assert_int_equal(failed, 0);
}

/* What a first install finds of the profile's preserved partitions is
 * formatted only with --start-over (PlanOptions.start_over): then the plan
 * is made, and wipes both disks. */
static void test_start_over(void **state) {
        (void) state;
        Case c;
        case_load(&c, "tests/data/plans/cut-reinstall-unattended.inv");
        PlanOptions o = { .wipe = true };
        _cleanup_strv_free_ char **errors = plan_refused(&c, &o), **none = NULL;
        assert_non_null(strstr(errors[0], "only --start-over does"));
        o.start_over = true;
        _cleanup_(plan_freep) Plan *plan = NULL;
        assert_int_equal(plan_make(c.p, &c.inv, &o, &plan, &none), 0);
        unsigned wiped = 0;
        for (size_t i = 0; i < plan->n_disks; i++)
                wiped += plan->disks[i].wipe;
        assert_int_equal(wiped, 2);
        case_release(&c);
}

/* A reinstall cut while it formatted the root leaves no journal: the
 * disks' own layout (the profile's table, what it preserves in place) is
 * found, and the reinstall planned again from it keeps storage and vg0;
 * unattended on disks the profile does not pin, or without --wipe, what it
 * formats is refused. */
static void test_found_layout(void **state) {
        (void) state;
        Case c;
        case_load(&c, "tests/data/plans/cut-reinstall-unattended.inv");
        PlanOptions all = { .wipe = true, .layout_only = true };
        _cleanup_(plan_freep) Plan *layout = NULL, *plan = NULL;
        _cleanup_strv_free_ char **none = NULL, **none2 = NULL, **found = NULL;
        assert_int_equal(plan_make(c.p, &c.inv, &all, &layout, &none), 0);
        assert_non_null(found = plan_found_layout(layout));
        assert_true(strv_contains(found, "disk system gpt 1000204886016"));
        assert_true(strv_contains(found, "part system/storage 5 25233981440 974970159104 ext4 3e0f4051-6273-4d84-be95-0f1a2b3c4d5e preserve"));
        assert_true(strv_contains(found, "part system/root 3 537919488 16106127360 ext4 1c8d2e3f-4051-4b62-9c73-8d9e0f1a2b3c new"));
        assert_true(strv_contains(found, "part vms/pv 1 1048576 500106788864 LVM2_member - preserve"));

        PlanOptions o = { .unattended = true, .previous = found, .previous_found = true, .previous_derived = true };
        _cleanup_strv_free_ char **errors = plan_refused(&c, &o);
        assert_non_null(strstr(errors[0], "disk 'system' (/dev/sdb) holds this profile's partition table and what it preserves, but no "
                                          "install journal"));
        assert_non_null(strstr(errors[0], "an unattended install does so only when the profile pins the disk"));
        o.unattended = false;
        o.wipe = true;
        assert_int_equal(plan_make(c.p, &c.inv, &o, &plan, &none2), 0);
        assert_true(plan->reinstall && plan->derived);
        assert_null(plan_find_step(plan, "format system/storage"));
        assert_null(plan_find_step(plan, "pv vms/pv"));
        assert_non_null(plan_find_step(plan, "format system/root"));
        case_release(&c);
}

/* The plan that only looks for an earlier install's journal (layout
 * only: no network card chosen) of a profile with a [Bridge]: the bridge's
 * file is in its steps, on no card, and nothing is left unset. */
static void test_layout_only_bridges(void **state) {
        (void) state;
        _cleanup_free_ char *path = src_path("tests/data/plans/two-bridges.inv");
        Inventory inv;
        InventoryOptions io;
        assert_int_equal(inventory_load(path, &inv, &io), 0);
        Profile *p = load_profile(io.profile);
        assert_int_equal(p->n_bridges, 1);
        PlanOptions o = { .wipe = true, .layout_only = true };
        Plan *plan = NULL;
        _cleanup_strv_free_ char **errors = NULL;
        assert_int_equal(plan_make(p, &inv, &o, &plan, &errors), 0);
        const Step *s = plan_find_step(plan, "file /etc/network/interfaces.d/hyperion-wan");
        assert_non_null(s);
        assert_non_null(strstr(s->text, "bridge_ports none"));
        char *buf = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&buf, &n);
        plan_print(plan, f);
        fclose(f);
        free(buf);
        plan_free(plan);
        profile_free(p);
        free(io.profile);
        strv_free(io.previous);
        inventory_release(&inv);
}

/* Heap's algorithm: every order of the disks gives the same plan. */
static void permute(Inventory *inv, size_t k, const Profile *p, const char *want, unsigned *count) {
        if (k == 1) {
                _cleanup_free_ char *got = plan_text(p, inv, NULL);
                if (!streq(got, want))
                        fail_msg("the plan depends on the order of the disks:\n%s", got);
                (*count)++;
                return;
        }
        for (size_t i = 0; i < k; i++) {
                permute(inv, k - 1, p, want, count);
                size_t j = k % 2 ? 0 : i;
                ProbedDisk t = inv->disks[j];
                inv->disks[j] = inv->disks[k - 1];
                inv->disks[k - 1] = t;
        }
}

static void test_every_order(void **state) {
        (void) state;
        _cleanup_free_ char *path = src_path("tests/data/plans/seed.inv");
        Inventory inv;
        InventoryOptions io;
        assert_int_equal(inventory_load(path, &inv, &io), 0);
        assert_int_equal(inv.n_disks, 5);
        Profile *p = load_profile(io.profile);
        _cleanup_free_ char *want = plan_text(p, &inv, NULL);
        assert_null(strstr(want, "error:"));
        unsigned count = 0;
        permute(&inv, inv.n_disks, p, want, &count);
        assert_int_equal(count, 120);
        profile_free(p);
        free(io.profile);
        inventory_release(&inv);
}

/* The seed machine's layout, checked number by number. */
static void test_seed_layout(void **state) {
        (void) state;
        _cleanup_free_ char *path = src_path("tests/data/plans/seed.inv");
        Inventory inv;
        InventoryOptions io;
        assert_int_equal(inventory_load(path, &inv, &io), 0);
        Profile *p = load_profile(io.profile);
        _cleanup_(plan_freep) Plan *plan = NULL;
        _cleanup_strv_free_ char **errors = NULL;
        assert_int_equal(plan_make(p, &inv, NULL, &plan, &errors), 0);

        const PlanDisk *sys = &plan->disks[1];
        assert_string_equal(sys->disk->head.name, "system");
        assert_string_equal(sys->dev->path, "/dev/sdb");
        assert_int_equal(sys->n_parts, 5);
        static const uint64_t sizes[] = { 256 * MiB, 256 * MiB, 15 * GiB, 8 * GiB };
        uint64_t at = MiB;
        for (size_t i = 0; i < 4; i++) {
                assert_int_equal(sys->parts[i].start, at);
                assert_int_equal(sys->parts[i].size, sizes[i]);
                at += sizes[i];
        }
        /* rest: up to the backup GPT, 1 MiB aligned, ~900 GB */
        uint64_t end = sys->parts[4].start + sys->parts[4].size;
        assert_true(end <= UINT64_C(1000204886016) - 33 * 512);
        assert_int_equal(end % MiB, 0);
        assert_true(UINT64_C(1000204886016) - 33 * 512 - end < MiB);
        assert_true(sys->parts[4].size > UINT64_C(900) * 1000000000);
        assert_string_equal(plan->disks[0].dev->path, "/dev/sda");
        assert_string_equal(plan->disks[2].dev->path, "/dev/sdc");
        assert_string_equal(plan->disks[3].dev->path, "/dev/sdd");

        /* vg0: one PV on the 500GB disk, six volumes. */
        assert_int_equal(plan->n_groups, 1);
        assert_int_equal(plan->groups[0].used, (10 + 4 + 4 + 2) * GiB + 2 * 128 * MiB);
        assert_int_equal(plan->n_volumes, 6);
        assert_string_equal(plan->volumes[0].name, "hadoop-disk");
        assert_string_equal(plan->volumes[5].name, "tethys-swap");
        profile_free(p);
        free(io.profile);
        inventory_release(&inv);
}

static void test_match_rules(void **state) {
        (void) state;
        Disk want = { .match_size = UINT64_C(1000000000000), .match_size_tolerance = 100, .match_model = "ST1000*",
                      .match_serial = "", .match_wwn = "", .match_by_id = "ata-X" };
        ProbedDisk have = { .size = UINT64_C(1000204886016), .model = "ST1000DM003-1ER162", .serial = "Z", .wwn = "" };
        char *ids[] = { "ata-X", "wwn-0x1", NULL };
        have.by_id = ids;
        assert_true(disk_matches(&want, &have));
        want.match_by_id = "/dev/disk/by-id/ata-X";
        assert_true(disk_matches(&want, &have));
        want.match_by_id = "ata-Y";
        assert_false(disk_matches(&want, &have));
        want.match_by_id = "";
        want.match_model = "WDC*";
        assert_false(disk_matches(&want, &have));
        want.match_model = "";
        /* 1 TiB is 9.95% more than 1 TB: not a "1TB" disk. */
        have.size = UINT64_C(1099511627776);
        assert_false(disk_matches(&want, &have));
        want.match_size_tolerance = 1000;
        assert_true(disk_matches(&want, &have));
        /* Tolerance is symmetric. */
        have.size = UINT64_C(991000000000);
        want.match_size_tolerance = 100;
        assert_true(disk_matches(&want, &have));
        have.size = UINT64_C(989000000000);
        assert_false(disk_matches(&want, &have));
}

static void test_geometry(void **state) {
        (void) state;
        ProbedDisk d = { .size = 16 * MiB, .sector_size = 512 };
        /* 16 MiB: the backup GPT takes the last 33 sectors; 15 MiB usable end. */
        assert_int_equal(plan_usable_end(&d, TABLE_GPT), 15 * MiB);
        assert_int_equal(plan_usable_end(&d, TABLE_MSDOS), 16 * MiB);
        d.sector_size = 4096;
        assert_int_equal(plan_usable_end(&d, TABLE_GPT), 15 * MiB);
        assert_int_equal(lvm_pv_capacity(16 * GiB, 4 * MiB), 16 * GiB - 4 * MiB);
        assert_int_equal(lvm_pv_capacity(MiB, 4 * MiB), 0);
}

int main(void) {
        log_set_level(LOG_LEVEL_ERROR + 1);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_golden_plans),
                cmocka_unit_test(test_layout_only_bridges), cmocka_unit_test(test_start_over), cmocka_unit_test(test_found_layout), cmocka_unit_test(test_every_order), cmocka_unit_test(test_seed_layout),
                cmocka_unit_test(test_match_rules),  cmocka_unit_test(test_geometry),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
