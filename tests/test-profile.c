/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "test-helpers.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "profile.h"
#include "size.h"

static char *read_src(const char *rel) {
        _cleanup_free_ char *p = src_path(rel);
        char *t = NULL;
        if (read_full_file(p, &t, NULL) < 0)
                fail_msg("cannot read '%s'", p);
        return t;
}

static char *print_to_string(const Profile *p) {
        char *buf = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&buf, &n);
        assert_non_null(f);
        profile_print(p, f);
        fclose(f);
        return buf;
}

static void test_hyperion_golden(void **state) {
        (void) state;
        _cleanup_free_ char *dir = src_path("profiles/hyperion");
        _cleanup_(profile_freep) Profile *p = NULL;
        _cleanup_strv_free_ char **errors = NULL;
        int r = profile_load(dir, &p, &errors);
        for (char **e = errors; e && *e; e++)
                print_message("%s\n", *e);
        assert_int_equal(r, 0);

        _cleanup_free_ char *got = print_to_string(p);
        if (!golden_equal("tests/expected/hyperion.profile", got, "the normalised profiles/hyperion"))
                fail();

        /* The seed's machine, as the issue asks. */
        assert_string_equal(p->distribution.suite, "trixie");
        assert_string_equal(p->host.hostname, "hyperion");
        assert_int_equal(p->xen.dom0_memory, 1536 * MiB);
        assert_false(p->xen.ballooning);
        assert_int_equal(p->n_disks, 4);
        assert_int_equal(p->n_domains, 3);
        /* xen-tools too, but trixie has none: see profiles/hyperion/profile.conf. */
        static const char *const pkgs[] = { "linux-image-amd64", "xen-system-amd64", "lvm2", "openssh-server" };
        for (size_t i = 0; i < ELEMENTSOF(pkgs); i++)
                assert_true(strv_contains(p->packages.install, pkgs[i]));
}

/* The normalised output is itself a profile that normalises to the same bytes. */
static void test_print_roundtrip(void **state) {
        (void) state;
        _cleanup_free_ char *dir = src_path("profiles/hyperion");
        _cleanup_(profile_freep) Profile *p = NULL, *q = NULL;
        _cleanup_strv_free_ char **e1 = NULL, **e2 = NULL;
        assert_int_equal(profile_load(dir, &p, &e1), 0);
        _cleanup_free_ char *once = print_to_string(p);

        char *names[] = { "profile.conf", NULL }, *texts[] = { once, NULL };
        assert_int_equal(profile_load_strings("hyperion", names, texts, &q, &e2), 0);
        _cleanup_free_ char *twice = print_to_string(q);
        /* Only the list of files read differs. */
        char *a = strstr(once, "\n# Mirror"), *b = strstr(twice, "\n# Mirror");
        assert_non_null(a);
        assert_non_null(b);
        assert_string_equal(a, b);
}

static void write_file(const char *path, const char *text) {
        assert_int_equal(write_file_atomic(path, text, strlen(text), 0644), 0);
}

/* profile.conf first, then the other *.conf in lexical order; nothing else. */
static void test_dropins(void **state) {
        (void) state;
        _cleanup_free_ char *base = read_src("tests/data/base-profile.conf");
        assert_int_equal(mkdir("p", 0755), 0);
        write_file("p/profile.conf", base);
        write_file("p/20-b.conf", "[Host]\nHostname=second\n[Packages]\nInstall=zsh\n");
        write_file("p/10-a.conf", "[Host]\nHostname=first\nTimezone=Europe/Paris\n[Packages]\nInstall=vim\n");
        write_file("p/notes.txt", "[Nonsense\n");
        write_file("p/.hidden.conf", "[Nonsense\n");
        write_file("p/30-c.conf", "[Packages]\nInstall=\nInstall=mg\n[Distribution]\nComponents=main contrib\n");

        _cleanup_(profile_freep) Profile *p = NULL;
        _cleanup_strv_free_ char **errors = NULL;
        assert_int_equal(profile_load("p/", &p, &errors), 0);
        assert_int_equal(strv_length(p->files), 4);
        assert_string_equal(p->files[0], "p/profile.conf");
        assert_string_equal(p->files[1], "p/10-a.conf");
        assert_string_equal(p->files[2], "p/20-b.conf");
        assert_string_equal(p->files[3], "p/30-c.conf");
        assert_string_equal(p->name, "p");
        /* Later drop-ins override single values... */
        assert_string_equal(p->host.hostname, "second");
        assert_string_equal(p->host.timezone, "Europe/Paris");
        /* ...and an empty assignment empties a list. */
        assert_int_equal(strv_length(p->packages.install), 1);
        assert_string_equal(p->packages.install[0], "mg");
        /* The first assignment of a list replaces its default. */
        assert_int_equal(strv_length(p->distribution.components), 2);
}

static void test_missing(void **state) {
        (void) state;
        _cleanup_(profile_freep) Profile *p = NULL;
        _cleanup_strv_free_ char **errors = NULL;
        assert_int_equal(profile_load("does-not-exist", &p, &errors), -ENOENT);
        assert_null(p);
        assert_string_equal(errors[0], "does-not-exist: cannot read the profile folder: No such file or directory");
        strv_free(errors);
        errors = NULL;
        assert_int_equal(mkdir("empty", 0755), 0);
        assert_int_equal(profile_load("empty", &p, &errors), -ENOENT);
        assert_string_equal(errors[0], "empty/profile.conf: cannot read: No such file or directory");
}

static void test_grammars(void **state) {
        (void) state;
        _cleanup_free_ char *base = read_src("tests/data/base-profile.conf");
        char *names[] = { "profile.conf", "50-case.conf", NULL };
        /* Hashes of the kinds login takes, and keys of the types OpenSSH knows. */
        static const char *const good[] = {
                "[Host]\nRootPasswordHash=$y$j9T$PaBsMUd2dbYz6P4YfdEC2/$3x4mL0YQmlRNhMrVOOAC3v6aiuAKKyBnA1bA2m6tE9A\n",
                "[Host]\nRootPasswordHash=$6$rounds=5000$saltsalt$"
                "Ndcp8/DRH3bhSGb5v8ImnbBJKzaG0rAFKw.IWNHyJxYyERu3aBlq/BtgXDB/GxRL1Rkr2uwx.D2f9eWNbmXdf1\n",
                "[Host]\nRootPasswordHash=$2b$12$GhvMmNVjRW29ulnudl.LbuAnUtN/LRfe1JsBm1Xu6LE3059z5Tr8m\n",
                "[Host]\nRootAuthorizedKeys=ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl me\n",
                "[Xen]\nCommandLine=console=com1 loglvl=all guest_loglvl=all ümlaut\n",
                "[Partition sys/data]\nSize=1G\nMount=/data\nMountOptions=defaults,noatime,x-systemd.device-timeout=0\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                char *texts[] = { base, (char *) good[i], NULL };
                _cleanup_(profile_freep) Profile *p = NULL;
                _cleanup_strv_free_ char **errors = NULL;
                if (profile_load_strings("t", names, texts, &p, &errors) != 0)
                        fail_msg("refused: %s: %s", good[i], errors[0]);
        }
        /* Control characters and broken UTF-8 are refused, and never echoed. */
        static const char *const bad[] = {
                "[Xen]\nCommandLine=console=com1\x01\x1b[31m\n",
                "[Xen]\nDom0CommandLine=quiet \xff\xfe\n",
                "[Host]\nHostname=bo\x1bx\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char *texts[] = { base, (char *) bad[i], NULL };
                _cleanup_(profile_freep) Profile *p = NULL;
                _cleanup_strv_free_ char **errors = NULL;
                assert_int_equal(profile_load_strings("t", names, texts, &p, &errors), -EINVAL);
                for (char **e = errors; *e; e++)
                        for (const char *c = *e; *c; c++)
                                assert_false((unsigned char) *c < 0x20 || *c == 0x7f);
        }
}

/* A profile file that is a link to /dev/zero, or a FIFO, is refused at once. */
static void test_not_regular(void **state) {
        (void) state;
        assert_int_equal(mkdir("nonreg", 0755), 0);
        _cleanup_free_ char *base = read_src("tests/data/base-profile.conf");
        assert_int_equal(write_file_atomic("nonreg/profile.conf", base, strlen(base), 0644), 0);
        assert_int_equal(symlink("/dev/zero", "nonreg/50-zero.conf"), 0);
        _cleanup_(profile_freep) Profile *p = NULL;
        _cleanup_strv_free_ char **errors = NULL;
        assert_int_equal(profile_load("nonreg", &p, &errors), -EINVAL);
        assert_string_equal(errors[0], "nonreg/50-zero.conf: not a regular file: a profile is made of plain files");
        assert_int_equal(unlink("nonreg/50-zero.conf"), 0);
        assert_int_equal(mkfifo("nonreg/60-fifo.conf", 0644), 0);
        strv_free(errors);
        errors = NULL;
        assert_int_equal(profile_load("nonreg", &p, &errors), -EINVAL);
        assert_string_equal(errors[0], "nonreg/60-fifo.conf: not a regular file: a profile is made of plain files");
}

static void test_long_lines_and_nul(void **state) {
        (void) state;
        _cleanup_free_ char *base = read_src("tests/data/base-profile.conf");
        /* An RSA key is long: 8 KiB lines are fine. */
        _cleanup_free_ char *key = xmalloc(3001);
        memset(key, 'A', 3000);
        memcpy(key, "AAAAB3NzaC1yc2EAAAADAQAB", 24); /* the blob of an RSA key: "ssh-rsa", e = 65537 */
        key[3000] = 0;
        _cleanup_free_ char *ok = xasprintf("[Host]\nRootAuthorizedKeys=ssh-rsa %s me@there\n", key);
        char *names[] = { "profile.conf", "50-case.conf", NULL };
        char *texts[] = { base, ok, NULL };
        _cleanup_(profile_freep) Profile *p = NULL;
        _cleanup_strv_free_ char **errors = NULL;
        assert_int_equal(profile_load_strings("t", names, texts, &p, &errors), 0);
        assert_int_equal(strlen(p->host.root_authorized_keys[0]), 3000 + 8 + 9);

        _cleanup_free_ char *huge = xmalloc(20001);
        memset(huge, 'x', 20000);
        huge[20000] = 0;
        _cleanup_free_ char *bad = xasprintf("[Host]\nDomain=%s\nHostname=x\n", huge);
        texts[1] = bad;
        strv_free(errors);
        errors = NULL;
        profile_free(p);
        p = NULL;
        assert_int_equal(profile_load_strings("t", names, texts, &p, &errors), -EINVAL);
        assert_string_equal(errors[0], "t/50-case.conf:2: line too long (at most 8190 characters)");
        assert_null(errors[1]);
}

/* ---- the table of bad profiles ------------------------------------------- */

typedef struct Case {
        char *title;
        char **names, **texts; /* the files of the profile */
        char **expected;
} Case;

static void case_free(Case *c) {
        free(c->title);
        strv_free(c->names);
        strv_free(c->texts);
        strv_free(c->expected);
        *c = (Case) {};
}

static void case_start(Case *c, const char *title, const char *base) {
        c->title = xstrdup(title);
        c->names = xcalloc(1, sizeof(char *));
        c->texts = xcalloc(1, sizeof(char *));
        c->expected = xcalloc(1, sizeof(char *));
        strv_push(&c->names, "profile.conf");
        strv_push(&c->texts, base);
}

/* The text of file name in the case, created empty when absent. */
static char **case_file(Case *c, const char *name, bool replace) {
        for (size_t i = 0; c->names[i]; i++)
                if (streq(c->names[i], name)) {
                        if (replace) {
                                free(c->texts[i]);
                                c->texts[i] = xstrdup("");
                        }
                        return &c->texts[i];
                }
        strv_push(&c->names, name);
        strv_push(&c->texts, "");
        return &c->texts[strv_length(c->texts) - 1];
}

static int run_case(const Case *c) {
        _cleanup_(profile_freep) Profile *p = NULL;
        _cleanup_strv_free_ char **errors = NULL;
        int r = profile_load_strings("t", c->names, c->texts, &p, &errors);
        _cleanup_free_ char *got = strv_join(errors, "\n"), *want = strv_join(c->expected, "\n");
        if (r != -EINVAL || p || !streq(got, want)) {
                print_error("case '%s':\n  expected: %s\n  got (r=%d):  %s\n", c->title, want, r, got);
                return 1;
        }
        return 0;
}

static void test_bad_profiles(void **state) {
        (void) state;
        _cleanup_free_ char *base = read_src("tests/data/base-profile.conf");
        _cleanup_free_ char *table = read_src("tests/data/bad-profiles.txt");

        /* The base itself is valid, or every case would prove nothing. */
        {
                char *names[] = { "profile.conf", NULL }, *texts[] = { base, NULL };
                _cleanup_(profile_freep) Profile *p = NULL;
                _cleanup_strv_free_ char **errors = NULL;
                assert_int_equal(profile_load_strings("t", names, texts, &p, &errors), 0);
        }

        Case c = {};
        char **file = NULL;
        unsigned cases = 0, failures = 0;
        /* strsep, not strtok: blank lines inside a file count. */
        for (char *rest = table, *line; (line = strsep(&rest, "\n"));) {
                if (!rest && !*line)
                        break;
                if (startswith(line, "== ")) {
                        if (c.title) {
                                failures += run_case(&c);
                                cases++;
                                case_free(&c);
                        }
                        case_start(&c, line + 3, base);
                        file = NULL;
                } else if (startswith(line, "-- ") || startswith(line, "++ ")) {
                        assert_non_null(c.title);
                        file = case_file(&c, line + 3, line[0] == '-');
                } else if (startswith(line, ">> ")) {
                        assert_non_null(c.title);
                        strv_push(&c.expected, line + 3);
                        file = NULL;
                } else if (file) {
                        char *t = xasprintf("%s%s\n", *file, line);
                        free(*file);
                        *file = t;
                } else if (line[0] && line[0] != '#')
                        fail_msg("bad-profiles.txt: line outside of a file: '%s'", line);
        }
        if (c.title) {
                failures += run_case(&c);
                cases++;
                case_free(&c);
        }
        print_message("%u bad profiles, %u failed\n", cases, failures);
        assert_true(cases >= 30);
        assert_int_equal(failures, 0);
}

int main(void) {
        log_set_level(LOG_LEVEL_ERROR + 1);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_hyperion_golden), cmocka_unit_test(test_grammars), cmocka_unit_test(test_not_regular),    cmocka_unit_test(test_print_roundtrip),
                cmocka_unit_test(test_dropins),            cmocka_unit_test(test_missing),
                cmocka_unit_test(test_long_lines_and_nul), cmocka_unit_test(test_bad_profiles),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
