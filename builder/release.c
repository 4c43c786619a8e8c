/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "release.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "run.h"
#include "sha256.h"
#include "strutil.h"

int64_t release_parse_date(const char *text) {
        const char *d = startswith(text, "Date: ") ? text : strstr(text, "\nDate: ");
        if (!d)
                return 0;
        d += d[0] == '\n' ? 7 : 6;
        struct tm tm = {};
        if (!strptime(d, "%a, %d %b %Y %H:%M:%S", &tm))
                return 0;
        return (int64_t) timegm(&tm);
}

static int download(const char *mirror, const char *rel, const char *path) {
        _cleanup_free_ char *url = path_join(mirror, rel); /* "…/debian/" or "…/debian" */
        _cleanup_free_ char *err = NULL;
        RunOptions o = { .quiet = true, .capture_err = &err };
        if (run((char *[]) { "/usr/lib/apt/apt-helper", "download-file", url, (char *) path, NULL }, &o) != 0) {
                log_debug("%s: %s", url, strempty(err));
                return -ENOENT;
        }
        return 0;
}

/* gpgv against the keyring: 0, or -EBADMSG with gpgv's words logged. */
static int verify(const char *keyring, const char *signature, const char *data, const char *what) {
        _cleanup_free_ char *out = NULL, *err = NULL;
        RunOptions o = { .capture = &out, .capture_err = &err };
        char *argv[] = { "gpgv", "--keyring", (char *) keyring, (char *) signature, (char *) data, NULL };
        if (!data)
                argv[4] = NULL;
        int r = run(argv, &o);
        if (r < 0)
                return log_error_errno(r, "cannot run gpgv (is the package gpgv installed?)");
        if (r != 0) {
                _cleanup_free_ char *why = xstrdup(err ? strstrip(err) : "");
                for (char *c = why; *c; c++)
                        if (*c == '\n')
                                *c = ';';
                return log_error_errno(EBADMSG,
                                       "%s does not carry a valid signature of the keyring %s: refusing the mirror (%s); for a "
                                       "mirror signed by another key, give its keyring with [Distribution] Keyring=",
                                       what, keyring, why);
        }
        return 0;
}

int release_fetch(const char *mirror, const char *suite, const char *keyring, const char *dir, Release *ret) {
        *ret = (Release) {};
        _cleanup_free_ char *inrel = xasprintf("dists/%s/InRelease", suite), *rel = xasprintf("dists/%s/Release", suite);
        _cleanup_free_ char *sig = xasprintf("dists/%s/Release.gpg", suite);
        _cleanup_free_ char *path = xasprintf("%s/InRelease", dir), *rpath = xasprintf("%s/Release", dir);
        _cleanup_free_ char *spath = xasprintf("%s/Release.gpg", dir);
        _cleanup_free_ char *url = path_join(mirror, inrel);
        int r;
        if (download(mirror, inrel, path) == 0) {
                if ((r = verify(keyring, path, NULL, url)) < 0)
                        return r;
        } else if (download(mirror, rel, rpath) == 0) {
                free(url);
                url = path_join(mirror, rel);
                free(path);
                path = TAKE_PTR(rpath);
                if (download(mirror, sig, spath) < 0)
                        return log_error_errno(EBADMSG, "%s has no signature (Release.gpg): refusing the mirror", url);
                if ((r = verify(keyring, spath, path, url)) < 0)
                        return r;
        } else
                return log_error_errno(ENOENT, "cannot fetch the Release file of '%s' from %s (is the mirror reachable? is the suite right?)",
                                       suite, mirror);
        _cleanup_free_ char *text = NULL;
        if ((r = read_full_file(path, &text, NULL)) < 0)
                return log_error_errno(r, "cannot read '%s': %m", path);
        ret->date = release_parse_date(text);
        if (ret->date <= 0)
                return log_error_errno(EINVAL, "%s has no Date: field", url);
        if ((r = sha256_file(path, ret->sha256)) < 0)
                return log_error_errno(r, "cannot read '%s': %m", path);
        ret->path = TAKE_PTR(path);
        return 0;
}

void release_done(Release *r) {
        free(r->path);
        *r = (Release) {};
}
