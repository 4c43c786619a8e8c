/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * debpkg.c: the hyperion Debian packages (hyperion-firstboot, hyperion-live),
 * built for the image's suite in a build chroot of that suite, so that their
 * libraries are the suite's and apt brings them in as dependencies, whatever
 * the build machine runs. The build chroot and the packages are cached:
 * the packages by a hash of the source files they are built from.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bootstrap.h"
#include "build.h"
#include "log.h"
#include "run.h"
#include "sha256.h"
#include "strutil.h"

/* What the packages are built from, relative to the source tree. */
static const char *const source_parts[] = { "Makefile", "lib", "firstboot", "debian", "man", "live", "examples", NULL };

/* Build-Depends of debian/control, and what building needs. */
static const char *const build_packages[] = {
        "build-essential", "debhelper", "pkg-config", "libinih-dev", "libblkid-dev", "libarchive-dev",
        "libparted-dev", "liblvm2-dev", "libxen-dev", NULL,
};

/* A file's name (relative to the source), mode and contents. */
static void hash_file(Sha256 *s, const char *path, size_t prefix) {
        struct stat st;
        if (lstat(path, &st) < 0)
                return;
        sha256_update_str(s, path + prefix);
        char mode[16];
        snprintf(mode, sizeof mode, "%o", (unsigned) (st.st_mode & 0777));
        sha256_update_str(s, mode);
        char h[65];
        if (S_ISREG(st.st_mode) && sha256_file(path, h) == 0)
                sha256_update_str(s, h);
        if (S_ISLNK(st.st_mode)) {
                char target[4096] = {};
                if (readlink(path, target, sizeof target - 1) > 0)
                        sha256_update_str(s, target);
        }
}

static int compare_paths(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Files under the source parts, sorted, so the hash does not depend on readdir. */
static char **list_files(const char *source) {
        char **l = xcalloc(1, sizeof(char *));
        for (size_t i = 0; source_parts[i]; i++) {
                _cleanup_free_ char *p = path_join(source, source_parts[i]);
                _cleanup_free_ char *out = NULL;
                RunOptions o = { .capture = &out };
                if (run((char *[]) { "find", p, "-type", "f", "-o", "-type", "l", NULL }, &o) != 0)
                        continue;
                _cleanup_strv_free_ char **files = strv_split_ws(out);
                for (char **f = files; *f; f++)
                        strv_push(&l, *f);
        }
        qsort(l, strv_length(l), sizeof(char *), compare_paths);
        return l;
}

static void source_key(const Build *b, const char *buildroot_key, char out[65]) {
        Sha256 s;
        sha256_init(&s);
        sha256_update_str(&s, "debs/1");
        sha256_update_str(&s, buildroot_key);
        _cleanup_strv_free_ char **files = list_files(b->source);
        for (char **f = files; *f; f++)
                hash_file(&s, *f, strlen(b->source));
        uint8_t dg[32];
        sha256_final(&s, dg);
        sha256_hex(dg, out);
}

/* The build chroot: the suite's bootstrap and the build dependencies. */
static void buildroot_key(const Build *b, char bkey[65], char key[65]) {
        bootstrap_key(&b->profile->distribution, b->mirror, b->release.sha256, bkey);
        Sha256 s;
        sha256_init(&s);
        sha256_update_str(&s, "buildroot/1");
        sha256_update_str(&s, bkey);
        for (size_t i = 0; build_packages[i]; i++)
                sha256_update_str(&s, build_packages[i]);
        uint8_t dg[32];
        sha256_final(&s, dg);
        sha256_hex(dg, key);
}

static int make_buildroot(Build *b, const char *root, const char *bkey, const char *key) {
        const Distribution *d = &b->profile->distribution;
        _cleanup_free_ char *archive = cache_path(b, "buildroot", key, ".tar.zst");
        int r = cache_restore(archive, root, "buildroot");
        if (r != 0)
                return r < 0 ? r : 0;
        _cleanup_free_ char *boot = cache_path(b, "bootstrap", bkey, ".tar.zst");
        r = cache_restore(boot, root, "bootstrap");
        if (r < 0)
                return r;
        if (r == 0) {
                log_info("mmdebstrap %s for the build chroot", d->suite);
                r = bootstrap_tree(d, b->mirror, root);
                if (r < 0)
                        return r;
                cache_store(boot, root, "bootstrap");
        }
        r = apt_sources(root, d, b->mirror);
        if (r < 0 || (r = policy_rc_d(root, true)) < 0)
                return r;
        r = apt_install(root, "buildroot", (char *const *) build_packages);
        if (r < 0)
                return r;
        return cache_store(archive, root, "buildroot");
}

/* "libc6 (>= 2.34), a | b, hyperion-firstboot (= 0.1-1)" -> libc6 a */
static void add_depends(char ***l, const char *field) {
        _cleanup_free_ char *f = xstrdup(field);
        char *save = NULL;
        for (char *item = strtok_r(f, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
                item = strstrip(item);
                item[strcspn(item, " (|:")] = 0;
                if (*item && !startswith(item, "hyperion-") && !strv_contains(*l, item))
                        strv_push(l, item);
        }
}

static int read_depends(Build *b) {
        strv_free(b->deb_depends);
        b->deb_depends = xcalloc(1, sizeof(char *));
        for (char **deb = b->deb_files; *deb; deb++) {
                _cleanup_free_ char *out = NULL;
                RunOptions o = { .capture = &out };
                int r = run_ok((char *[]) { "dpkg-deb", "--field", *deb, "Depends", NULL }, &o);
                if (r < 0)
                        return r;
                add_depends(&b->deb_depends, out);
        }
        strv_sort(b->deb_depends);
        return 0;
}

static int find_debs(Build *b, const char *dir) {
        strv_free(b->deb_files);
        b->deb_files = xcalloc(1, sizeof(char *));
        struct dirent **list = NULL;
        int n = scandir(dir, &list, NULL, alphasort);
        for (int i = 0; i < n; i++) {
                if (endswith(list[i]->d_name, ".deb"))
                        strv_consume(&b->deb_files, path_join(dir, list[i]->d_name));
                free(list[i]);
        }
        free(list);
        return strv_length(b->deb_files) >= 3 ? 0 : -ENOENT;
}

void firstboot_key(Build *b) {
        char bkey[65], rkey[65];
        buildroot_key(b, bkey, rkey);
        source_key(b, rkey, b->debs_key);
}

int firstboot_collect(Build *b) {
        _cleanup_free_ char *cached = cache_path(b, "debs", b->debs_key, "");
        if (find_debs(b, cached) < 0)
                return log_error_errno(ENOENT, "the hyperion packages are not in %s (the firstboot stage did not finish)", cached);
        return read_depends(b);
}

int stage_firstboot(Build *b) {
        _cleanup_free_ char *control = path_join(b->source, "debian/control");
        if (access(control, F_OK) < 0)
                return log_error_errno(ENOENT, "no hyperion source tree at '%s' (debian/control is missing); give --source",
                                       b->source);
        _cleanup_free_ char *root = path_join(b->work, "buildroot");
        if (mkdir(root, 0755) < 0)
                return log_error_errno(errno, "cannot create '%s': %m", root);

        /* The build chroot's key comes first: the packages' key depends on it
         * (b->debs_key, taken before this stage runs beside the others). */
        const Distribution *d = &b->profile->distribution;
        char bkey[65], rkey[65];
        buildroot_key(b, bkey, rkey);
        if (!b->debs_key[0])
                firstboot_key(b);

        _cleanup_free_ char *cached = cache_path(b, "debs", b->debs_key, "");
        if (cache_check(cached, "hyperion packages") > 0 && find_debs(b, cached) == 0) {
                log_info("hyperion packages: cached in %s", cached);
                return read_depends(b);
        }

        int r = make_buildroot(b, root, bkey, rkey);
        if (r < 0)
                return r;
        _cleanup_free_ char *src = path_join(root, "build/hyperion");
        r = RUN(NULL, "mkdir", "-p", src);
        if (r < 0)
                return r;
        for (size_t i = 0; source_parts[i]; i++) {
                _cleanup_free_ char *p = path_join(b->source, source_parts[i]);
                r = RUN(NULL, "cp", "-a", p, src);
                if (r < 0)
                        return r;
        }
        log_info("building the hyperion packages for %s", d->suite);
        /* The ISO's packages: not hyperion-build itself (build profile); on
         * every core, with no debug symbols package (not kept) and no tests
         * (make check runs them upstream): the packages are the same. */
        _cleanup_free_ char *opts = xasprintf("DEB_BUILD_OPTIONS=noautodbgsym nocheck parallel=%ld",
                                              MAX(1L, sysconf(_SC_NPROCESSORS_ONLN)));
        r = chroot_run_in(root, "dpkg-buildpackage", "/build/hyperion",
                          (char *[]) { "env", opts, "dpkg-buildpackage", "-b", "-uc", "-us", "-Ppkg.hyperion.nobuild", NULL });
        if (r < 0)
                return log_error_errno(r, "the hyperion packages do not build for %s (the log has the compiler's messages)", d->suite);

        _cleanup_free_ char *tmp = xasprintf("%s.partial", cached);
        (void) RUN(NULL, "rm", "-rf", tmp);
        if (mkdir(tmp, 0755) < 0)
                return log_error_errno(errno, "cannot create '%s': %m", tmp);
        _cleanup_free_ char *built = path_join(root, "build");
        struct dirent **list = NULL;
        int n = scandir(built, &list, NULL, alphasort);
        for (int i = 0; i < n; i++) {
                /* The packages, not their debug symbols. */
                if (r >= 0 && endswith(list[i]->d_name, ".deb") && !strstr(list[i]->d_name, "-dbgsym_")) {
                        _cleanup_free_ char *from = path_join(built, list[i]->d_name);
                        r = RUN(NULL, "cp", from, tmp);
                }
                free(list[i]);
        }
        free(list);
        if (r < 0)
                return r;
        (void) RUN(NULL, "rm", "-rf", cached);
        if (rename(tmp, cached) < 0)
                return log_error_errno(errno, "cannot rename '%s': %m", tmp);
        (void) cache_seal(cached);
        r = find_debs(b, cached);
        if (r < 0)
                return log_error_errno(r, "dpkg-buildpackage made no packages");
        (void) RUN(NULL, "rm", "-rf", "--one-file-system", root);
        return read_depends(b);
}
