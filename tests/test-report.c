/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The report's reading of a guest's console log (xenconsoled's, with time
 * stamps): the current domain's output, the guest's "up" line, the last
 * lines of a guest that is not up; and systemd's names of mount units.
 */
#include "test-helpers.h"

#include <string.h>
#include <time.h>

#include "log.h"
#include "medium.h"
#include "report.h"

#define UUID1 "6f0c2a4e-1111-4c2a-9e51-0d2c6b1f7a10"
#define UUID2 "6f0c2a4e-2222-4c2a-9e51-0d2c6b1f7a10"
#define UP_LINE(name, swap, uuid)                                                                                   \
        "[2026-12-01 10:00:48] " GUEST_READY_PREFIX name " up after 48 s: multi-user; swap " swap "; address eth0 " \
        "10.0.2.16/24; ssh active after 41 s; failed none; domain " uuid "\r\n"

static const char log_two_boots[] =
        "[2026-12-01 09:00:00] Logfile Opened\n"
        "[2026-12-01 09:00:01] [    0.000000] Linux version 6.12\n" UP_LINE("io", "/dev/xvdb 131068k", UUID1)
        "[2026-12-01 09:59:00] reboot: Power down\n"
        "[2026-12-01 10:00:00] Logfile Opened\n"
        "[2026-12-01 10:00:01] [    0.000000] Linux version 6.12\n"
        "[2026-12-01 10:00:30] Debian GNU/Linux 13 io hvc0\n"
        "[2026-12-01 10:00:30] \n"
        "[2026-12-01 10:00:31] io login: ";

static void test_current_domain(void **state) {
        (void) state;
        time_t opened;
        const char *s = console_current(log_two_boots, &opened);
        /* Only the second domain's output: its "up" line is not there yet. */
        assert_non_null(strstr(s, "io login:"));
        assert_null(strstr(s, "reboot: Power down"));
        struct tm tm = { .tm_year = 126, .tm_mon = 11, .tm_mday = 1, .tm_hour = 10, .tm_isdst = -1 };
        assert_int_equal((long long) opened, (long long) mktime(&tm));
        GuestReady g = {};
        assert_int_equal(guest_ready_parse(s, "io", NULL, &g), 0);
        /* The whole log has it, from the domain before: not this one's. */
        assert_int_equal(guest_ready_parse(log_two_boots, "io", UUID2, &g), 0);
        assert_int_equal(guest_ready_parse(log_two_boots, "io", UUID1, &g), 1);
        assert_string_equal(g.domain, UUID1);
        guest_ready_done(&g);

        /* No "Logfile Opened" (no time stamps): the whole text. */
        const char *plain = "Linux version 6.12\nio login: ";
        assert_ptr_equal(console_current(plain, &opened), plain);
        assert_int_equal((long long) opened, -1);
}

static void test_ready_line(void **state) {
        (void) state;
        /* After a login prompt on the same line, as hvc0 shows it. */
        const char *s = "[2026-12-01 10:00:31] io login: " UP_LINE("io", "/dev/xvdb 131068k", UUID1)
                UP_LINE("io", "/dev/xvdb 131068k", UUID2);
        GuestReady g = {};
        assert_int_equal(guest_ready_parse(s, "io", UUID1, &g), 1);
        assert_int_equal(g.up_seconds, 48);
        assert_string_equal(g.swap, "/dev/xvdb 131068k");
        assert_string_equal(g.address, "eth0 10.0.2.16/24");
        assert_string_equal(g.ssh, "active after 41 s");
        assert_string_equal(g.failed, "none");
        assert_string_equal(g.domain, UUID1);
        guest_ready_done(&g);
        assert_int_equal(guest_ready_parse(s, "io", NULL, &g), 1);
        assert_string_equal(g.domain, UUID2);
        guest_ready_done(&g);
        /* Another guest's line is not this one's. */
        assert_int_equal(guest_ready_parse(s, "i", NULL, &g), 0);
        assert_int_equal(guest_ready_parse(UP_LINE("tethys", "none", UUID1), "tethys", UUID1, &g), 1);
        assert_string_equal(g.swap, "none");
        guest_ready_done(&g);
        /* A guest's line cannot act on dom0's terminal: "failed x" with
         * backspaces over it (which would show "none"), a C1 CSI (U+009B)
         * and a raw 0x9b byte, SO, an answer-back request: printed as
         * plain characters, and not "none". */
        assert_int_equal(guest_ready_parse(GUEST_READY_PREFIX "io up after 48 s: multi-user; swap /dev/xvdb\xc2\x9b""2K 1k; "
                                           "address eth0\x0e 10.0.2.16/24; ssh active\x1b[6n; failed bad\b\b\bnone\x9b; domain " UUID1 "\n",
                                           "io", UUID1, &g),
                         1);
        assert_string_equal(g.swap, "/dev/xvdb?2K 1k");
        assert_string_equal(g.address, "eth0  10.0.2.16/24");
        assert_string_equal(g.ssh, "active [6n");
        assert_string_equal(g.failed, "bad   none?");
        guest_ready_done(&g);
        /* A cut line is nothing. */
        assert_int_equal(guest_ready_parse(GUEST_READY_PREFIX "io up after 48 s: multi-user; swap none; addr", "io", NULL, &g), 0);
        assert_int_equal(guest_ready_parse(GUEST_READY_PREFIX "io up after x s: multi-user; swap none", "io", NULL, &g), 0);
}

static void test_last_lines(void **state) {
        (void) state;
        _cleanup_strv_free_ char **l = console_last_lines("a\n\n  \nb\x1b[0m\r\nc\n", 2);
        assert_int_equal(strv_length(l), 2);
        assert_string_equal(l[0], "b [0m");
        assert_string_equal(l[1], "c");
        /* Accents kept; C1 controls, broken UTF-8 and backspaces not. */
        _cleanup_strv_free_ char **c1 = console_last_lines("Démarré \xc2\x9b""2J\b\bNOT up \xe9\xff \xf0\x9f\x98\x80\n", 5);
        assert_int_equal(strv_length(c1), 1);
        assert_string_equal(c1[0], "Démarré ?2J  NOT up ?? \xf0\x9f\x98\x80");
        _cleanup_strv_free_ char **none = console_last_lines("", 5);
        assert_int_equal(strv_length(none), 0);
}

static void test_mount_unit(void **state) {
        (void) state;
        static const char *const cases[][2] = {
                { "/srv/data", "srv-data.mount" }, { "/", "-.mount" },           { "/srv//data/", "srv-data.mount" },
                { "/srv/my data", "srv-my\\x20data.mount" }, { "/a-b", "a\\x2db.mount" }, { "/.hidden", "\\x2ehidden.mount" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *u = mount_unit_name(cases[i][0]);
                assert_string_equal(u, cases[i][1]);
        }
}

static void test_creation_of(void **state) {
        (void) state;
        char *lines[] = { "io created id 2", "europa pending", "europ created id 9", "europa created id 5 after 2 attempts", NULL };
        assert_string_equal(guest_creation_of(lines, "io"), "created id 2");
        /* Day two's creation, after the boot's word. */
        assert_string_equal(guest_creation_of(lines, "europa"), "created id 5 after 2 attempts");
        assert_string_equal(guest_creation_of(lines, "europ"), "created id 9");
        assert_null(guest_creation_of(lines, "hadoop"));
        assert_null(guest_creation_of(lines, "e"));
}

int main(void) {
        log_set_level(LOG_LEVEL_ERROR + 1);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_current_domain),
                cmocka_unit_test(test_ready_line),
                cmocka_unit_test(test_last_lines),
                cmocka_unit_test(test_mount_unit),
                cmocka_unit_test(test_creation_of),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
