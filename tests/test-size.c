/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "test-helpers.h"

#include <errno.h>

#include "size.h"

static void test_parse_ok(void **state) {
        (void) state;
        static const struct {
                const char *in;
                uint64_t out;
        } cases[] = {
                { "0", 0 },
                { "4096", 4096 },
                { "512K", 512 * KiB },
                { "256M", 256 * MiB },
                { "256MiB", 256 * MiB },
                { "15G", 15 * GiB },
                { "1T", TiB },
                { "1.5G", 1536 * MiB },
                { "0.5M", 512 * KiB },
                { "1TB", UINT64_C(1000000000000) },
                { "3TB", UINT64_C(3000000000000) },
                { "500GB", UINT64_C(500000000000) },
                { "320GB", UINT64_C(320000000000) },
                { "1.5TB", UINT64_C(1500000000000) },
                { "100MB", 100000000 },
                { "1kB", 1000 },
                { "1KB", 1000 },
                { "8B", 8 },
                { "  2G  ", 2 * GiB },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint64_t v = 1;
                int r = parse_size(cases[i].in, &v);
                if (r != 0 || v != cases[i].out)
                        fail_msg("parse_size('%s') = %d, %llu; expected %llu", cases[i].in, r, (unsigned long long) v,
                                 (unsigned long long) cases[i].out);
        }
}

static void test_parse_bad(void **state) {
        (void) state;
        static const char *const bad[] = { "", "G", "15Q", "1.5", "1.B", "-1G", "1e3", "1G1", "one", ".5G", "1.1K",
                                           "0.0000000001T", "1 2G" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                uint64_t v;
                if (parse_size(bad[i], &v) != -EINVAL)
                        fail_msg("parse_size('%s') accepted a bad size", bad[i]);
        }
        uint64_t v;
        assert_int_equal(parse_size("99999999999999999999", &v), -ERANGE);
        assert_int_equal(parse_size("20000000T", &v), -ERANGE);
        assert_int_equal(parse_size(NULL, &v), -EINVAL);
}

static void test_rest(void **state) {
        (void) state;
        uint64_t v = 7;
        bool rest = false;
        assert_int_equal(parse_size_or_rest("rest", &v, &rest), 0);
        assert_true(rest);
        assert_int_equal(v, 0);
        assert_int_equal(parse_size_or_rest("15G", &v, &rest), 0);
        assert_false(rest);
        assert_int_equal(v, 15 * GiB);
        assert_int_equal(parse_size_or_rest("rst", &v, &rest), -EINVAL);
}

static void test_format(void **state) {
        (void) state;
        char b[SIZE_BUF];
        assert_string_equal(format_size(b, 15 * GiB), "15G");
        assert_string_equal(format_size(b, 1536 * MiB), "1536M");
        assert_string_equal(format_size(b, 256 * MiB), "256M");
        assert_string_equal(format_size(b, 4096), "4K");
        assert_string_equal(format_size(b, 1000), "1000");
        assert_string_equal(format_size(b, 0), "0");
        assert_string_equal(format_size(b, 2 * TiB), "2T");
        assert_string_equal(format_size_decimal(b, UINT64_C(1000000000000)), "1TB");
        assert_string_equal(format_size_decimal(b, UINT64_C(500000000000)), "500GB");
        assert_string_equal(format_size_decimal(b, UINT64_C(1000204886016)), "1000204886016");
        assert_string_equal(format_size_human(b, UINT64_C(1000204886016)), "931.5G");
        assert_string_equal(format_size_human(b, 15 * GiB), "15G");
        assert_string_equal(format_size_human(b, 512), "512B");
        assert_string_equal(format_size_human_decimal(b, UINT64_C(1000204886016)), "1TB");
        assert_string_equal(format_size_human_decimal(b, UINT64_C(320072933376)), "320.1GB");
}

static void test_roundtrip(void **state) {
        (void) state;
        /* Everything format_size prints, parse_size reads back. */
        for (uint64_t v = 1; v < UINT64_C(1) << 52; v = v * 3 + 1024) {
                char b[SIZE_BUF];
                uint64_t back;
                assert_int_equal(parse_size(format_size(b, v), &back), 0);
                assert_int_equal(back, v);
                assert_int_equal(parse_size(format_size_decimal(b, v), &back), 0);
                assert_int_equal(back, v);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_ok), cmocka_unit_test(test_parse_bad), cmocka_unit_test(test_rest),
                cmocka_unit_test(test_format),   cmocka_unit_test(test_roundtrip),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
