/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * suite.c: what only the target suite can say of a profile, asked before
 * the long stages: that its time zone exists (tzdata), its locale is one
 * glibc knows (locales' SUPPORTED), its keymap is a layout (xkb-data).
 *
 * The three packages come from the mirror the way apt would take them:
 * the suite's Packages index, whose SHA-256 the signed InRelease gives, then
 * each .deb, whose SHA-256 that index gives; both kept in the cache.
 */
#include "suite.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bootstrap.h"
#include "log.h"
#include "macro.h"
#include "run.h"
#include "sha256.h"
#include "strutil.h"

/* "SHA256:" list of a Release text: the hash of path, or NULL. */
static char *release_sha256_of(const char *release, const char *path) {
        /* Only the signed body of an InRelease: nothing before or after. */
        const char *body = strstr(release, "-----BEGIN PGP SIGNED MESSAGE-----\n");
        _cleanup_free_ char *copy = xstrdup(body ? body : release);
        char *end = strstr(copy, "\n-----BEGIN PGP SIGNATURE-----");
        if (end)
                end[1] = 0;
        const char *sec = strstr(copy, "\nSHA256:\n");
        if (!sec)
                return NULL;
        _cleanup_strv_free_ char **lines = strv_split_lines(sec + 9);
        for (char **l = lines; *l && ((*l)[0] == ' '); l++) {
                _cleanup_strv_free_ char **w = strv_split_ws(*l);
                if (strv_length(w) == 3 && streq(w[2], path))
                        return xstrdup(w[0]);
        }
        return NULL;
}

/* url into path, unless path is there with that SHA-256; then checked. */
static int fetch_checked(const char *url, const char *path, const char *sha256) {
        char h[65];
        if (access(path, F_OK) == 0 && sha256_file(path, h) == 0 && streq(h, sha256))
                return 0;
        /* Into a name of its own (apt-helper would resume a file that is
         * there), then made a file of ours: for file:// apt links instead. */
        _cleanup_free_ char *part = xasprintf("%s.part", path), *err = NULL;
        (void) unlink(part);
        RunOptions o = { .quiet = true, .capture_err = &err };
        if (run((char *[]) { "/usr/lib/apt/apt-helper", "download-file", (char *) url, part, NULL }, &o) != 0)
                return log_error_errno(EIO, "cannot download %s: %s", url, err ? strstrip(err) : "");
        struct stat st;
        if (lstat(part, &st) == 0 && S_ISLNK(st.st_mode)) {
                if (RUN(NULL, "cp", "--dereference", "--remove-destination", part, path) < 0)
                        return -EIO;
                (void) unlink(part);
        } else if (rename(part, path) < 0)
                return log_error_errno(errno, "cannot rename '%s': %m", part);
        int r = sha256_file(path, h);
        if (r < 0)
                return log_error_errno(r, "cannot read '%s': %m", path);
        if (!streq(h, sha256)) {
                unlink(path);
                return log_error_errno(EBADMSG, "%s does not have the SHA-256 the signed index gives: refusing it", url);
        }
        return 0;
}

/* A compressed file, whole, into memory (libarchive's raw format). */
static int read_compressed(const char *path, char **ret) {
        struct archive *a = archive_read_new();
        archive_read_support_filter_all(a);
        archive_read_support_format_raw(a);
        struct archive_entry *e;
        int r = 0;
        if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK || archive_read_next_header(a, &e) != ARCHIVE_OK)
                r = log_error_errno(EIO, "cannot read '%s': %s", path, archive_error_string(a));
        size_t n = 0, cap = 1 << 20;
        char *buf = r < 0 ? NULL : xmalloc(cap);
        while (r >= 0) {
                if (cap - n < 65536)
                        buf = xrealloc(buf, cap *= 2);
                la_ssize_t k = archive_read_data(a, buf + n, cap - n - 1);
                if (k < 0)
                        r = log_error_errno(EIO, "cannot read '%s': %s", path, archive_error_string(a));
                else if (k == 0)
                        break;
                else
                        n += (size_t) k;
        }
        archive_read_free(a);
        if (r < 0) {
                free(buf);
                return r;
        }
        buf[n] = 0;
        *ret = buf;
        return 0;
}

/* The Filename: and SHA256: of package name in a Packages index. */
static int find_package(const char *index, const char *name, char **filename, char **sha256) {
        _cleanup_free_ char *head = xasprintf("Package: %s\n", name);
        for (const char *rec = index; rec && *rec;) {
                const char *end = strstr(rec, "\n\n");
                if (startswith(rec, head)) {
                        _cleanup_free_ char *r = end ? xstrndup(rec, (size_t) (end - rec) + 1) : xstrdup(rec);
                        const char *f = strstr(r, "\nFilename: "), *h = strstr(r, "\nSHA256: ");
                        if (f && h) {
                                *filename = xstrndup(f + 11, strcspn(f + 11, "\n"));
                                *sha256 = xstrndup(h + 9, strcspn(h + 9, "\n"));
                                return 0;
                        }
                }
                rec = end ? end + 2 : NULL;
        }
        return log_error_errno(ENOENT, "the suite's index has no package '%s'", name);
}

/* The layouts of xkb's rules/base.lst ("! layout" section). */
static bool layout_known(const char *lst, const char *want) {
        const char *sec = strstr(lst, "! layout\n");
        if (!sec)
                return false;
        _cleanup_strv_free_ char **lines = strv_split_lines(sec + 9);
        for (char **l = lines; *l && (*l)[0] != '!'; l++) {
                _cleanup_strv_free_ char **w = strv_split_ws(*l);
                if (w[0] && streq(w[0], want))
                        return true;
        }
        return false;
}

static bool locale_known(const char *supported, const char *want) {
        if (streq(want, "C") || streq(want, "C.UTF-8") || streq(want, "POSIX"))
                return true;
        _cleanup_free_ char *head = xasprintf("%s ", want);
        _cleanup_strv_free_ char **lines = strv_split_lines(supported);
        for (char **l = lines; *l; l++)
                if (startswith(*l, head))
                        return true;
        return false;
}

static void where_error(const Profile *p, const char *key, const char *fmt, const char *value, const char *suite) {
        Loc l = profile_where(&p->host.head, "Host", key);
        if (l.line)
                fprintf(stderr, "%s:%u: ", l.file, l.line);
        else if (l.file)
                fprintf(stderr, "%s: ", l.file);
        fprintf(stderr, fmt, value, suite);
        fputc('\n', stderr);
}

int suite_check(Build *b) {
        const Profile *p = b->profile;
        const Distribution *d = &p->distribution;
        _cleanup_free_ char *release = NULL;
        int r = read_full_file(b->release.path, &release, NULL);
        if (r < 0)
                return log_error_errno(r, "cannot read '%s': %m", b->release.path);
        _cleanup_free_ char *rel = xasprintf("main/binary-%s/Packages.xz", d->architecture);
        _cleanup_free_ char *sum = release_sha256_of(release, rel);
        if (!sum)
                return log_error_errno(ENOENT, "the mirror's InRelease names no %s for %s", rel, d->suite);
        _cleanup_free_ char *dir = path_join(b->cache, "target"), *index_path = xasprintf("%s/Packages-%.16s.xz", dir, sum);
        if ((r = RUN(NULL, "mkdir", "-p", dir)) < 0)
                return r;
        _cleanup_free_ char *suite_rel = xasprintf("dists/%s/%s", d->suite, rel), *url = path_join(b->mirror, suite_rel);
        if ((r = fetch_checked(url, index_path, sum)) < 0)
                return r;
        _cleanup_free_ char *index = NULL;
        if ((r = read_compressed(index_path, &index)) < 0)
                return r;

        static const char *const pkgs[] = { "tzdata", "locales", "xkb-data" };
        _cleanup_free_ char *tree = path_join(b->work, "target");
        for (size_t i = 0; i < ELEMENTSOF(pkgs); i++) {
                _cleanup_free_ char *filename = NULL, *sha = NULL;
                if ((r = find_package(index, pkgs[i], &filename, &sha)) < 0)
                        return r;
                _cleanup_free_ char *deb = xasprintf("%s/%s-%.16s.deb", dir, pkgs[i], sha), *durl = path_join(b->mirror, filename);
                if ((r = fetch_checked(durl, deb, sha)) < 0 ||
                    (r = RUN(&(RunOptions) { .quiet = true }, "dpkg-deb", "--extract", deb, tree)) < 0)
                        return r;
        }
        const Host *h = &p->host;
        bool ok = true;
        _cleanup_free_ char *zone = xasprintf("%s/usr/share/zoneinfo/%s", tree, h->timezone);
        struct stat st;
        if (lstat(zone, &st) < 0 || S_ISDIR(st.st_mode)) {
                where_error(p, "Timezone", "time zone '%s' does not exist in %s's tzdata (see /usr/share/zoneinfo)", h->timezone, d->suite);
                ok = false;
        }
        _cleanup_free_ char *sup_path = path_join(tree, "usr/share/i18n/SUPPORTED"), *supported = NULL;
        if (read_full_file(sup_path, &supported, NULL) < 0 || !locale_known(supported, h->locale)) {
                where_error(p, "Locale", "locale '%s' is not one %s's glibc knows (see /usr/share/i18n/SUPPORTED)", h->locale, d->suite);
                ok = false;
        }
        _cleanup_free_ char *lst_path = path_join(tree, "usr/share/X11/xkb/rules/base.lst"), *lst = NULL;
        if (read_full_file(lst_path, &lst, NULL) < 0 || !layout_known(lst, h->keymap)) {
                where_error(p, "Keymap", "keymap '%s' is not a keyboard layout of %s (see /usr/share/X11/xkb/rules/base.lst)",
                            h->keymap, d->suite);
                ok = false;
        }
        (void) RUN(NULL, "rm", "-rf", "--one-file-system", tree);
        if (!ok)
                return log_error_errno(EINVAL, "the profile asks %s for what it does not have: nothing was built", d->suite);
        log_info("%s has the time zone %s, the locale %s and the keymap %s", d->suite, h->timezone, h->locale, h->keymap);
        return 0;
}
