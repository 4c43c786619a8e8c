/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bootstrap.c: the root filesystem: mmdebstrap, then apt, then the
 * hyperion packages. The first two are cached as archives keyed by what
 * they depend on.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bootstrap.h"
#include "build.h"
#include "log.h"
#include "mount-util.h"
#include "mirror.h"
#include "release.h"
#include "run.h"
#include "sha256.h"
#include "strutil.h"
#include "tarball.h"

/* Packages the live system needs whatever the profile says. */
static const char *const live_packages[] = {
        "live-boot", "systemd-sysv", "linux-image-amd64", "zstd", NULL,
};

/* What dom0's seats need, and only a profile with seats gets: Kodi, cage
 * (the kiosk compositor it runs full screen in), Mesa's drivers (Kodi
 * recommends them; the image takes no Recommends), logind's PAM module and
 * the bus it is reached on. */
static const char *const seat_packages[] = {
        "kodi", "cage", "libgl1-mesa-dri", "libpam-systemd", "dbus", NULL,
};

/* ---- cache --------------------------------------------------------------- */

/* The SHA-256 of a cache entry: a file's, or a folder's (its files' names
 * and SHA-256s, sorted). */
static int entry_sha256(const char *entry, char out[65]) {
        struct stat st;
        if (lstat(entry, &st) < 0)
                return -errno;
        if (S_ISREG(st.st_mode))
                return sha256_file(entry, out);
        if (!S_ISDIR(st.st_mode))
                return -EINVAL;
        struct dirent **list = NULL;
        int n = scandir(entry, &list, NULL, alphasort);
        if (n < 0)
                return -errno;
        Sha256 s;
        sha256_init(&s);
        int r = 0;
        for (int i = 0; i < n; i++) {
                char h[65];
                _cleanup_free_ char *p = path_join(entry, list[i]->d_name);
                struct stat fs;
                if (r >= 0 && list[i]->d_name[0] != '.' && lstat(p, &fs) == 0) {
                        if (!S_ISREG(fs.st_mode) || (r = sha256_file(p, h)) < 0)
                                r = r < 0 ? r : -EINVAL;
                        else {
                                sha256_update_str(&s, list[i]->d_name);
                                sha256_update_str(&s, h);
                        }
                }
                free(list[i]);
        }
        free(list);
        if (r < 0)
                return r;
        uint8_t d[32];
        sha256_final(&s, d);
        sha256_hex(d, out);
        return 0;
}

int cache_seal(const char *entry) {
        char h[65];
        int r = entry_sha256(entry, h);
        if (r < 0)
                return log_warning_errno(r, "cannot checksum the cache entry '%s': %m", entry);
        _cleanup_free_ char *sum = xasprintf("%s.sha256", entry), *line = xasprintf("%s\n", h);
        r = write_file_atomic(sum, line, strlen(line), 0600);
        return r < 0 ? log_warning_errno(r, "cannot write '%s': %m", sum) : 0;
}

int cache_check(const char *entry, const char *label) {
        if (access(entry, F_OK) < 0)
                return 0;
        _cleanup_free_ char *sum = xasprintf("%s.sha256", entry), *want = NULL;
        char h[65];
        if (read_full_file(sum, &want, NULL) == 0 && entry_sha256(entry, h) == 0 && streq(strstrip(want), h))
                return 1;
        /* Damaged, tampered with, or from before checksums: built again. */
        log_warning("%s: the cache entry %s does not match its checksum: building it again", label, entry);
        (void) RUN(NULL, "rm", "-rf", "--one-file-system", entry, sum);
        return -1;
}

int cache_restore(const char *archive, const char *root, const char *label) {
        if (cache_check(archive, label) <= 0)
                return 0;
        log_info("%s: cached in %s", label, archive);
        int r = tarball_extract(archive, root, label);
        if (r < 0) {
                /* A damaged cache is not fatal: build again. */
                log_warning("%s: the cached archive cannot be used, building again", label);
                unlink(archive);
                (void) RUN(NULL, "rm", "-rf", "--one-file-system", root);
                if (mkdir(root, 0755) < 0)
                        return log_error_errno(errno, "cannot create '%s': %m", root);
                return 0;
        }
        return 1;
}

int cache_store(const char *archive, const char *root, const char *label) {
        TarballOptions o = { .zstd_level = 3, .label = label };
        int r = tarball_create(root, archive, &o);
        if (r < 0)
                log_warning("%s: cannot store in the cache, going on without it", label);
        else
                (void) cache_seal(archive);
        return 0;
}

static char *bootstrapper_version(void) {
        _cleanup_free_ char *out = NULL;
        RunOptions o = { .capture = &out };
        if (run((char *[]) { "mmdebstrap", "--version", NULL }, &o) != 0)
                return xstrdup("unknown");
        return xstrdup(strstrip(out));
}

/* One key for one root filesystem: suite, mirror, components, mmdebstrap. */
void bootstrap_key(const Distribution *d, const char *mirror, const char *release_sha256, char out[65]) {
        Sha256 s;
        sha256_init(&s);
        sha256_update_str(&s, "bootstrap/2");
        sha256_update_str(&s, d->suite);
        sha256_update_str(&s, mirror);
        sha256_update_str(&s, release_sha256);
        sha256_update_str(&s, d->architecture);
        for (char **c = d->components; *c; c++)
                sha256_update_str(&s, *c);
        _cleanup_free_ char *v = bootstrapper_version();
        sha256_update_str(&s, v);
        uint8_t dg[32];
        sha256_final(&s, dg);
        sha256_hex(dg, out);
}






/* ---- the stages ---------------------------------------------------------- */

/* What debian/control says the image's hyperion packages depend on by
 * name (the libraries of ${shlibs:Depends} are known only once they are
 * built: they come with the packages at the install stage). */
static void control_depends(const Build *b, char ***l) {
        _cleanup_free_ char *path = path_join(b->source, "debian/control"), *text = NULL;
        if (read_full_file(path, &text, NULL) < 0)
                return;
        _cleanup_strv_free_ char **lines = strv_split_lines(text);
        bool ours = false, in_depends = false;
        for (char **line = lines; *line; line++) {
                const char *v = NULL;
                if (startswith(*line, "Package:")) {
                        _cleanup_free_ char *name = xstrdup(*line + strlen("Package:"));
                        ours = streq(strstrip(name), "hyperion-firstboot") || streq(name, "hyperion-live") ||
                               streq(name, "hyperion-common");
                        in_depends = false;
                        continue;
                }
                if (startswith(*line, "Depends:")) {
                        in_depends = true;
                        v = *line + strlen("Depends:");
                } else if (in_depends && (**line == ' ' || **line == '\t'))
                        v = *line;
                else
                        in_depends = false;
                if (!ours || !v)
                        continue;
                _cleanup_strv_free_ char **items = xcalloc(1, sizeof(char *));
                _cleanup_free_ char *copy = xstrdup(v);
                char *save = NULL;
                for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
                        item = strstrip(item);
                        item[strcspn(item, " (|:<[")] = 0;
                        if (*item && !startswith(item, "${") && !startswith(item, "hyperion-") && !strv_contains(*l, item))
                                strv_push(l, item);
                }
        }
}

/* The profile's, the live system's, the seats' (when it has some) and what
 * the hyperion packages depend on by name; their libraries come with them
 * at the install stage (they are built meanwhile). */
char **build_package_list(const Build *b) {
        char **l = strv_copy(b->profile->packages.install);
        for (size_t i = 0; live_packages[i]; i++)
                if (!strv_contains(l, live_packages[i]))
                        strv_push(&l, live_packages[i]);
        for (size_t i = 0; b->profile->n_seats && seat_packages[i]; i++)
                if (!strv_contains(l, seat_packages[i]))
                        strv_push(&l, seat_packages[i]);
        control_depends(b, &l);
        strv_sort(l);
        return l;
}

static void packages_key(const Build *b, char *const *pkgs, char out[65]) {
        Sha256 s;
        sha256_init(&s);
        sha256_update_str(&s, "packages/3");
        sha256_update_str(&s, b->code_sha256);
        sha256_update_str(&s, b->bootstrap_key);
        /* Times inside what apt makes (initrds) come from SOURCE_DATE_EPOCH. */
        char epoch[32];
        snprintf(epoch, sizeof epoch, "%lld", (long long) b->source_date_epoch);
        sha256_update_str(&s, epoch);
        for (char *const *p = pkgs; *p; p++)
                sha256_update_str(&s, *p);
        uint8_t dg[32];
        sha256_final(&s, dg);
        sha256_hex(dg, out);
}

int stage_bootstrap(Build *b) {
        const Distribution *d = &b->profile->distribution;
        bootstrap_key(d, b->mirror, b->release.sha256, b->bootstrap_key);
        /* Before the stages that run beside each other: one key for both sides,
         * whatever happens to the source tree meanwhile. */
        firstboot_key(b);
        _cleanup_strv_free_ char **pkgs = build_package_list(b);
        packages_key(b, pkgs, b->packages_key);

        /* When the next stage is cached, its tree replaces this one: go straight to it. */
        _cleanup_free_ char *next = cache_path(b, "packages", b->packages_key, ".tar.zst");
        int r = cache_restore(next, b->root, "packages");
        if (r != 0) {
                b->packages_cached = r > 0;
                return r < 0 ? r : 0;
        }
        _cleanup_free_ char *archive = cache_path(b, "bootstrap", b->bootstrap_key, ".tar.zst");
        r = cache_restore(archive, b->root, "bootstrap");
        if (r != 0)
                return r < 0 ? r : 0;
        log_info("mmdebstrap %s (%s) from %s", d->suite, d->architecture, b->mirror);
        r = bootstrap_tree(d, b->mirror, b->root);
        if (r < 0)
                return r;
        return cache_store(archive, b->root, "bootstrap");
}

/*
 * live-boot belongs in the live system's initrd only. That initrd is made
 * in the tree as apt left it (LIVE_INITRD, moved onto the ISO by the
 * squash stage); /boot's, as the installed system needs it, is made at the
 * same time on the other core, in a mount namespace of its own where
 * /usr/share/initramfs-tools is a copy without live-boot's hooks and
 * script. Then live-boot is purged: the installer copies a root that is
 * already right and never makes an initrd (minutes, on slow machines).
 * apt made none (initramfs_hold): each is made once.
 */
#define LIVE_BOOT_HOOKS "var/lib/dpkg/info/live-boot-initramfs-tools.list"
#define INITRAMFS_SHARE "usr/share/initramfs-tools"
#define INITRAMFS_SHADOW "tmp/hyperion-initramfs-tools"

/* INITRAMFS_SHADOW: INITRAMFS_SHARE without the files of live-boot-initramfs-tools. */
static int initramfs_shadow(const char *root) {
        _cleanup_free_ char *share = path_join(root, INITRAMFS_SHARE), *shadow = path_join(root, INITRAMFS_SHADOW);
        _cleanup_free_ char *list = path_join(root, LIVE_BOOT_HOOKS), *text = NULL;
        int r = read_full_file(list, &text, NULL);
        if (r < 0)
                return log_error_errno(r, "cannot read '%s': %m", list);
        if ((r = RUN(NULL, "rm", "-rf", shadow)) < 0 || (r = RUN(NULL, "cp", "-a", share, shadow)) < 0)
                return r;
        _cleanup_strv_free_ char **lines = strv_split_lines(text);
        for (char **l = lines; *l; l++) {
                static const char prefix[] = "/" INITRAMFS_SHARE "/";
                if (!startswith(*l, prefix))
                        continue;
                _cleanup_free_ char *p = path_join(shadow, *l + strlen(prefix));
                struct stat st;
                if (lstat(p, &st) == 0 && !S_ISDIR(st.st_mode) && unlink(p) < 0)
                        return log_error_errno(errno, "cannot remove '%s': %m", p);
        }
        return 0;
}

/* /boot's initrd in a child process with the shadow mounted over INITRAMFS_SHARE. */
static pid_t installed_initrd_aside(const char *root) {
        /* The parent mounts the tree's API file systems only once the child
         * has its own namespace, without them. */
        int ready[2];
        if (pipe2(ready, O_CLOEXEC) < 0)
                return -1;
        fflush(NULL);
        pid_t pid = fork();
        if (pid != 0) {
                close(ready[1]);
                char c;
                while (pid > 0 && read(ready[0], &c, 1) < 0 && errno == EINTR)
                        ;
                close(ready[0]);
                return pid;
        }
        close(ready[0]);
        run_current_child = 0;
        _cleanup_free_ char *share = path_join(root, INITRAMFS_SHARE), *shadow = path_join(root, INITRAMFS_SHADOW);
        int r = 0;
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount(shadow, share, NULL, MS_BIND, NULL) < 0)
                r = log_error_errno(errno, "cannot hide live-boot's hooks from the installed system's initrd: %m");
        close(ready[1]);
        if (r >= 0)
                r = initramfs_make(root, "initrd", NULL);
        fflush(NULL);
        _exit(r < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
}

static int split_initrds(const char *root) {
        _cleanup_free_ char *dir = path_join(root, "usr/lib/hyperion"), *shadow = path_join(root, INITRAMFS_SHADOW);
        int r = RUN(NULL, "mkdir", "-p", dir);
        if (r < 0)
                return r;
        pid_t pid = -1;
        if (root_is_mount_point()) {
                if ((r = initramfs_shadow(root)) < 0)
                        return r;
                log_set_plain_progress(true);
                pid = installed_initrd_aside(root);
                if (pid < 0)
                        return log_error_errno(errno, "cannot start the installed system's initrd: %m");
        }
        r = initramfs_make(root, "live initrd", "/" LIVE_INITRD);
        if (pid > 0) {
                if (r < 0 || build_interrupted)
                        kill(pid, SIGTERM);
                int st = 0;
                while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                        ;
                log_set_plain_progress(false);
                if (r >= 0 && (!WIFEXITED(st) || WEXITSTATUS(st) != 0))
                        r = log_error_errno(EIO, "the installed system's initrd could not be made (the log says why)");
                (void) RUN(NULL, "rm", "-rf", shadow);
        }
        if (r < 0 || (r = initramfs_hold(root, true)) < 0)
                return r;
        r = chroot_run(root, "packages", (char *[]) { "dpkg", "--purge", "live-boot", "live-boot-initramfs-tools", NULL });
        int k = initramfs_hold(root, false);
        if (r < 0 || k < 0)
                return r < 0 ? r : k;
        /* Where a process cannot have mounts of its own: after the purge. */
        return pid > 0 ? 0 : initramfs_make(root, "initrd", NULL);
}

int stage_packages(Build *b) {
        if (b->packages_cached)
                return 0;
        _cleanup_strv_free_ char **pkgs = build_package_list(b);
        _cleanup_free_ char *list = strv_join(pkgs, " ");
        log_info("installing %zu packages: %s", strv_length(pkgs), list);
        int r = apt_sources(b->root, &b->profile->distribution, b->mirror);
        if (r < 0 || (r = policy_rc_d(b->root, true)) < 0)
                return r;
        r = apt_install(b->root, "packages", pkgs);
        if (r < 0 || (r = split_initrds(b->root)) < 0)
                return r;
        _cleanup_free_ char *archive = cache_path(b, "packages", b->packages_key, ".tar.zst");
        return cache_store(archive, b->root, "packages");
}

int stage_install(Build *b) {
        /* Built beside the packages, in a process of its own: found again. */
        int r = b->deb_files && b->deb_files[0] ? 0 : firstboot_collect(b);
        if (r < 0)
                return r;
        _cleanup_strv_free_ char **argv = xcalloc(1, sizeof(char *));
        /* With what they depend on, from the tree's package lists (of this
         * very Release: the packages stage's key holds it). */
        const char *fixed[] = { "apt-get", "install", "-y", "--no-install-recommends", "-o", "Dpkg::Options::=--force-confdef",
                                "-o", "Dpkg::Options::=--force-confold", "-o", "Dpkg::Options::=--force-unsafe-io", "-o", "Dpkg::Use-Pty=0" };
        for (size_t i = 0; i < ELEMENTSOF(fixed); i++)
                strv_push(&argv, fixed[i]);
        _cleanup_free_ char *tmp = path_join(b->root, "tmp/hyperion-debs");
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
                return log_error_errno(errno, "cannot create '%s': %m", tmp);
        for (char **f = b->deb_files; *f; f++) {
                const char *base = strrchr(*f, '/') + 1;
                _cleanup_free_ char *dst = path_join(tmp, base);
                r = RUN(NULL, "cp", *f, dst);
                if (r < 0)
                        return r;
                strv_consume(&argv, xasprintf("/tmp/hyperion-debs/%s", base));
        }
        r = policy_rc_d(b->root, true);
        if (r < 0)
                return r;
        /* What they depend on is downloaded once for all builds of this
         * suite: the archives folder is the cache's while apt runs (apt
         * checks each file there against the signed index before using it;
         * 0755: apt's sandbox user reaches its partial/ folder). */
        _cleanup_free_ char *archives = xasprintf("%s/apt-%s-%s", b->cache, b->profile->distribution.suite,
                                                  b->profile->distribution.architecture);
        _cleanup_free_ char *inside = path_join(b->root, "var/cache/apt/archives");
        if ((r = RUN(NULL, "mkdir", "-p", "-m", "0755", archives)) < 0 || (r = RUN(NULL, "mkdir", "-p", inside)) < 0)
                return r;
        if (mount(archives, inside, NULL, MS_BIND, NULL) < 0)
                return log_error_errno(errno, "cannot bind '%s' on '%s': %m", archives, inside);
        r = chroot_run(b->root, "install", argv);
        if (umount(inside) < 0)
                log_warning_errno(errno, "cannot unmount '%s': %m", inside);
        if (r < 0)
                return log_error_errno(r, "the hyperion packages do not install in the tree (the log has apt's messages)");
        return RUN(NULL, "rm", "-rf", tmp);
}
