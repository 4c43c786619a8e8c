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

int release_fetch(const char *mirror, const char *suite, const char *dir, Release *ret) {
        *ret = (Release) {};
        static const char *const names[] = { "InRelease", "Release" };
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                _cleanup_free_ char *rel = xasprintf("dists/%s/%s", suite, names[i]);
                _cleanup_free_ char *url = path_join(mirror, rel); /* "…/debian/" or "…/debian" */
                _cleanup_free_ char *path = xasprintf("%s/%s", dir, names[i]);
                _cleanup_free_ char *err = NULL;
                RunOptions o = { .quiet = true, .capture_err = &err };
                if (run((char *[]) { "/usr/lib/apt/apt-helper", "download-file", url, path, NULL }, &o) != 0) {
                        log_debug("%s: %s", url, strempty(err));
                        continue;
                }
                _cleanup_free_ char *text = NULL;
                if (read_full_file(path, &text, NULL) < 0)
                        continue;
                ret->date = release_parse_date(text);
                if (ret->date <= 0)
                        return log_error_errno(EINVAL, "%s has no Date: field", url);
                int r = sha256_file(path, ret->sha256);
                if (r < 0)
                        return log_error_errno(r, "cannot read '%s': %m", path);
                ret->path = TAKE_PTR(path);
                return 0;
        }
        return log_error_errno(ENOENT, "cannot fetch the Release file of '%s' from %s (is the mirror reachable? is the suite right?)",
                               suite, mirror);
}

void release_done(Release *r) {
        free(r->path);
        *r = (Release) {};
}
