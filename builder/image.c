/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * image.c: from an installed tree to the live system's root: the overlay,
 * the host's settings, and the clean-up that makes the image the same bytes
 * on every build (no machine-id, SSH host keys, logs, caches, build-host
 * traces; times clamped to SOURCE_DATE_EPOCH).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bootstrap.h"
#include "build.h"
#include "debtree.h"
#include "log.h"
#include "medium.h"
#include "mirror.h"
#include "overlay.h"
#include "run.h"
#include "sha256.h"
#include "strutil.h"

/* ---- overlays ------------------------------------------------------------ */

int stage_overlays(Build *b) {
        /* The profile, where hyperion-firstboot looks for it by default;
         * root's only when it holds a password hash. */
        bool secret = !isempty(b->profile->host.root_password_hash);
        _cleanup_free_ char *dir = path_join(b->root, "etc/hyperion/profile");
        int r = RUN(NULL, "mkdir", "-p", dir);
        if (r < 0)
                return r;
        if (chmod(dir, secret ? 0700 : 0755) < 0)
                return log_error_errno(errno, "cannot set the mode of '%s': %m", dir);
        for (char **f = b->profile->files; *f; f++) {
                _cleanup_free_ char *text = NULL;
                const char *base = strrchr(*f, '/') ? strrchr(*f, '/') + 1 : *f;
                _cleanup_free_ char *rel = xasprintf("etc/hyperion/profile/%s", base);
                if ((r = read_full_file(*f, &text, NULL)) < 0)
                        return log_error_errno(r, "cannot read the profile file '%s': %m", *f);
                if ((r = write_file_under(b->root, rel, text, secret ? 0600 : 0644)) < 0)
                        return r;
        }
        /* The guests' overlays travel with the profile: the installer (and
         * day two) lays them over each guest's root. */
        for (size_t i = 0; i < b->profile->n_domains; i++) {
                const Domain *d = b->profile->domains[i];
                if (isempty(d->overlay))
                        continue;
                _cleanup_free_ char *src = path_join(b->profile->dir, d->overlay);
                _cleanup_free_ char *rel = xasprintf("etc/hyperion/profile/%s", d->overlay);
                _cleanup_free_ char *dst = path_join(b->root, rel);
                log_info("guest %s: its overlay %s, with the profile", d->head.name, d->overlay);
                if ((r = RUN(NULL, "mkdir", "-p", dst)) < 0 || (r = overlay_lay(src, dst, false)) < 0)
                        return log_error_errno(r, "cannot copy the overlay '%s' of guest %s into the image", src, d->head.name);
        }
        if (!b->overlays) {
                log_info("no overlay for profile '%s'", b->profile->name);
                return 0;
        }
        struct stat st;
        if (stat(b->overlays, &st) < 0 || !S_ISDIR(st.st_mode)) {
                log_info("no overlay folder '%s'", b->overlays);
                return 0;
        }
        log_info("laying %s over the root", b->overlays);
        /* Inside the root only, never through a link; owned by root unless the profile says. */
        r = overlay_lay(b->overlays, b->root, b->profile->image.overlay_owners == OVERLAY_OWNERS_KEEP);
        if (r < 0)
                return log_error_errno(r, "cannot lay the overlay '%s' over the root", b->overlays);
        return 0;
}

/* ---- customise ----------------------------------------------------------- */



int stage_customise(Build *b) {
        const Host *h = &b->profile->host;
        int r;
        _cleanup_free_ char *hostname = xasprintf("%s\n", h->hostname);
        _cleanup_free_ char *fqdn = isempty(h->domain) ? xstrdup(h->hostname) : xasprintf("%s.%s %s", h->hostname, h->domain, h->hostname);
        _cleanup_free_ char *hosts = xasprintf("127.0.0.1\tlocalhost\n127.0.1.1\t%s\n\n"
                                               "::1\tlocalhost ip6-localhost ip6-loopback\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n",
                                               fqdn);
        _cleanup_free_ char *keyboard = xasprintf("XKBMODEL=\"pc105\"\nXKBLAYOUT=\"%s\"\nXKBVARIANT=\"\"\nXKBOPTIONS=\"\"\n\nBACKSPACE=\"guess\"\n",
                                                  h->keymap);
        if ((r = write_file_under(b->root, "etc/hostname", hostname, 0644)) < 0 || (r = write_file_under(b->root, "etc/hosts", hosts, 0644)) < 0 ||
            (r = write_file_under(b->root, "etc/default/keyboard", keyboard, 0644)) < 0 ||
            (r = write_file_under(b->root, "etc/fstab", "# The live system mounts nothing from /etc/fstab.\n", 0644)) < 0)
                return r;
        if ((r = tree_set_locale(b->root, h->locale)) < 0 || (r = tree_set_timezone(b->root, h->timezone)) < 0)
                return r;
        /* The ISO this image goes on, as the installer will see it on a disk. */
        _cleanup_free_ char *label = iso_volume_id(b), *uuid = medium_iso_uuid(b->source_date_epoch);
        _cleanup_free_ char *medium = xasprintf("# The ISO this live system was built into, as libblkid sees it: the\n"
                                                "# installer never takes a disk that holds it for one to install.\n"
                                                "LABEL=%s\nUUID=%s\n",
                                                label, uuid);
        _cleanup_free_ char *dir = path_join(b->root, "usr/lib/hyperion");
        if ((r = RUN(NULL, "mkdir", "-p", dir)) < 0 || (r = write_file_under(b->root, MEDIUM_IDENTITY_FILE + 1, medium, 0644)) < 0)
                return r;
        return 0;
}

/* ---- clean --------------------------------------------------------------- */

/* "name version" -> the SHA-256 of its .deb, from apt's index in the tree
 * (the packages apt installed) or from the file (the hyperion packages). */
static char *package_sha256(const Build *b, const char *apt_show, const char *name, const char *version) {
        for (char **f = b->deb_files; f && *f; f++) {
                const char *base = strrchr(*f, '/') + 1;
                _cleanup_free_ char *prefix = xasprintf("%s_%s_", name, version);
                char hex[65];
                if (startswith(base, prefix) && sha256_file(*f, hex) == 0)
                        return xstrdup(hex);
        }
        _cleanup_free_ char *pkg = xasprintf("Package: %s\n", name), *ver = xasprintf("\nVersion: %s\n", version);
        for (const char *rec = apt_show; rec && *rec;) {
                const char *end = strstr(rec, "\n\n");
                size_t len = end ? (size_t) (end - rec) + 1 : strlen(rec);
                _cleanup_free_ char *r = xstrndup(rec, len);
                const char *h = strstr(r, "\nSHA256: ");
                if (startswith(r, pkg) && strstr(r, ver) && h)
                        return xstrndup(h + 9, 64);
                rec = end ? end + 2 : NULL;
        }
        return xstrdup("-");
}

static int write_manifest(Build *b) {
        _cleanup_free_ char *out = NULL;
        RunOptions o = { .root = b->root, .clear_env = true, .capture = &out };
        int r = run_ok((char *[]) { "dpkg-query", "--show", "--showformat=${Package} ${Version} ${Architecture}\\n", NULL }, &o);
        if (r < 0)
                return log_error_errno(r, "cannot list the packages of the image");
        _cleanup_strv_free_ char **lines = strv_split_lines(out);
        strv_sort(lines);

        /* apt's records of those versions, for their checksums (one call). */
        _cleanup_strv_free_ char **show = strv_split_ws("apt-cache show --no-all-versions");
        for (char **l = lines; *l; l++) {
                _cleanup_strv_free_ char **w = strv_split_ws(*l);
                if (strv_length(w) >= 2 && !startswith(w[0], "hyperion-"))
                        strv_consume(&show, xasprintf("%s=%s", w[0], w[1]));
        }
        _cleanup_free_ char *records = NULL;
        RunOptions so = { .root = b->root, .clear_env = true, .capture = &records, .quiet = true };
        (void) run(show, &so);

        _cleanup_strv_free_ char **rows = xcalloc(1, sizeof(char *));
        for (char **l = lines; *l; l++) {
                _cleanup_strv_free_ char **w = strv_split_ws(*l);
                if (strv_length(w) < 3)
                        continue;
                _cleanup_free_ char *h = package_sha256(b, records, w[0], w[1]);
                strv_consume(&rows, xasprintf("%s %s %s %s", w[0], w[1], w[2], h));
        }
        _cleanup_free_ char *body = strv_join(rows, "\n");
        _cleanup_free_ char *comps = strv_join(b->profile->distribution.components, " ");
        _cleanup_free_ char *mirror = mirror_without_credentials(b->mirror, NULL);
        _cleanup_free_ char *text = xasprintf("# hyperion image manifest: every package in the image, its version, architecture\n"
                                              "# and the SHA-256 of its .deb; and what the image was built from.\n"
                                              "profile: %s\nsuite: %s\nmirror: %s\nrelease-sha256: %s\ncomponents: %s\n"
                                              "architecture: %s\nsource-date-epoch: %lld\npackages: %zu\n\n%s\n",
                                              b->profile->name, b->profile->distribution.suite, mirror, b->release.sha256, comps,
                                              b->profile->distribution.architecture, (long long) b->source_date_epoch,
                                              strv_length(rows), body);
        _cleanup_free_ char *path = xasprintf("%s.manifest", b->output);
        r = write_file_atomic(path, text, strlen(text), 0644);
        if (r < 0)
                return log_error_errno(r, "cannot write the manifest '%s': %m", path);
        log_info("manifest: %zu packages in %s", strv_length(rows), path);
        return 0;
}


int stage_clean(Build *b) {
        int r = write_manifest(b);
        if (r < 0)
                return r;
        return clean_tree(b->root, b->source_date_epoch);
}
