/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "refresh.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "debtree.h"
#include "guestroot.h"
#include "log.h"
#include "mirror.h"
#include "run.h"
#include "size.h"
#include "strutil.h"
#include "tarball.h"

/* Where apt_sources() copies a profile's Keyring= into a tree: on the
 * host, which was such a tree, the copy is there when the file named in
 * the profile (a path of the build machine) is not. */
#define TREE_KEYRING "/etc/apt/keyrings/hyperion-mirror.gpg"

static int host_mirror(const Profile *p, char **ret) {
        if (!isempty(p->distribution.mirror)) {
                *ret = xstrdup(p->distribution.mirror);
                return 0;
        }
        /* The host's apt lists are gone from the image (it is cleaned):
         * apt fetches them again, as the admin's next 'apt update' would. */
        _cleanup_free_ char *quiet = NULL;
        if (mirror_from_apt_sources("/", &quiet) == 0) {
                *ret = TAKE_PTR(quiet);
                return 0;
        }
        log_info("apt-get update: the host's apt sources name its mirror");
        int r = host_run("apt-get update", (char *[]) { "apt-get", "update", NULL });
        if (r < 0)
                return log_error_errno(r, "apt-get update failed: is the mirror of /etc/apt/sources.list reachable?");
        return mirror_from_apt_sources("/", ret);
}

/* The tree made, cleaned and packed into tmp (zstd: its name ends in
 * .tar.zst, whatever output's is), synced, then renamed to output. */
static int make_archive(const Profile *p, const Distribution *d, const char *mirror, const char *tree, const char *tmp,
                        const char *output) {
        int64_t now = (int64_t) time(NULL);
        set_source_date_epoch(now);
        int r;
        if ((r = bootstrap_tree(d, mirror, tree)) < 0 ||
            (r = guest_root_fill(tree, d, mirror, p->host.locale, p->host.timezone)) < 0 || (r = clean_tree(tree, now)) < 0)
                return r;
        TarballOptions o = { .clamp_mtime = now, .zstd_level = 9, .label = "guest archive" };
        if ((r = tarball_create(tree, tmp, &o)) < 0)
                return r;
        _cleanup_close_ int fd = open(tmp, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) < 0)
                return log_error_errno(errno, "cannot sync '%s': %m", tmp);
        if (rename(tmp, output) < 0)
                return log_error_errno(errno, "cannot rename '%s' to '%s': %m", tmp, output);
        return 0;
}

int guest_archive_refresh(const Profile *p, const char *output) {
        uint64_t t0 = now_usec();
        Distribution d = p->distribution;
        if (!isempty(d.keyring) && access(d.keyring, R_OK) < 0) {
                if (access(TREE_KEYRING, R_OK) < 0)
                        return log_error_errno(ENOENT, "the mirror's keyring '%s' (Keyring= of the profile) is neither there nor in %s",
                                               d.keyring, TREE_KEYRING);
                d.keyring = (char *) TREE_KEYRING;
        }
        _cleanup_free_ char *mirror = NULL;
        int r = host_mirror(p, &mirror);
        if (r < 0)
                return r;
        _cleanup_free_ char *shown = mirror_without_credentials(mirror, NULL);
        _cleanup_free_ char *tree = xasprintf("%s.tree", output), *tmp = xasprintf("%s.new.tar.zst", output);
        /* What an earlier cut run left. */
        if ((r = RUN(NULL, "rm", "-rf", "--one-file-system", tree, tmp)) < 0)
                return r;
        if (mkdir(tree, 0755) < 0)
                return log_error_errno(errno, "cannot create '%s': %m", tree);
        log_info("guest archive: %s from %s, made in %s", d.suite, shown, tree);
        r = make_archive(p, &d, mirror, tree, tmp, output);
        (void) RUN(NULL, "rm", "-rf", "--one-file-system", tree, tmp);
        if (r < 0)
                return log_error_errno(r, "the guest archive was not made again; %s is as it was", output);
        struct stat st;
        char sz[SIZE_BUF], took[32];
        log_info("guest archive: %s written (%s) in %s; new guests get their root from it", output,
                 stat(output, &st) == 0 ? format_size_human(sz, (uint64_t) st.st_size) : "?",
                 format_duration(took, sizeof took, now_usec() - t0));
        return 0;
}
