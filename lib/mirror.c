/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "mirror.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "macro.h"
#include "strutil.h"

char *apt_uri_to_filename(const char *uri) {
        const char *p = strstr(uri, "://");
        p = p ? p + 3 : uri;
        /* user:password@ is not part of the name */
        const char *at = strchr(p, '@'), *slash = strchr(p, '/');
        if (at && (!slash || at < slash))
                p = at + 1;
        char *r = xstrdup(p);
        size_t n = strlen(r);
        while (n > 0 && r[n - 1] == '/')
                r[--n] = 0;
        for (char *q = r; *q; q++)
                if (*q == '/')
                        *q = '_';
        return r;
}

/* Does apt hold a Release file of Debian for (uri, suite)? */
static bool is_debian(const char *root, const char *uri, const char *suite) {
        if (strchr(suite, '/') || endswith(suite, "-security") || endswith(suite, "-updates") || endswith(suite, "-backports"))
                return false;
        _cleanup_free_ char *base = apt_uri_to_filename(uri);
        static const char *const names[] = { "InRelease", "Release" };
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                _cleanup_free_ char *rel = xasprintf("var/lib/apt/lists/%s_dists_%s_%s", base, suite, names[i]);
                _cleanup_free_ char *path = path_join(root, rel);
                _cleanup_free_ char *text = NULL;
                if (read_full_file(path, &text, NULL) < 0)
                        continue;
                if (strstr(text, "\nOrigin: Debian\n") || startswith(text, "Origin: Debian\n"))
                        return true;
        }
        return false;
}

/* One-line style: "deb [options] URI SUITE COMPONENT..." */
static char *from_list(const char *root, const char *text) {
        _cleanup_free_ char *t = xstrdup(text);
        char *save = NULL;
        for (char *line = strtok_r(t, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                _cleanup_strv_free_ char **w = strv_split_ws(line);
                if (!w[0] || !streq(w[0], "deb"))
                        continue;
                size_t i = 1;
                if (w[i] && w[i][0] == '[') {
                        /* "[arch=amd64 signed-by=...]": skip to the word that closes it */
                        while (w[i] && !endswith(w[i], "]"))
                                i++;
                        if (w[i])
                                i++;
                }
                if (!w[i] || !w[i + 1])
                        continue;
                if (is_debian(root, w[i], w[i + 1]))
                        return xstrdup(w[i]);
        }
        return NULL;
}

/* deb822 style: paragraphs of "Types:", "URIs:", "Suites:". */
static char *from_sources(const char *root, const char *text) {
        _cleanup_free_ char *t = xasprintf("%s\n\n", text);
        char *para = t;
        while (para && *para) {
                char *end = strstr(para, "\n\n");
                if (end)
                        *end = 0;
                _cleanup_strv_free_ char **types = NULL, **uris = NULL, **suites = NULL;
                bool enabled = true;
                _cleanup_free_ char *p = xstrdup(para);
                char *save = NULL;
                for (char *line = strtok_r(p, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                        if (line[0] == '#')
                                continue;
                        if (startswith(line, "Types:"))
                                types = strv_split_ws(line + 6);
                        else if (startswith(line, "URIs:"))
                                uris = strv_split_ws(line + 5);
                        else if (startswith(line, "Suites:"))
                                suites = strv_split_ws(line + 7);
                        else if (startswith(line, "Enabled:"))
                                enabled = !strstr(line, "no");
                }
                if (enabled && types && strv_contains(types, "deb") && uris && suites)
                        for (char **u = uris; *u; u++)
                                for (char **s = suites; *s; s++)
                                        if (is_debian(root, *u, *s))
                                                return xstrdup(*u);
                para = end ? end + 2 : NULL;
        }
        return NULL;
}

char *mirror_without_credentials(const char *url, char **userinfo) {
        if (userinfo)
                *userinfo = NULL;
        const char *scheme = strstr(url, "://");
        if (!scheme)
                return xstrdup(url);
        const char *host = scheme + 3, *slash = strchr(host, '/'), *at = strchr(host, '@');
        if (!at || (slash && at > slash))
                return xstrdup(url);
        if (userinfo)
                *userinfo = xstrndup(host, (size_t) (at - host));
        return xasprintf("%.*s%s", (int) (host - url), url, at + 1);
}

int mirror_from_apt_sources(const char *root, char **ret) {
        _cleanup_strv_free_ char **files = xcalloc(1, sizeof(char *));
        strv_consume(&files, path_join(root, "etc/apt/sources.list"));
        _cleanup_free_ char *d = path_join(root, "etc/apt/sources.list.d");
        struct dirent **list = NULL;
        int n = scandir(d, &list, NULL, alphasort);
        for (int i = 0; i < n; i++) {
                if (endswith(list[i]->d_name, ".list") || endswith(list[i]->d_name, ".sources"))
                        strv_consume(&files, path_join(d, list[i]->d_name));
                free(list[i]);
        }
        free(list);

        for (char **f = files; *f; f++) {
                _cleanup_free_ char *text = NULL;
                if (read_full_file(*f, &text, NULL) < 0)
                        continue;
                char *uri = endswith(*f, ".sources") ? from_sources(root, text) : from_list(root, text);
                if (uri) {
                        log_debug("using the Debian mirror of %s", *f);
                        *ret = uri;
                        return 0;
                }
        }
        return log_error_errno(ENOENT, "this machine's apt sources name no Debian mirror apt has fetched (run 'apt-get update', "
                                       "or set Mirror= in [Distribution])");
}
