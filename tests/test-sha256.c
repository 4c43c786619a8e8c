/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "test-helpers.h"

#include <string.h>

#include "sha256.h"

static char *hex_of(const void *data, size_t n) {
        Sha256 s;
        uint8_t d[32];
        static char out[65];
        sha256_init(&s);
        sha256_update(&s, data, n);
        sha256_final(&s, d);
        sha256_hex(d, out);
        return out;
}

static void test_vectors(void **state) {
        (void) state;
        /* FIPS 180-4 examples. */
        assert_string_equal(hex_of("", 0), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_string_equal(hex_of("abc", 3), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        assert_string_equal(hex_of(two, strlen(two)), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
        /* A million 'a', fed in uneven pieces. */
        Sha256 s;
        sha256_init(&s);
        char a[997];
        memset(a, 'a', sizeof a);
        size_t left = 1000000;
        while (left) {
                size_t k = left < sizeof a ? left : sizeof a;
                sha256_update(&s, a, k);
                left -= k;
        }
        uint8_t d[32];
        char out[65];
        sha256_final(&s, d);
        sha256_hex(d, out);
        assert_string_equal(out, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_file(void **state) {
        (void) state;
        assert_int_equal(write_file_atomic("f", "abc", 3, 0644), 0);
        char out[65];
        assert_int_equal(sha256_file("f", out), 0);
        assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_true(sha256_file("missing", out) < 0);
}

int main(void) {
        const struct CMUnitTest tests[] = { cmocka_unit_test(test_vectors), cmocka_unit_test(test_file) };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
