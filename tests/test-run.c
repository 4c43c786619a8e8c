/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "test-helpers.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "run.h"

static void test_status(void **state) {
        (void) state;
        assert_int_equal(run((char *[]) { "true", NULL }, NULL), 0);
        assert_int_equal(run((char *[]) { "false", NULL }, NULL), 1);
        assert_int_equal(run((char *[]) { "sh", "-c", "exit 7", NULL }, NULL), 7);
        assert_int_equal(run((char *[]) { "sh", "-c", "kill -9 $$", NULL }, NULL), 128 + 9);
        assert_int_equal(run((char *[]) { "hyperion-no-such-program", NULL }, NULL), 127);
        assert_int_equal(RUN(NULL, "true"), 0);
        assert_int_equal(RUN(NULL, "false"), -EIO);
        assert_int_equal(RUN(NULL, "hyperion-no-such-program"), -ENOENT);
        assert_int_equal(run((char *[]) { NULL }, NULL), -EINVAL);
}

static void test_capture(void **state) {
        (void) state;
        _cleanup_free_ char *out = NULL, *err = NULL;
        RunOptions o = { .capture = &out, .capture_err = &err };
        /* Arguments reach the program as they are: no shell in between. */
        assert_int_equal(run((char *[]) { "printf", "%s|%s", "a b", "$HOME;ls", NULL }, &o), 0);
        assert_string_equal(out, "a b|$HOME;ls");
        assert_string_equal(err, "");
        free(out);
        free(err);
        out = err = NULL;
        assert_int_equal(run((char *[]) { "sh", "-c", "echo out; echo err >&2", NULL }, &o), 0);
        assert_string_equal(out, "out\n");
        assert_string_equal(err, "err\n");
        free(out);
        out = NULL;
        /* Large outputs on both pipes do not dead-lock. */
        RunOptions big = { .capture = &out };
        assert_int_equal(run((char *[]) { "head", "-c", "1000000", "/dev/zero", NULL }, &big), 0);
        assert_non_null(out);
}

static void test_env_cwd_stdin(void **state) {
        (void) state;
        _cleanup_free_ char *out = NULL;
        char *env[] = { "HYPERION_T=x y", "PATH=/usr/bin:/bin", NULL };
        RunOptions o = { .capture = &out, .env = env, .cwd = "/" };
        assert_int_equal(run((char *[]) { "sh", "-c", "echo \"$HYPERION_T\"; pwd; cat", NULL }, &o), 0);
        /* stdin is /dev/null: cat ends at once. */
        assert_string_equal(out, "x y\n/\n");
        free(out);
        out = NULL;
        RunOptions c = { .capture = &out, .clear_env = true };
        setenv("HYPERION_LEAK", "1", 1);
        assert_int_equal(run((char *[]) { "sh", "-c", "echo ${HYPERION_LEAK:-none} $LC_ALL", NULL }, &c), 0);
        assert_string_equal(out, "none C.UTF-8\n");
        unsetenv("HYPERION_LEAK");
        RunOptions bad = { .cwd = "/nonexistent-hyperion" };
        assert_int_equal(run((char *[]) { "true", NULL }, &bad), 127);
}

static void test_dry_run(void **state) {
        (void) state;
        RunOptions o = { .dry_run = true };
        assert_int_equal(RUN(&o, "touch", "should-not-exist"), 0);
        assert_int_equal(access("should-not-exist", F_OK), -1);
        assert_int_equal(RUN(NULL, "touch", "exists"), 0);
        assert_int_equal(access("exists", F_OK), 0);
}

static void test_quiet(void **state) {
        (void) state;
        /* quiet: standard output goes nowhere, and the status still comes back. */
        RunOptions o = { .quiet = true };
        assert_int_equal(run((char *[]) { "sh", "-c", "echo noise; exit 3", NULL }, &o), 3);
}

int main(void) {
        log_set_level(LOG_LEVEL_ERROR + 1);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_status),  cmocka_unit_test(test_capture), cmocka_unit_test(test_env_cwd_stdin),
                cmocka_unit_test(test_dry_run), cmocka_unit_test(test_quiet),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
