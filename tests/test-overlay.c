/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An overlay laid over an image root never reaches outside it: a file
 * whose destination is an absolute link (etc/localtime) replaces the link,
 * never the build host's file it names; a link met on the way is followed
 * inside the root (lib -> usr/lib), ".." never climbs above it; what is
 * laid is root's, whoever owned the overlay; the image's folders keep their
 * owner and mode.
 */
#include "test-helpers.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "overlay.h"
#include "run.h"

static void put(const char *path, const char *text, mode_t mode) {
        assert_int_equal(write_file_atomic(path, text, strlen(text), (int) mode), 0);
}

static char *slurp(const char *path) {
        char *t = NULL;
        return read_full_file(path, &t, NULL) == 0 ? t : NULL;
}

static void test_inside_root(void **state) {
        (void) state;
        if (geteuid() != 0) {
                print_message("skipped: owners can only be set by root\n");
                skip();
        }
        char here[4096];
        assert_non_null(getcwd(here, sizeof here));
        /* The "build host": files the image's links point at, as absolute paths. */
        _cleanup_free_ char *host = path_join(here, "host"), *zone = path_join(host, "zone");
        assert_int_equal(RUN(NULL, "mkdir", "-p", "host", "root/etc", "root/usr/lib", "root/srv", "overlay/etc", "overlay/lib",
                             "overlay/srv/escape"),
                         0);
        put("host/zone", "the build host's time zone\n", 0644);
        /* The image: an absolute link to the "host" file, a merged /usr, a link climbing out. */
        assert_int_equal(symlink(zone, "root/etc/localtime"), 0);
        assert_int_equal(symlink("usr/lib", "root/lib"), 0);
        _cleanup_free_ char *up = xasprintf("../../../../../../../../../../%s", here + 1);
        _cleanup_free_ char *esc = xasprintf("%s/host", up);
        assert_int_equal(symlink(esc, "root/srv/escape"), 0);
        assert_int_equal(chmod("root/etc", 0751), 0);
        /* The overlay, owned by a normal user. */
        put("overlay/etc/localtime", "overlay's zone\n", 0644);
        put("overlay/lib/x.conf", "x\n", 0640);
        put("overlay/srv/escape/zone", "climbed out\n", 0644);
        assert_int_equal(chmod("overlay/etc", 0700), 0);
        assert_int_equal(RUN(NULL, "chown", "-R", "1000:1000", "overlay"), 0);

        assert_int_equal(overlay_lay("overlay", "root", false), 0);

        /* The host's file is untouched; the link in the image was replaced. */
        _cleanup_free_ char *h = slurp("host/zone"), *l = slurp("root/etc/localtime");
        assert_string_equal(h, "the build host's time zone\n");
        struct stat st;
        assert_int_equal(lstat("root/etc/localtime", &st), 0);
        assert_true(S_ISREG(st.st_mode));
        assert_string_equal(l, "overlay's zone\n");
        assert_int_equal(st.st_uid, 0);
        assert_int_equal(st.st_gid, 0);
        /* Through lib -> usr/lib, inside the image. */
        assert_int_equal(lstat("root/usr/lib/x.conf", &st), 0);
        assert_int_equal(st.st_mode & 0777, 0640);
        assert_int_equal(st.st_uid, 0);
        /* The climbing link ends inside the root: "host" there, not the host. */
        _cleanup_free_ char *in = path_join("root", here + 1);
        _cleanup_free_ char *landed = xasprintf("%s/host/zone", in);
        assert_int_equal(access(landed, F_OK), 0);
        /* The image's folder keeps its mode and owner. */
        assert_int_equal(stat("root/etc", &st), 0);
        assert_int_equal(st.st_mode & 0777, 0751);
        assert_int_equal(st.st_uid, 0);

        /* Kept owners, when the profile says so. */
        assert_int_equal(RUN(NULL, "mkdir", "-p", "root2"), 0);
        assert_int_equal(overlay_lay("overlay", "root2", true), 0);
        assert_int_equal(lstat("root2/etc/localtime", &st), 0);
        assert_int_equal(st.st_uid, 1000);
}

int main(void) {
        log_set_level(LOG_LEVEL_ERROR + 1);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_inside_root),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
