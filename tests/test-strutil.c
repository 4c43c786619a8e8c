/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "test-helpers.h"

#include <errno.h>
#include <sys/stat.h>

#include "log.h"

static void test_strv(void **state) {
        (void) state;
        _cleanup_strv_free_ char **l = strv_split_ws("  b a\tc  a ");
        assert_int_equal(strv_length(l), 4);
        assert_string_equal(l[0], "b");
        assert_string_equal(l[3], "a");
        strv_push(&l, "d");
        assert_true(strv_contains(l, "d"));
        assert_false(strv_contains(l, "e"));
        strv_sort(l);
        _cleanup_free_ char *j = strv_join(l, ",");
        assert_string_equal(j, "a,a,b,c,d");
        _cleanup_strv_free_ char **c = strv_copy(l);
        assert_int_equal(strv_length(c), 5);
        _cleanup_strv_free_ char **e = strv_split_ws("");
        assert_non_null(e);
        assert_null(e[0]);
        _cleanup_free_ char *je = strv_join(e, ",");
        assert_string_equal(je, "");
}

static void test_paths(void **state) {
        (void) state;
        static const char *const cases[][3] = {
                { "a", "b", "a/b" },       { "a/", "/b", "a/b" }, { "/", "etc", "/etc" },
                { "/x//", "y/z", "/x/y/z" }, { "", "b", "b" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *p = path_join(cases[i][0], cases[i][1]);
                assert_string_equal(p, cases[i][2]);
        }
        assert_true(startswith("hyperion", "hyp"));
        assert_false(startswith("hy", "hyp"));
        assert_true(endswith("a.conf", ".conf"));
        assert_false(endswith("conf", ".conf"));
        char s[] = "  \t x y \n";
        assert_string_equal(strstrip(s), "x y");
}

static void test_terminal_safe(void **state) {
        (void) state;
        static const char *const cases[][2] = {
                { "plain text: 10.0.2.16/24", "plain text: 10.0.2.16/24" },
                { "é à ü € \xf0\x9f\x98\x80", "é à ü € \xf0\x9f\x98\x80" },  /* valid UTF-8 is kept */
                { "a\bb\tc\x1b[2Jd\x7f", "a b c [2Jd " },                    /* C0 and DEL: spaces */
                { "\xc2\x9b""2J \xc2\x85 \xc2\xa0", "?2J ? \xc2\xa0" },        /* C1 (CSI, NEL): '?', NBSP kept */
                { "\x9b \xff \xc0\xaf \xe0\x80\xaf \xed\xa0\x80 \xf4\x90\x80\x80 \xe2\x82", "? ? ?? ??? ??? ???? ??" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *s = xstrdup(cases[i][0]);
                assert_string_equal(str_terminal_safe(s), cases[i][1]);
        }
}

static void test_edit_distance(void **state) {
        (void) state;
        assert_int_equal(edit_distance("Size", "Size"), 0);
        assert_int_equal(edit_distance("Sise", "Size"), 1);
        assert_int_equal(edit_distance("size", "Size"), 0);
        assert_int_equal(edit_distance("", "abc"), 3);
        assert_int_equal(edit_distance("Hostnme", "Hostname"), 1);
        assert_int_equal(edit_distance("kitten", "sitting"), 3);
}

static void test_quote(void **state) {
        (void) state;
        char *argv[] = { "mkfs.ext4", "-L", "my label", "it's", "", "/dev/sda1", NULL };
        _cleanup_free_ char *d = argv_to_display(argv);
        assert_string_equal(d, "mkfs.ext4 -L 'my label' 'it'\\''s' '' /dev/sda1");
}

static void test_files(void **state) {
        (void) state;
        assert_int_equal(write_file_atomic("f", "hello\n", 6, 0600), 0);
        _cleanup_free_ char *t = NULL;
        size_t n;
        assert_int_equal(read_full_file("f", &t, &n), 0);
        assert_int_equal(n, 6);
        assert_string_equal(t, "hello\n");
        struct stat st;
        assert_int_equal(stat("f", &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(read_full_file("missing", &t, &n), -ENOENT);
}

static void test_log(void **state) {
        (void) state;
        FILE *f = tmpfile();
        assert_non_null(f);
        log_set_file(f);
        log_set_level(LOG_LEVEL_ERROR + 1); /* nothing on stderr */
        assert_int_equal(log_error_errno(ENOENT, "cannot open '%s': %m", "x"), -ENOENT);
        assert_int_equal(log_error_errno(-EACCES, "denied"), -EACCES);
        log_debug("debug %d", 1);
        log_set_file(NULL);
        rewind(f);
        char buf[512] = {};
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = 0;
        assert_string_equal(buf, "<error> cannot open 'x': No such file or directory\n"
                                 "<error> denied\n"
                                 "<debug> debug 1\n");
        assert_int_equal(log_level_from_string("warning"), LOG_LEVEL_WARNING);
        assert_int_equal(log_level_from_string("loud"), -EINVAL);
        char d[32];
        assert_string_equal(format_duration(d, sizeof d, 850000), "850ms");
        assert_string_equal(format_duration(d, sizeof d, 12345678), "12.3s");
        assert_string_equal(format_duration(d, sizeof d, 83000000), "1m 23s");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_strv),  cmocka_unit_test(test_paths), cmocka_unit_test(test_edit_distance), cmocka_unit_test(test_terminal_safe),
                cmocka_unit_test(test_quote), cmocka_unit_test(test_files), cmocka_unit_test(test_log),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
