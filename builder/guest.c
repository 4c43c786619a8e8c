/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * guest.c: the guests' root filesystem (guestroot.h), built once from the
 * bootstrap cache, each guest's Packages= downloaded into it, cleaned like
 * the image, and stored on the ISO as a reproducible archive (libarchive:
 * sorted entries, numeric owners, times clamped to SOURCE_DATE_EPOCH). The
 * installer unpacks it into each guest's volume. Cached.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bootstrap.h"
#include "build.h"
#include "debtree.h"
#include "guestroot.h"
#include "log.h"
#include "medium.h"
#include "run.h"
#include "sha256.h"
#include "size.h"
#include "strutil.h"
#include "tarball.h"

/* Each guest's Packages= and what they need, downloaded into the tree
 * (GUEST_DEBS/NAME/): the installer installs them from there. */
static int download_guest_packages(Build *b, const char *root) {
        for (size_t i = 0; i < b->profile->n_domains; i++) {
                const Domain *d = b->profile->domains[i];
                if (!d->packages[0])
                        continue;
                _cleanup_free_ char *rel = xasprintf("/%s/%s", GUEST_DEBS, d->head.name);
                _cleanup_free_ char *dir = path_join(root, rel), *partial = xasprintf("%s/partial", dir);
                int r = RUN(NULL, "mkdir", "-p", partial);
                if (r < 0)
                        return r;
                _cleanup_free_ char *opt = xasprintf("Dir::Cache::archives=%s", rel);
                _cleanup_strv_free_ char **argv = strv_split_ws("apt-get install -y --download-only --no-install-recommends -o");
                strv_push(&argv, opt);
                for (char **p = d->packages; *p; p++)
                        strv_push(&argv, *p);
                _cleanup_free_ char *label = xasprintf("guest %s", d->head.name);
                log_info("guest %s: downloading its packages (%zu) into the guest archive", d->head.name, strv_length(d->packages));
                if ((r = chroot_run(root, label, argv)) < 0)
                        return log_error_errno(r, "guest %s: its packages cannot be downloaded: one may not exist in this suite",
                                               d->head.name);
                _cleanup_free_ char *lock = xasprintf("%s/lock", dir);
                (void) unlink(lock);
                if ((r = RUN(NULL, "rm", "-rf", "--one-file-system", partial)) < 0)
                        return r;
        }
        return 0;
}

static int make_guest_tree(Build *b, const char *root) {
        _cleanup_free_ char *boot = cache_path(b, "bootstrap", b->bootstrap_key, ".tar.zst");
        int r = cache_restore(boot, root, "bootstrap");
        if (r < 0)
                return r;
        if (r == 0 && (r = bootstrap_tree(&b->profile->distribution, b->mirror, root)) < 0)
                return r;
        const Host *h = &b->profile->host;
        if ((r = guest_root_fill(root, &b->profile->distribution, b->mirror, h->locale, h->timezone)) < 0)
                return r;
        return download_guest_packages(b, root);
}

int stage_guest(Build *b) {
        if (b->profile->n_domains == 0) {
                log_info("the profile has no guests");
                return 0;
        }
        Sha256 s;
        sha256_init(&s);
        sha256_update_str(&s, "guest/6");
        sha256_update_str(&s, b->code_sha256);
        sha256_update_str(&s, b->bootstrap_key);
        sha256_update_str(&s, b->profile->host.locale);
        sha256_update_str(&s, b->profile->host.timezone);
        for (const char *const *p = guest_root_packages; *p; p++)
                sha256_update_str(&s, *p);
        /* Each guest's own packages, downloaded into it. */
        for (size_t i = 0; i < b->profile->n_domains; i++)
                for (char **p = b->profile->domains[i]->packages; *p; p++) {
                        sha256_update_str(&s, b->profile->domains[i]->head.name);
                        sha256_update_str(&s, *p);
                }
        char epoch[32];
        snprintf(epoch, sizeof epoch, "%lld", (long long) b->source_date_epoch);
        sha256_update_str(&s, epoch);
        uint8_t dg[32];
        char key[65];
        sha256_final(&s, dg);
        sha256_hex(dg, key);

        _cleanup_free_ char *cached = cache_path(b, "guest", key, ".tar.zst");
        _cleanup_free_ char *dest = xasprintf("%s/iso/%s", b->work, MEDIUM_GUEST_ARCHIVE);
        _cleanup_free_ char *destdir = xasprintf("%s/iso/hyperion", b->work);
        int r = RUN(NULL, "mkdir", "-p", destdir);
        if (r < 0)
                return r;
        if (cache_check(cached, "guest") <= 0) {
                _cleanup_free_ char *root = path_join(b->work, "guest");
                if (mkdir(root, 0755) < 0 && errno != EEXIST)
                        return log_error_errno(errno, "cannot create '%s': %m", root);
                log_info("the guests' root filesystem (%s)", b->profile->distribution.suite);
                if ((r = make_guest_tree(b, root)) < 0 || (r = clean_tree(root, b->source_date_epoch)) < 0)
                        return r;
                TarballOptions o = { .clamp_mtime = b->source_date_epoch, .zstd_level = 9, .label = "guest" };
                if ((r = tarball_create(root, cached, &o)) < 0)
                        return r;
                (void) cache_seal(cached);
                (void) RUN(NULL, "rm", "-rf", "--one-file-system", root);
        } else
                log_info("guest: cached in %s", cached);
        if ((r = RUN(NULL, "cp", cached, dest)) < 0)
                return r;
        struct stat st;
        char sz[SIZE_BUF];
        if (stat(dest, &st) == 0)
                log_info("guest archive: %s", format_size_human(sz, (uint64_t) st.st_size));
        return 0;
}
