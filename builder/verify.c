/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * verify.c: are two ISOs the same, and if not, where do they differ?
 *
 * Identical bytes: "identical". Otherwise every file of the two ISOs is
 * compared by SHA-256, and where the root filesystem images differ, every
 * file inside them (contents, mode, owner, time, link target), so that the
 * list names what is not reproducible. diffoscope, when it is installed,
 * says more, and is run too.
 */
#include "verify.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "medium.h"
#include "run.h"
#include "sha256.h"
#include "strutil.h"

/* "path sha256-or-link mode uid gid mtime" for every file under dir, sorted. */
static char **tree_listing(const char *dir) {
        _cleanup_free_ char *out = NULL;
        RunOptions o = { .capture = &out, .cwd = dir };
        /* find's own formatting: no shell, one line a file. */
        if (run((char *[]) { "find", ".", "-printf", "%p %y %m %U %G %T@ %l\\n", NULL }, &o) != 0)
                return xcalloc(1, sizeof(char *));
        char **lines = strv_split_lines(out);
        for (char **l = lines; *l; l++) {
                char path[4096], type[4];
                if (sscanf(*l, "%4095s %3s", path, type) != 2 || !streq(type, "f"))
                        continue;
                _cleanup_free_ char *full = path_join(dir, path);
                char hex[65];
                if (sha256_file(full, hex) == 0) {
                        char *n = xasprintf("%s %s", *l, hex);
                        free(*l);
                        *l = n;
                }
        }
        strv_sort(lines);
        return lines;
}

/* Print the paths whose line differs between two sorted listings. */
static unsigned diff_listings(char **a, char **b, const char *where) {
        unsigned n = 0;
        size_t i = 0, j = 0;
        while (a[i] || b[j]) {
                char pa[4096] = "", pb[4096] = "";
                if (a[i])
                        sscanf(a[i], "%4095s", pa);
                if (b[j])
                        sscanf(b[j], "%4095s", pb);
                int c = !a[i] ? 1 : !b[j] ? -1 : strcmp(pa, pb);
                if (c < 0) {
                        printf("  only in the first %s: %s\n", where, pa);
                        i++;
                        n++;
                } else if (c > 0) {
                        printf("  only in the second %s: %s\n", where, pb);
                        j++;
                        n++;
                } else {
                        if (!streq(a[i], b[j])) {
                                printf("  differs in the %s: %s\n", where, pa);
                                n++;
                        }
                        i++;
                        j++;
                }
        }
        return n;
}

static int extract_iso(const char *iso, const char *dir) {
        _cleanup_free_ char *err = NULL;
        RunOptions o = { .quiet = true, .capture_err = &err };
        return RUN(&o, "xorriso", "-osirrox", "on", "-indev", iso, "-extract", "/", dir);
}

int iso_compare(const char *a, const char *b, const char *tmpdir) {
        char ha[65], hb[65];
        int r = sha256_file(a, ha);
        if (r < 0)
                return log_error_errno(r, "cannot read '%s': %m", a);
        if ((r = sha256_file(b, hb)) < 0)
                return log_error_errno(r, "cannot read '%s': %m", b);
        printf("%s  %s\n%s  %s\n", ha, a, hb, b);
        if (streq(ha, hb)) {
                printf("identical\n");
                return 0;
        }
        printf("different; what differs:\n");
        _cleanup_free_ char *da = path_join(tmpdir, "a"), *db = path_join(tmpdir, "b");
        if ((r = RUN(NULL, "mkdir", "-p", da, db)) < 0 || (r = extract_iso(a, da)) < 0 || (r = extract_iso(b, db)) < 0)
                return r;
        _cleanup_strv_free_ char **la = tree_listing(da), **lb = tree_listing(db);
        unsigned n = diff_listings(la, lb, "ISO");

        /* Inside the root filesystem images, file by file. */
        _cleanup_free_ char *sa = path_join(da, MEDIUM_ROOT_IMAGE), *sb = path_join(db, MEDIUM_ROOT_IMAGE);
        char xa[65], xb[65];
        if (sha256_file(sa, xa) == 0 && sha256_file(sb, xb) == 0 && !streq(xa, xb)) {
                _cleanup_free_ char *ra = path_join(tmpdir, "root-a"), *rb = path_join(tmpdir, "root-b");
                RunOptions q = { .quiet = true };
                if (RUN(&q, "unsquashfs", "-no-progress", "-d", ra, sa) == 0 && RUN(&q, "unsquashfs", "-no-progress", "-d", rb, sb) == 0) {
                        _cleanup_strv_free_ char **ta = tree_listing(ra), **tb = tree_listing(rb);
                        n += diff_listings(ta, tb, "root filesystem");
                }
        }
        printf("%u difference%s\n", n, n == 1 ? "" : "s");
        if (access("/usr/bin/diffoscope", X_OK) == 0) {
                printf("diffoscope:\n");
                fflush(stdout);
                (void) run((char *[]) { "diffoscope", (char *) a, (char *) b, NULL }, NULL);
        }
        return 1;
}

int manifest_read(const char *path, char **ret_mirror, int64_t *ret_epoch) {
        _cleanup_free_ char *text = NULL;
        int r = read_full_file(path, &text, NULL);
        if (r < 0)
                return log_error_errno(r, "cannot read the manifest '%s': %m (it is written beside the ISO)", path);
        *ret_mirror = NULL;
        *ret_epoch = 0;
        _cleanup_strv_free_ char **lines = strv_split_lines(text);
        for (char **l = lines; *l; l++) {
                if (startswith(*l, "mirror: "))
                        *ret_mirror = xstrdup(*l + 8);
                else if (startswith(*l, "source-date-epoch: "))
                        *ret_epoch = strtoll(*l + 19, NULL, 10);
        }
        if (!*ret_mirror || *ret_epoch <= 0) {
                free(*ret_mirror);
                *ret_mirror = NULL;
                return log_error_errno(EINVAL, "the manifest '%s' names no mirror or SOURCE_DATE_EPOCH", path);
        }
        return 0;
}
