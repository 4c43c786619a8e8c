/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The ISO stage on a tiny tree: the El Torito catalogue has a BIOS and a
 * UEFI entry, the image carries a GPT with the ISO and an EFI system
 * partition behind a protective MBR with GRUB's boot code, and two builds
 * of the same tree are the same bytes.
 */
#include "test-helpers.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build.h"
#include "log.h"
#include "profile.h"
#include "run.h"
#include "sha256.h"

static bool have(const char *path) {
        return access(path, F_OK) == 0;
}

static void make_tree(const char *work) {
        _cleanup_free_ char *live = xasprintf("%s/iso/live", work);
        assert_int_equal(RUN(NULL, "mkdir", "-p", live), 0);
        static const char *const files[] = { "vmlinuz", "initrd.img", "filesystem.squashfs" };
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *p = xasprintf("%s/%s", live, files[i]);
                assert_int_equal(write_file_atomic(p, files[i], strlen(files[i]), 0644), 0);
        }
}

static char *build_iso(const Profile *p, const char *name) {
        _cleanup_free_ char *work = xasprintf("%s.work", name);
        make_tree(work);
        Build b = {
                .profile = p,
                .work = work,
                .output = (char *) name,
                .source_date_epoch = 1795252544,
        };
        assert_int_equal(stage_iso(&b), 0);
        char *hex = xmalloc(65);
        assert_int_equal(sha256_file(name, hex), 0);
        return hex;
}

static void test_iso(void **state) {
        (void) state;
        if (!have("/usr/lib/grub/i386-pc/boot_hybrid.img") || !have("/usr/lib/grub/x86_64-efi/linux.mod")) {
                print_message("skipped: grub-pc-bin and grub-efi-amd64-bin are not installed\n");
                skip();
        }
        _cleanup_(profile_freep) Profile *p = load_src_profile("profiles/hyperion");

        _cleanup_free_ char *one = build_iso(p, "one.iso");
        _cleanup_free_ char *two = build_iso(p, "two.iso");
        assert_string_equal(one, two);

        /* The checksum file beside it. */
        _cleanup_free_ char *sums = NULL;
        assert_int_equal(read_full_file("one.iso.sha256", &sums, NULL), 0);
        _cleanup_free_ char *want = xasprintf("%s  one.iso\n", one);
        assert_string_equal(sums, want);

        _cleanup_free_ char *cat = NULL, *err = NULL;
        RunOptions o = { .capture = &cat, .capture_err = &err };
        assert_int_equal(run((char *[]) { "xorriso", "-indev", "one.iso", "-report_el_torito", "plain", NULL }, &o), 0);
        assert_non_null(strstr(cat, "El Torito boot img :   1  BIOS  y   none"));
        assert_non_null(strstr(cat, "El Torito boot img :   2  UEFI  y   none"));
        assert_non_null(strstr(cat, "/boot/grub/i386-pc/eltorito.img"));

        _cleanup_free_ char *table = NULL;
        RunOptions t = { .capture = &table };
        assert_int_equal(run((char *[]) { "sfdisk", "--dump", "one.iso", NULL }, &t), 0);
        assert_non_null(strstr(table, "label: gpt"));
        /* The EFI system partition, GPT type C12A7328-... */
        assert_non_null(strstr(table, "type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B"));
        assert_non_null(strstr(table, "name=\"ISO9660\""));

        /* GRUB's BIOS boot code in the MBR: boot_hybrid.img's first 440 bytes. */
        _cleanup_free_ char *mbr = NULL, *code = NULL;
        size_t n1, n2;
        assert_int_equal(read_full_file("one.iso", &mbr, &n1), 0);
        assert_int_equal(read_full_file("/usr/lib/grub/i386-pc/boot_hybrid.img", &code, &n2), 0);
        assert_true(n1 > 512 && n2 >= 440);
        assert_memory_equal(mbr + 0x1fe, "\x55\xaa", 2);

        /* Whole or nothing: no partial file left. */
        assert_int_equal(access("one.iso.partial", F_OK), -1);
}

int main(void) {
        log_set_level(LOG_LEVEL_WARNING);
        const struct CMUnitTest tests[] = { cmocka_unit_test(test_iso) };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
