/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The builder's planning: the stages and their order, the cache keys (same
 * inputs, same key; any input changed, another key), and which mirror the
 * build machine's apt sources name.
 */
#include "test-helpers.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bootstrap.h"
#include "build.h"
#include "log.h"
#include "mirror.h"
#include "release.h"
#include "run.h"
#include "sha256.h"
#include "suite.h"

static void test_package_list(void **state) {
        (void) state;
        /* The hyperion packages' named Depends are known before they are
         * built (debian/control): installed with the rest. */
        Profile p = {};
        char *install[] = { "xen-system-amd64", NULL };
        p.packages.install = install;
        _cleanup_free_ char *source = src_path("");
        Build b = { .profile = &p, .source = source };
        _cleanup_strv_free_ char **l = build_package_list(&b);
        static const char *const want[] = { "xen-system-amd64", "live-boot", "dosfstools", "grub-pc-bin", "lvm2", "squashfs-tools",
                                            "logrotate", "systemd-sysv",
                                            /* hyperion-firstboot refresh-archive */ "mmdebstrap", NULL };
        for (size_t i = 0; want[i]; i++)
                if (!strv_contains(l, want[i]))
                        fail_msg("%s is not in the package list", want[i]);
        for (char **x = l; *x; x++) {
                assert_false(startswith(*x, "${"));
                assert_false(startswith(*x, "hyperion-"));
                /* Not the builder's own (hyperion-build's Depends). */
                assert_false(streq(*x, "xorriso"));
                if (x[1])
                        assert_true(strcmp(x[0], x[1]) < 0);
        }
}

static void test_stage_order(void **state) {
        (void) state;
        static const char *const want[] = { "bootstrap", "firstboot", "guest", "packages", "install", "overlays",
                                            "customise", "clean",     "squash", "iso",       NULL };
        size_t i = 0;
        for (const Stage *s = build_stages; s->name; s++, i++) {
                assert_non_null(want[i]);
                assert_string_equal(s->name, want[i]);
                assert_non_null(s->run);
                /* The hyperion packages and the guest root run beside the
                 * live system's packages and are waited for at the install. */
                assert_true(s->aside == (streq(s->name, "guest") || streq(s->name, "firstboot")));
                assert_true(s->join == streq(s->name, "install"));
        }
        assert_null(want[i]);
}

static void test_bootstrap_key(void **state) {
        (void) state;
        char *comps[] = { "main", NULL }, *more[] = { "main", "contrib", NULL };
        Distribution d = { .suite = "trixie", .architecture = "amd64", .components = comps };
        char a[65], b[65], c[65];
        const char *rel = "4e7a", *newer = "9f00";
        bootstrap_key(&d, "http://mirror.invalid/debian", rel, a);
        bootstrap_key(&d, "http://mirror.invalid/debian", rel, b);
        assert_string_equal(a, b);
        assert_int_equal(strlen(a), 64);
        bootstrap_key(&d, "http://other.invalid/debian", rel, c);
        assert_string_not_equal(a, c);
        /* The mirror moved on: the cache no longer fits. */
        bootstrap_key(&d, "http://mirror.invalid/debian", newer, c);
        assert_string_not_equal(a, c);
        d.suite = "bookworm";
        bootstrap_key(&d, "http://mirror.invalid/debian", rel, c);
        assert_string_not_equal(a, c);
        d.suite = "trixie";
        d.components = more;
        bootstrap_key(&d, "http://mirror.invalid/debian", rel, c);
        assert_string_not_equal(a, c);
}

static void test_cache_path(void **state) {
        (void) state;
        Build b = { .cache = "/var/cache/hyperion" };
        _cleanup_free_ char *p = cache_path(&b, "packages", "0123456789abcdef0123456789abcdef", ".tar.zst");
        assert_string_equal(p, "/var/cache/hyperion/packages-0123456789abcdef.tar.zst");
}

static void put(const char *path, const char *text) {
        _cleanup_free_ char *dir = xstrdup(path);
        *strrchr(dir, '/') = 0;
        assert_int_equal(RUN(NULL, "mkdir", "-p", dir), 0);
        assert_int_equal(write_file_atomic(path, text, strlen(text), 0644), 0);
}

static void test_uri_names(void **state) {
        (void) state;
        static const char *const cases[][2] = {
                { "http://deb.example.org/debian", "deb.example.org_debian" },
                { "http://deb.example.org/debian/", "deb.example.org_debian" },
                { "https://user:pw@mirror.example/debian", "mirror.example_debian" },
                { "http://10.0.0.1:3142/debian", "10.0.0.1:3142_debian" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *n = apt_uri_to_filename(cases[i][0]);
                assert_string_equal(n, cases[i][1]);
        }
}

static void test_mirror(void **state) {
        (void) state;
        /* A third-party source first, the security archive, then Debian. */
        put("r/etc/apt/sources.list.d/a-vendor.sources",
            "Types: deb\nURIs: https://vendor.example/repo\nSuites: nodistro\nComponents: main\n");
        put("r/etc/apt/sources.list.d/debian.sources",
            "Types: deb\nURIs: http://security.example/debian-security\nSuites: trixie-security\nComponents: main\n\n"
            "Types: deb\n# a comment\nURIs: http://mirror.example/debian\nSuites: trixie trixie-updates\nComponents: main\n");
        put("r/var/lib/apt/lists/vendor.example_repo_dists_nodistro_InRelease", "Origin: Vendor\nSuite: nodistro\n");
        put("r/var/lib/apt/lists/security.example_debian-security_dists_trixie-security_InRelease",
            "Origin: Debian\nSuite: stable-security\n");
        _cleanup_free_ char *m = NULL;
        /* Nothing fetched for the Debian entry yet: none counts. */
        assert_int_equal(mirror_from_apt_sources("r", &m), -ENOENT);
        put("r/var/lib/apt/lists/mirror.example_debian_dists_trixie_InRelease", "Origin: Debian\nLabel: Debian\nSuite: stable\n");
        assert_int_equal(mirror_from_apt_sources("r", &m), 0);
        assert_string_equal(m, "http://mirror.example/debian");

        /* The one-line style, with options. */
        free(m);
        m = NULL;
        put("q/etc/apt/sources.list", "# comment\ndeb-src http://src.example/debian trixie main\n"
                                      "deb [arch=amd64 signed-by=/usr/share/keyrings/k.gpg] http://cache.example:3142/debian bookworm main\n");
        put("q/var/lib/apt/lists/cache.example:3142_debian_dists_bookworm_Release", "Origin: Debian\n");
        assert_int_equal(mirror_from_apt_sources("q", &m), 0);
        assert_string_equal(m, "http://cache.example:3142/debian");
}

static void test_release_date(void **state) {
        (void) state;
        assert_int_equal(release_parse_date("Origin: Debian\nDate: Sat, 21 Nov 2026 09:15:44 UTC\nSuite: stable\n"), 1795252544);
        assert_int_equal(release_parse_date("Date: Thu, 01 Jan 1970 00:00:10 UTC\n"), 10);
        assert_int_equal(release_parse_date("Origin: Debian\n"), 0);
        assert_int_equal(release_parse_date("Date: yesterday\n"), 0);
}

/* A mirror of one suite on file://, signed by a key of the test's own: its
 * InRelease is taken; the same file with one byte changed, or a Release
 * with no signature, is refused. */
/* gpg with ./gnupg as its home, quiet. */
static char *gpg_env[] = { "GNUPGHOME=gnupg", NULL };

/* A signing key of the test's own in ./gnupg (made here), its public
 * keyring in ./keyring.gpg; the options that run gpg with it. */
static RunOptions signing_key(void) {
        RunOptions q = { .quiet = true, .env = gpg_env };
        assert_int_equal(chmod("gnupg", 0700), 0);
        assert_int_equal(RUN(&q, "gpg", "--batch", "--quiet", "--passphrase", "", "--quick-gen-key", "hyperion test <t@invalid>",
                             "ed25519", "sign", "never"),
                         0);
        assert_int_equal(RUN(&q, "gpg", "--batch", "--quiet", "--output", "keyring.gpg", "--export"), 0);
        return q;
}

static void test_release_signature(void **state) {
        (void) state;
        if (access("/usr/bin/gpg", X_OK) < 0 || access("/usr/bin/gpgv", X_OK) < 0 || access("/usr/lib/apt/apt-helper", X_OK) < 0) {
                print_message("skipped: needs gpg, gpgv and apt\n");
                skip();
        }
        char here[4096];
        assert_non_null(getcwd(here, sizeof here));
        assert_int_equal(RUN(NULL, "mkdir", "-p", "gnupg", "m/dists/t", "u/dists/t", "out"), 0);
        RunOptions q = signing_key();
        put("./Release", "Origin: Test\nSuite: t\nDate: Sat, 21 Nov 2026 09:15:44 UTC\n");
        assert_int_equal(RUN(&q, "gpg", "--batch", "--quiet", "--output", "m/dists/t/InRelease", "--clearsign", "Release"), 0);
        _cleanup_free_ char *keyring = path_join(here, "keyring.gpg"), *good = xasprintf("file://%s/m", here);

        Release rel = {};
        assert_int_equal(release_fetch(good, "t", keyring, "out", &rel), 0);
        assert_int_equal(rel.date, 1795252544);
        release_done(&rel);
        /* Signed by a key the keyring does not have: Debian's. */
        assert_int_equal(release_fetch(good, "t", "/usr/share/keyrings/debian-archive-keyring.gpg", "out", &rel), -EBADMSG);

        /* Tampered with: the date moved by a day. */
        _cleanup_free_ char *text = NULL;
        assert_int_equal(read_full_file("m/dists/t/InRelease", &text, NULL), 0);
        char *d = strstr(text, "21 Nov");
        assert_non_null(d);
        d[1] = '2';
        put("m/dists/t/InRelease", text);
        assert_int_equal(release_fetch(good, "t", keyring, "out", &rel), -EBADMSG);

        /* No InRelease, a Release and no Release.gpg: refused too. */
        put("u/dists/t/Release", "Origin: Test\nSuite: t\nDate: Sat, 21 Nov 2026 09:15:44 UTC\n");
        _cleanup_free_ char *unsigned_mirror = xasprintf("file://%s/u", here);
        assert_int_equal(release_fetch(unsigned_mirror, "t", keyring, "out", &rel), -EBADMSG);
}

/* A deb of name holding the files of files ("path\0text\0...\0\0"). */
static void make_deb(const char *name, const char *files) {
        _cleanup_free_ char *dir = xasprintf("pkg-%s", name), *ctl = xasprintf("%s/DEBIAN/control", dir);
        assert_int_equal(RUN(NULL, "mkdir", "-p", dir), 0);
        for (const char *f = files; *f; f += strlen(f) + 1) {
                const char *text = f + strlen(f) + 1;
                _cleanup_free_ char *path = path_join(dir, f), *parent = xstrdup(path);
                *strrchr(parent, '/') = 0;
                assert_int_equal(RUN(NULL, "mkdir", "-p", parent), 0);
                put(path, text);
                f = text;
        }
        _cleanup_free_ char *d = xasprintf("%s/DEBIAN", dir);
        assert_int_equal(RUN(NULL, "mkdir", "-p", d), 0);
        _cleanup_free_ char *c = xasprintf("Package: %s\nVersion: 1\nArchitecture: all\nMaintainer: t <t@invalid>\nDescription: t\n", name);
        put(ctl, c);
        _cleanup_free_ char *deb = xasprintf("m/pool/%s.deb", name);
        /* dpkg-deb wants DEBIAN/ at 0755 whatever the umask the tests run
         * under (make repro's chroot types make check with umask 0077). */
        assert_int_equal(RUN(NULL, "chmod", "-R", "u+rwX,go+rX,go-w", dir), 0);
        assert_int_equal(RUN(&(RunOptions) { .quiet = true }, "dpkg-deb", "--root-owner-group", "--build", dir, deb), 0);
}

/* The target suite's word on the profile: tzdata, locales and xkb-data
 * taken from a signed file:// mirror, each checked against its index; a
 * zone, locale or keymap they lack is refused at its line; a .deb whose
 * SHA-256 is not the index's is refused. */
static void test_target_check(void **state) {
        (void) state;
        if (access("/usr/bin/gpg", X_OK) < 0 || access("/usr/lib/apt/apt-helper", X_OK) < 0 || access("/usr/bin/xz", X_OK) < 0) {
                print_message("skipped: needs gpg, apt and xz\n");
                skip();
        }
        assert_int_equal(RUN(NULL, "mkdir", "-p", "target-check"), 0);
        assert_int_equal(chdir("target-check"), 0);
        char here[4096];
        assert_non_null(getcwd(here, sizeof here));
        assert_int_equal(RUN(NULL, "mkdir", "-p", "gnupg", "m/dists/t/main/binary-amd64", "m/pool", "work", "cache"), 0);
        RunOptions q = signing_key();
        make_deb("tzdata", "usr/share/zoneinfo/Europe/Paris\0TZif\0\0");
        make_deb("locales", "usr/share/i18n/SUPPORTED\0en_US.UTF-8 UTF-8\nfr_FR.UTF-8 UTF-8\n\0\0");
        make_deb("xkb-data", "usr/share/X11/xkb/rules/base.lst\0! model\n  pc105 Generic\n\n! layout\n  us English (US)\n  fr French\n\n! variant\n  oss fr: French (alt.)\n\0\0");

        _cleanup_free_ char *index = xstrdup("");
        static const char *const names[] = { "tzdata", "locales", "xkb-data" };
        for (size_t i = 0; i < 3; i++) {
                _cleanup_free_ char *deb = xasprintf("m/pool/%s.deb", names[i]);
                char h[65];
                assert_int_equal(sha256_file(deb, h), 0);
                char *n = xasprintf("%sPackage: %s\nVersion: 1\nFilename: pool/%s.deb\nSHA256: %s\n\n", index, names[i], names[i], h);
                free(index);
                index = n;
        }
        put("m/dists/t/main/binary-amd64/Packages", index);
        assert_int_equal(RUN(NULL, "xz", "-k", "m/dists/t/main/binary-amd64/Packages"), 0);
        char h[65];
        assert_int_equal(sha256_file("m/dists/t/main/binary-amd64/Packages.xz", h), 0);
        _cleanup_free_ char *release =
                xasprintf("Origin: Test\nSuite: t\nDate: Sat, 21 Nov 2026 09:15:44 UTC\nSHA256:\n %s 100 main/binary-amd64/Packages.xz\n", h);
        put("./Release", release);
        assert_int_equal(RUN(&q, "gpg", "--batch", "--quiet", "--output", "m/dists/t/InRelease", "--clearsign", "Release"), 0);

        _cleanup_free_ char *keyring = path_join(here, "keyring.gpg"), *mirror = xasprintf("file://%s/m", here);
        _cleanup_free_ char *cache = path_join(here, "cache"), *work = path_join(here, "work");
        Profile p = { .distribution = { .suite = "t", .architecture = "amd64" },
                      .host = { .timezone = "Europe/Paris", .locale = "fr_FR.UTF-8", .keymap = "fr" } };
        Build b = { .profile = &p, .mirror = mirror, .cache = cache, .work = work };
        assert_int_equal(release_fetch(mirror, "t", keyring, work, &b.release), 0);
        assert_int_equal(suite_check(&b), 0);
        p.host.timezone = "Europe/Atlantis";
        assert_int_equal(suite_check(&b), -EINVAL);
        p.host.timezone = "Europe";  /* a folder, not a zone */
        assert_int_equal(suite_check(&b), -EINVAL);
        p.host.timezone = "Europe/Paris";
        p.host.locale = "xx_YY.UTF-8";
        assert_int_equal(suite_check(&b), -EINVAL);
        p.host.locale = "C.UTF-8";
        p.host.keymap = "oss";  /* a variant, not a layout */
        assert_int_equal(suite_check(&b), -EINVAL);
        p.host.keymap = "us";
        assert_int_equal(suite_check(&b), 0);

        /* The cached deb changed: fetched again, checked again. */
        assert_int_equal(RUN(NULL, "sh", "-c", "for f in cache/target/tzdata-*.deb; do echo x >> \"$f\"; done"), 0);
        assert_int_equal(suite_check(&b), 0);
        /* The mirror's deb changed under its index: refused. */
        assert_int_equal(RUN(NULL, "sh", "-c", "rm cache/target/tzdata-*.deb; echo x >> m/pool/tzdata.deb"), 0);
        assert_int_equal(suite_check(&b), -EBADMSG);
        release_done(&b.release);
        assert_int_equal(chdir(".."), 0);
}

static void test_mirror_credentials(void **state) {
        (void) state;
        char *who = NULL;
        _cleanup_free_ char *a = mirror_without_credentials("http://me:s3cret@mirror.example:8080/debian", &who);
        assert_string_equal(a, "http://mirror.example:8080/debian");
        assert_string_equal(who, "me:s3cret");
        free(who);
        _cleanup_free_ char *b = mirror_without_credentials("http://mirror.example/deb@n", &who);
        assert_string_equal(b, "http://mirror.example/deb@n");
        assert_null(who);
        /* The logger hides them, in its file too. */
        char *buf = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&buf, &n);
        log_set_file(f);
        log_add_secret("s3cret");
        log_debug("fetching http://me:s3cret@mirror.example/debian");
        log_set_file(NULL);
        fclose(f);
        assert_null(strstr(buf, "s3cret"));
        assert_non_null(strstr(buf, "http://me:***@mirror.example/debian"));
        free(buf);
}

int main(void) {
        log_set_level(LOG_LEVEL_ERROR + 1);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_stage_order), cmocka_unit_test(test_bootstrap_key), cmocka_unit_test(test_cache_path),
                cmocka_unit_test(test_uri_names),   cmocka_unit_test(test_mirror),
                cmocka_unit_test(test_package_list), cmocka_unit_test(test_release_date), cmocka_unit_test(test_release_signature), cmocka_unit_test(test_target_check), cmocka_unit_test(test_mirror_credentials),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
