/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * debtree.c: Debian trees made and changed: mmdebstrap, apt and dpkg run
 * in them, the host's locale and time zone set, and the clean-up that
 * leaves no trace of the machine that made them. The builder makes the
 * image's root and the guests' with it; an installed host makes its guest
 * archive again with the same code (hyperion-firstboot refresh-archive).
 */
#include "debtree.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mirror.h"
#include "mount-util.h"
#include "run.h"
#include "strutil.h"

/* ---- running things in the tree, with progress -------------------------- */

typedef struct LineProgress {
        Progress progress;
        unsigned total, done;
} LineProgress;

static void apt_line(const char *line, void *userdata) {
        LineProgress *lp = userdata;
        log_debug("%s", line);
        unsigned n;
        if (sscanf(line, "%*u upgraded, %u newly installed", &n) == 1)
                lp->total = n * 2;
        if (startswith(line, "Unpacking ") || startswith(line, "Setting up ")) {
                lp->done++;
                const char *what = strchr(line, ' ') + 1;
                progress_update(&lp->progress, lp->total ? (int) MIN(100u, lp->done * 100 / lp->total) : -1, what);
        } else if (startswith(line, "Get:") || startswith(line, "I: ") || startswith(line, "W: "))
                progress_update(&lp->progress, -1, line);
}

static char sde_env[48] = "SOURCE_DATE_EPOCH=";

void set_source_date_epoch(int64_t epoch) {
        snprintf(sde_env, sizeof sde_env, "SOURCE_DATE_EPOCH=%lld", (long long) epoch);
}

/* No environment of the build machine leaks in: TZ unset (UTC), C.UTF-8. */
static char *const chroot_env[] = {
        "DEBIAN_FRONTEND=noninteractive",
        "DEBCONF_NONINTERACTIVE_SEEN=true",
        "LC_ALL=C.UTF-8",
        "HOME=/root",
        sde_env,
        NULL,
};

int chroot_run(const char *root, const char *label, char *const *argv) {
        return chroot_run_in(root, label, NULL, argv);
}

int chroot_run_in(const char *root, const char *label, const char *cwd, char *const *argv) {
        int r = chroot_mount(root, NULL, 0);
        if (r < 0)
                return r;
        LineProgress lp = {};
        progress_begin(&lp.progress, label);
        _cleanup_free_ char *err = NULL;
        RunOptions o = {
                .root = root, .cwd = cwd, .env = chroot_env, .clear_env = true,
                .on_line = apt_line, .userdata = &lp, .capture_err = &err,
        };
        r = run_ok(argv, &o);
        progress_end(&lp.progress);
        if (err && *err)
                log_debug("%s", err);
        chroot_umount(root);
        return r;
}

int host_run(const char *label, char *const *argv) {
        LineProgress lp = {};
        progress_begin(&lp.progress, label);
        _cleanup_free_ char *err = NULL;
        RunOptions o = { .on_line = apt_line, .userdata = &lp, .capture_err = &err, .env = chroot_env };
        int r = run_ok(argv, &o);
        progress_end(&lp.progress);
        if (err && *err)
                log_debug("%s", err);
        return r;
}

static const char *keyring_of(const Distribution *d) {
        return isempty(d->keyring) ? DEBIAN_KEYRING : d->keyring;
}

/* mmdebstrap rather than debootstrap: the same 78 packages of a trixie
 * minbase in 17 s rather than 28 (apt resolves and fetches them at once,
 * dpkg unpacks without an fsync for each file). */
int bootstrap_tree(const Distribution *d, const char *mirror, const char *root) {
        _cleanup_free_ char *comps = strv_join(d->components, ",");
        _cleanup_free_ char *arch = xasprintf("--architectures=%s", d->architecture);
        _cleanup_free_ char *c = xasprintf("--components=%s", comps);
        /* What it fetches checks against the mirror's keyring, never unsigned,
         * and against no other: apt's trusted parts are an empty folder
         * beside the tree, not the build machine's /etc/apt/trusted.gpg.d. */
        _cleanup_free_ char *k = xasprintf("--keyring=%s", keyring_of(d)), *parts = xasprintf("%s.trusted.d", root);
        _cleanup_free_ char *kp = xasprintf("--keyring=%s", parts);
        if (mkdir(parts, 0700) < 0 && errno != EEXIST)
                return log_error_errno(errno, "cannot create '%s': %m", parts);
        int r = host_run("mmdebstrap", (char *[]) { "mmdebstrap", "--mode=root", "--variant=minbase", k, kp, arch, c,
                                                    "--dpkgopt=force-unsafe-io", d->suite, (char *) root, (char *) mirror, NULL });
        (void) rmdir(parts);
        if (r < 0)
                return log_error_errno(r, "mmdebstrap of %s from %s failed (is the mirror reachable? the log has its messages)",
                                       d->suite, mirror);
        /* --dpkgopt stays in the tree for every later dpkg: not in the image. */
        _cleanup_free_ char *opt = path_join(root, "etc/dpkg/dpkg.cfg.d/99mmdebstrap");
        if (unlink(opt) < 0 && errno != ENOENT)
                return log_error_errno(errno, "cannot remove '%s': %m", opt);
        return 0;
}

int apt_sources(const char *root, const Distribution *d, const char *mirror) {
        _cleanup_free_ char *comps = strv_join(d->components, " ");
        /* apt in the tree checks the mirror against the same keyring: Debian's
         * is in the tree already (debian-archive-keyring); another is copied in. */
        const char *keyring = DEBIAN_KEYRING;
        int r;
        if (!isempty(d->keyring)) {
                keyring = "/etc/apt/keyrings/hyperion-mirror.gpg";
                _cleanup_free_ char *dir = path_join(root, "etc/apt/keyrings"), *dst = path_join(root, keyring);
                if ((r = RUN(NULL, "mkdir", "-p", dir)) < 0 || (r = RUN(NULL, "cp", "--", d->keyring, dst)) < 0)
                        return log_error_errno(r, "cannot copy the keyring '%s' into the tree", d->keyring);
        }
        /* Credentials go to apt's auth.conf.d, which the clean stage removes. */
        _cleanup_free_ char *userinfo = NULL, *url = mirror_without_credentials(mirror, &userinfo);
        if (userinfo) {
                const char *host = strstr(url, "://") + 3, *colon = strchr(userinfo, ':');
                _cleanup_free_ char *machine = xstrndup(host, strcspn(host, "/"));
                _cleanup_free_ char *login = colon ? xstrndup(userinfo, (size_t) (colon - userinfo)) : xstrdup(userinfo);
                _cleanup_free_ char *auth = xasprintf("machine %s login %s password %s\n", machine, login, colon ? colon + 1 : "");
                _cleanup_free_ char *dir = path_join(root, "etc/apt/auth.conf.d");
                if ((r = RUN(NULL, "mkdir", "-p", dir)) < 0 || (r = write_file_under(root, "etc/apt/auth.conf.d/hyperion-mirror.conf", auth, 0600)) < 0)
                        return r;
        }
        _cleanup_free_ char *text = xasprintf("deb [signed-by=%s] %s %s %s\n", keyring, url, d->suite, comps);
        return write_file_under(root, "etc/apt/sources.list", text, 0644);
}

int policy_rc_d(const char *root, bool on) {
        if (on)
                return write_file_under(root, "usr/sbin/policy-rc.d", "#!/bin/sh\n# hyperion-build: no service starts in the build\nexit 101\n",
                                  0755);
        _cleanup_free_ char *p = path_join(root, "usr/sbin/policy-rc.d");
        if (unlink(p) < 0 && errno != ENOENT)
                return log_error_errno(errno, "cannot remove '%s': %m", p);
        return 0;
}

/* ---- the initrd, made once ----------------------------------------------- */

#define UPDATE_INITRAMFS_REL "usr/sbin/update-initramfs"
#define UPDATE_INITRAMFS "/" UPDATE_INITRAMFS_REL

/* A kernel's postinst makes its initrd, and every package with a hook
 * makes it again through initramfs-tools' trigger: three times in the
 * image's tree (kernel, live-boot, then live-boot's purge), 47 s of the
 * build. While apt runs, update-initramfs is diverted to a program that
 * does nothing; the tree's initrd is made once, after (initramfs_make). */
int initramfs_hold(const char *root, bool on) {
        _cleanup_free_ char *stub = path_join(root, UPDATE_INITRAMFS_REL);
        int r;
        if (on) {
                r = chroot_run(root, "initramfs", (char *[]) { "dpkg-divert", "--local", "--rename", "--divert",
                                                               UPDATE_INITRAMFS ".hyperion-held", "--add", UPDATE_INITRAMFS, NULL });
                if (r < 0)
                        return log_error_errno(r, "cannot divert %s in the tree", UPDATE_INITRAMFS);
                return write_file_under(root, UPDATE_INITRAMFS_REL,
                                        "#!/bin/sh\n# hyperion-build: the initrd is made once, after apt\nexit 0\n", 0755);
        }
        if (unlink(stub) < 0 && errno != ENOENT)
                return log_error_errno(errno, "cannot remove '%s': %m", stub);
        r = chroot_run(root, "initramfs", (char *[]) { "dpkg-divert", "--local", "--rename", "--remove", UPDATE_INITRAMFS, NULL });
        return r < 0 ? log_error_errno(r, "cannot take back the diversion of %s in the tree", UPDATE_INITRAMFS) : 0;
}

/* The version of the tree's one kernel, from boot/vmlinuz-VERSION. */
static int kernel_version(const char *root, char **ret) {
        _cleanup_free_ char *pattern = path_join(root, "boot/vmlinuz-*");
        glob_t g;
        int r = glob(pattern, 0, NULL, &g);
        size_t n = r == 0 ? g.gl_pathc : 0;
        if (n == 1)
                *ret = xstrdup(strrchr(g.gl_pathv[0], '/') + strlen("/vmlinuz-"));
        if (r == 0)
                globfree(&g);
        if (n != 1)
                return log_error_errno(EINVAL, "expected one kernel in %s/boot, found %zu", root, n);
        return 0;
}

int initramfs_make(const char *root, const char *label, const char *output) {
        _cleanup_free_ char *version = NULL;
        int r = kernel_version(root, &version);
        if (r < 0)
                return r;
        if (output)
                r = chroot_run(root, label, (char *[]) { "mkinitramfs", "-o", (char *) output, version, NULL });
        else
                r = chroot_run(root, label, (char *[]) { "update-initramfs", "-c", "-k", version, NULL });
        return r < 0 ? log_error_errno(r, "the initrd of kernel %s cannot be made in the tree (the log has its messages)", version) : 0;
}

/* apt-get install, no recommends, configuration files as packaged; the
 * initrd is not made (initramfs_hold). */
int apt_install(const char *root, const char *label, char *const *packages) {
        int r = chroot_run(root, label, (char *[]) { "apt-get", "update", NULL });
        if (r < 0)
                return log_error_errno(r, "apt-get update failed in the tree (is the mirror reachable?)");
        if ((r = initramfs_hold(root, true)) < 0)
                return r;
        _cleanup_strv_free_ char **argv = xcalloc(1, sizeof(char *));
        /* No fsync for each file dpkg unpacks: the tree is packed, never booted as it is. */
        const char *fixed[] = { "apt-get", "install", "-y", "--no-install-recommends", "-o", "Dpkg::Options::=--force-confdef",
                                "-o", "Dpkg::Options::=--force-confold", "-o", "Dpkg::Options::=--force-unsafe-io", "-o", "Dpkg::Use-Pty=0" };
        for (size_t i = 0; i < ELEMENTSOF(fixed); i++)
                strv_push(&argv, fixed[i]);
        for (char *const *p = packages; *p; p++)
                strv_push(&argv, *p);
        r = chroot_run(root, label, argv);
        int k = initramfs_hold(root, false);
        if (r < 0)
                return log_error_errno(r, "apt-get install failed in the tree: a package may not exist in this suite "
                                          "(the log has apt's messages)");
        if (k < 0)
                return k;
        /* The downloaded .deb files are not part of any tree we keep. */
        return chroot_run(root, label, (char *[]) { "apt-get", "clean", NULL });
}

/* ---- settings ---------------------------------------------------------- */

int tree_set_locale(const char *root, const char *locale) {
        _cleanup_free_ char *def = xasprintf("LANG=%s\n", locale);
        /* trixie: /etc/default/locale is a link to ../locale.conf (and
         * tmpfiles.d makes it one again at boot): the file behind it. */
        _cleanup_free_ char *link = path_join(root, "etc/default/locale");
        struct stat st;
        bool conf = lstat(link, &st) == 0 && S_ISLNK(st.st_mode);
        int r = write_file_under(root, conf ? "etc/locale.conf" : "etc/default/locale", def, 0644);
        if (r < 0 || streq(locale, "C.UTF-8") || streq(locale, "C") || streq(locale, "POSIX"))
                return r;
        _cleanup_free_ char *gen = path_join(root, "usr/sbin/locale-gen");
        if (access(gen, X_OK) < 0)
                return log_error_errno(ENOENT, "Locale=%s needs the package 'locales' in [Packages] Install=", locale);
        const char *dot = strchr(locale, '.');
        _cleanup_free_ char *line = xasprintf("%s %s\n", locale, dot ? dot + 1 : "ISO-8859-1");
        r = write_file_under(root, "etc/locale.gen", line, 0644);
        if (r < 0)
                return r;
        return chroot_run(root, "locale-gen", (char *[]) { "locale-gen", NULL });
}

int tree_set_timezone(const char *root, const char *tz) {
        _cleanup_free_ char *rel = xasprintf("usr/share/zoneinfo/%s", tz), *zone = path_join(root, rel);
        if (access(zone, F_OK) < 0)
                return log_error_errno(ENOENT, "time zone '%s' does not exist in the image (is 'tzdata' installed?)", tz);
        _cleanup_free_ char *lt = path_join(root, "etc/localtime"), *target = xasprintf("/%s", rel);
        (void) unlink(lt);
        if (symlink(target, lt) < 0)
                return log_error_errno(errno, "cannot link '%s': %m", lt);
        _cleanup_free_ char *text = xasprintf("%s\n", tz);
        return write_file_under(root, "etc/timezone", text, 0644);
}

/* ---- clean --------------------------------------------------------------- */

/* Remove what matches each pattern under root; a pattern that matches nothing is fine. */
static int remove_globs(const char *root, const char *const *patterns) {
        for (size_t i = 0; patterns[i]; i++) {
                _cleanup_free_ char *p = path_join(root, patterns[i]);
                glob_t g;
                int k = glob(p, GLOB_NOSORT | GLOB_PERIOD, NULL, &g);
                if (k == GLOB_NOMATCH)
                        continue;
                if (k != 0)
                        return log_error_errno(EIO, "cannot expand '%s'", p);
                for (size_t j = 0; j < g.gl_pathc; j++) {
                        const char *base = strrchr(g.gl_pathv[j], '/');
                        if (base && (streq(base, "/.") || streq(base, "/..")))
                                continue;
                        int r = RUN(NULL, "rm", "-rf", "--one-file-system", g.gl_pathv[j]);
                        if (r < 0) {
                                globfree(&g);
                                return r;
                        }
                }
                globfree(&g);
        }
        return 0;
}

/* /var/log keeps its folders (packages own them) and loses every file. */
static int empty_logs(const char *root) {
        _cleanup_free_ char *logs = path_join(root, "var/log");
        return RUN(NULL, "find", logs, "-xdev", "(", "-type", "f", "-o", "-type", "l", ")", "-delete");
}

/* The day of the last password change, in /etc/shadow, is a date. */
static int clamp_shadow(const char *root, int64_t epoch) {
        _cleanup_free_ char *path = path_join(root, "etc/shadow"), *text = NULL;
        if (read_full_file(path, &text, NULL) < 0)
                return 0;
        long day = (long) (epoch / 86400);
        _cleanup_strv_free_ char **out = xcalloc(1, sizeof(char *));
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                /* name:password:lastchg:rest */
                char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL, *c3 = c2 ? strchr(c2 + 1, ':') : NULL;
                if (!c3 || c3 == c2 + 1 || strtol(c2 + 1, NULL, 10) <= day) {
                        strv_push(&out, line);
                        continue;
                }
                strv_consume(&out, xasprintf("%.*s:%ld%s", (int) (c2 - line), line, day, c3));
        }
        _cleanup_free_ char *joined = strv_join(out, "\n");
        _cleanup_free_ char *final = xasprintf("%s\n", joined);
        int r = write_file_atomic(path, final, strlen(final), 0640);
        if (r < 0)
                return log_error_errno(r, "cannot write '%s': %m", path);
        /* root:shadow, as Debian has it */
        return chown(path, 0, 42) < 0 ? log_error_errno(errno, "cannot chown '%s': %m", path) : 0;
}

static int64_t clamp_epoch;
static int clamp_one(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        (void) type;
        (void) ftw;
        if (st->st_mtime <= clamp_epoch && st->st_atime <= clamp_epoch)
                return 0;
        struct timespec t[2] = { { (time_t) clamp_epoch, 0 }, { (time_t) clamp_epoch, 0 } };
        if (st->st_mtime < clamp_epoch)
                t[1] = st->st_mtim;
        if (utimensat(AT_FDCWD, path, t, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        return 0;
}

/* No file newer than the epoch. */
int clamp_mtimes(const char *root, int64_t epoch) {
        clamp_epoch = epoch;
        int r = nftw(root, clamp_one, 64, FTW_PHYS | FTW_MOUNT);
        if (r != 0)
                return log_error_errno(r < 0 ? r : EIO, "cannot set the times of the files under '%s'", root);
        return 0;
}

/* systemd's units with ConditionNeedsUpdate= (ldconfig, the hwdb, the
 * journal's catalog, sysusers...) run at a boot where /usr is newer than
 * /etc/.updated or /var/.updated: on every boot of the live system and on
 * the first boot of each installed system and guest (measured in a guest's
 * first boot under TCG: ldconfig 12.7 s, the catalog 13.1 s, sysusers
 * 15.7 s, beside each other), for caches that apt's triggers already made. The stamps
 * systemd-update-done would write, with /usr's time (after the clamp):
 * the tree is up to date as it is. */
static const char *const update_stamps[] = { "etc/.updated", "var/.updated" };

/* Written before the clamp (their folders' times are clamped with the
 * rest), given /usr's time after it. */
static int stamp_updated(const char *root, bool set_time) {
        _cleanup_free_ char *usr = path_join(root, "usr");
        struct stat st;
        if (stat(usr, &st) < 0)
                return log_error_errno(errno, "cannot read '%s': %m", usr);
        for (size_t i = 0; i < ELEMENTSOF(update_stamps); i++) {
                _cleanup_free_ char *p = path_join(root, update_stamps[i]);
                struct timespec t[2] = { st.st_mtim, st.st_mtim };
                if (set_time) {
                        if (utimensat(AT_FDCWD, p, t, AT_SYMLINK_NOFOLLOW) < 0)
                                return log_error_errno(errno, "cannot set the times of '%s': %m", p);
                        continue;
                }
                /* systemd-update-done's text; its time is the file's. */
                int r = write_file_under(root, update_stamps[i],
                                         "# This file was created by systemd-update-done. Its only\n"
                                         "# purpose is to hold a timestamp of the time this directory\n"
                                         "# was updated. See man:systemd-update-done.service(8).\n"
                                         "# hyperion: written at build time, with /usr's time.\n",
                                         0644);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* What makes two builds of a tree differ, or a machine like another, gone. */
int clean_tree(const char *root, int64_t epoch) {
        static const char *const garbage[] = {
                "etc/ssh/ssh_host_*", "var/lib/dbus/machine-id", "var/lib/apt/lists/*_*", "var/lib/apt/lists/partial/*",
                "var/cache/apt/*.bin", "var/cache/apt/archives/*.deb", "var/cache/apt/archives/partial/*",
                "var/cache/debconf/*-old", "var/lib/dpkg/*-old", "etc/*-", "etc/*-old", "var/cache/ldconfig/aux-cache",
                "var/lib/systemd/random-seed", "var/lib/systemd/credential.secret", "etc/resolv.conf", "root/.bash_history",
                "etc/apt/auth.conf.d/hyperion-mirror.conf",
                "root/.cache", "tmp/*", "var/tmp/*", "var/cache/man/*", NULL,
        };
        int r;
        if ((r = policy_rc_d(root, false)) < 0 || (r = remove_globs(root, garbage)) < 0 || (r = empty_logs(root)) < 0)
                return r;
        /* Python caches, wherever they are. */
        r = RUN(NULL, "find", root, "-xdev", "-name", "__pycache__", "-type", "d", "-prune", "-exec", "rm", "-rf", "{}", "+");
        if (r < 0)
                return r;
        /* Empty, not absent: systemd makes one at each boot of a live system. */
        if ((r = write_file_under(root, "etc/machine-id", "", 0444)) < 0 || (r = clamp_shadow(root, epoch)) < 0 ||
            (r = stamp_updated(root, false)) < 0)
                return r;
        if ((r = clamp_mtimes(root, epoch)) < 0 || (r = stamp_updated(root, true)) < 0)
                return r;
        /* The API filesystems' mount points: what mmdebstrap and chroots do
         * to them depends on the build machine (a build in a chroot, say). */
        static const char *const mount_points[] = { "proc", "sys", "dev", "run" };
        for (size_t i = 0; i < ELEMENTSOF(mount_points); i++) {
                _cleanup_free_ char *p = path_join(root, mount_points[i]);
                struct timespec t[2] = { { (time_t) epoch, 0 }, { (time_t) epoch, 0 } };
                if (utimensat(AT_FDCWD, p, t, AT_SYMLINK_NOFOLLOW) < 0 && errno != ENOENT)
                        return log_error_errno(errno, "cannot set the times of '%s': %m", p);
        }
        return 0;
}
