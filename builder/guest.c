/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * guest.c: the guests' root filesystem, built once with debootstrap and apt
 * (what a guest needs: systemd, a kernel, SSH, DHCP), cleaned like the image,
 * and stored on the ISO as a reproducible archive (libarchive: sorted
 * entries, numeric owners, times clamped to SOURCE_DATE_EPOCH). The
 * installer unpacks it into each guest's volume. Cached.
 *
 * A guest boots as slowly as its host lets it: a loaded two-core box that
 * also builds and runs Kodi can take minutes. Nothing in the tree gives up
 * on a timeout: no start job and no device (its disk xvda, its swap xvdb,
 * its console hvc0) has a deadline, and the initrd waits for xvda as long
 * as it takes. Once multi-user.target is reached, a unit prints one line on
 * hvc0 (medium.h) that the host's report reads from xenconsoled's log.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bootstrap.h"
#include "build.h"
#include "image.h"
#include "log.h"
#include "medium.h"
#include "run.h"
#include "sha256.h"
#include "size.h"
#include "strutil.h"
#include "tarball.h"

static const char *const guest_packages[] = {
        "systemd-sysv", "linux-image-amd64", "openssh-server", "ifupdown", "isc-dhcp-client", "iproute2",
        "locales", "tzdata", "zstd", "less", NULL,
};

/* The files hyperion lays in every guest's tree: path, mode, text. */
typedef struct GuestFile {
        const char *path;
        int mode;
        const char *text;
} GuestFile;

static const GuestFile guest_files[] = {
        /* debootstrap copies the build machine's: none of it reaches the ISO
         * (the installer writes each guest's own). */
        { "etc/hostname", 0644, "localhost\n" },
        { "etc/systemd/system.conf.d/hyperion-guest.conf", 0644,
          "# hyperion: a guest boots as slowly as its host lets it. No device it\n"
          "# always has (xvda, xvdb, hvc0) and no start job is given up on.\n"
          "[Manager]\nDefaultTimeoutStartSec=infinity\nDefaultDeviceTimeoutSec=infinity\n" },
        /* Units that set their own TimeoutSec=90s (fsck, journal flush, sysctl...). */
        { "etc/systemd/system/service.d/hyperion-guest.conf", 0644,
          "# hyperion: no service of a guest fails for starting slowly on a loaded host.\n"
          "[Service]\nTimeoutStartSec=infinity\n" },
        /* ifupdown waits for udev with "udevadm settle", which gives up after
         * 120 s on its own, in a unit that gives up after 180 s: as long as it
         * takes, instead. The file's name differs from service.d's one above:
         * a drop-in of the same name in the unit's own folder hides it. */
        { "etc/systemd/system/ifupdown-pre.service.d/hyperion-udev-settle.conf", 0644,
          "# hyperion: udev may take longer than udevadm's 120 s and the unit's own\n"
          "# TimeoutSec=180 on a loaded host.\n"
          "[Service]\nTimeoutStartSec=infinity\nExecStart=\n"
          "ExecStart=/bin/sh -c 'until udevadm settle --timeout=60; do echo \"hyperion: udev is still busy; waiting\"; done'\n" },
        { "etc/systemd/journald.conf.d/hyperion-guest.conf", 0644,
          "# hyperion: the guest's journal is kept on its disk.\n[Journal]\nStorage=persistent\n" },
        /* initramfs-tools waits 30 s for the root device, then drops to a shell. */
        { "etc/initramfs-tools/scripts/local-top/hyperion-wait-root", 0755,
          "#!/bin/sh\n"
          "# hyperion: a Xen guest always has its root disk xvda; wait for it as long\n"
          "# as a loaded host takes to give it (initramfs-tools alone gives up after 30 s).\n"
          "case $1 in prereqs) exit 0 ;; esac\n"
          "n=0\n"
          "while [ ! -b /dev/xvda ]; do\n"
          "\tif [ $((n % 30)) -eq 0 ]; then echo \"hyperion: waiting for the root disk /dev/xvda ($n s)\"; fi\n"
          "\tsleep 1\n"
          "\tn=$((n + 1))\n"
          "done\n" },
        { "etc/initramfs-tools/conf.d/hyperion-guest.conf", 0644,
          "# hyperion: a Xen guest's initrd holds only what mounts its root.\nMODULES=list\n" },
        /* The default (MODULES=most) does not even unpack in 128M of memory. */
        { "etc/initramfs-tools/modules", 0644, "# hyperion: a Xen guest's root\nxen_blkfront\next4\n" },
        /* Keys are made per guest at install time; this only fills a gap. */
        { "etc/systemd/system/ssh.service.d/hyperion-hostkeys.conf", 0644,
          "# hyperion: the installer gives each guest its own SSH host keys; a missing\n"
          "# one is made here rather than have sshd start without it.\n"
          "[Service]\nExecStartPre=\nExecStartPre=/usr/bin/ssh-keygen -A\nExecStartPre=/usr/sbin/sshd -t\n" },
        { GUEST_READY_SCRIPT + 1, 0755,
          "#!/bin/sh\n"
          "# hyperion: the line this guest prints on its console (hvc0) once its system\n"
          "# is up, for the report of its host (hyperion-firstboot(8) report), which\n"
          "# reads it from xenconsoled's log: no network needed.\n"
          "up=$(cut -d. -f1 /proc/uptime)\n"
          "swap=$(awk 'NR > 1 { printf \"%s%s %sk\", sep, $1, $3; sep = \", \" }' /proc/swaps)\n"
          "addr=$(ip -4 -o address show scope global 2>/dev/null | awk '{ printf \"%s%s %s\", sep, $2, $4; sep = \", \" }')\n"
          "ssh=inactive\n"
          "for u in ssh.service ssh.socket; do\n"
          "\tif systemctl -q is-active \"$u\"; then\n"
          "\t\tssh=\"active after $(( $(systemctl show -P ActiveEnterTimestampMonotonic \"$u\") / 1000000 )) s\"\n"
          "\t\tbreak\n"
          "\tfi\n"
          "done\n"
          "failed=$(systemctl list-units --state=failed --no-legend --plain | awk '{ printf \"%s%s\", sep, $1; sep = \",\" }')\n"
          "domain=$(cat /sys/hypervisor/uuid 2>/dev/null)\n"
          "echo \"" GUEST_READY_PREFIX "$(uname -n) up after $up s: multi-user; swap ${swap:-none}; address ${addr:-none}; ssh $ssh; failed ${failed:-none}; domain ${domain:-unknown}\"\n" },
        { "etc/systemd/system/" GUEST_READY_UNIT, 0644,
          "# hyperion: once multi-user.target is reached, one line on the console\n"
          "# (hvc0) that says so, for the host's report.\n"
          "[Unit]\nDescription=Hyperion guest: tell the host this system is up\n"
          "After=multi-user.target network-online.target ssh.service\nWants=network-online.target\n\n"
          "[Service]\nType=oneshot\nExecStart=" GUEST_READY_SCRIPT "\nStandardOutput=journal+console\n\n"
          "[Install]\nWantedBy=multi-user.target\n" },
        {},
};

static int lay_guest_files(const char *root) {
        for (const GuestFile *f = guest_files; f->path; f++) {
                _cleanup_free_ char *full = path_join(root, f->path);
                _cleanup_free_ char *dir = xstrdup(full);
                *strrchr(dir, '/') = 0;
                int r = RUN(NULL, "mkdir", "-p", dir);
                if (r < 0 || (r = write_file_under(root, f->path, f->text, f->mode)) < 0)
                        return r;
        }
        /* Enabled as systemctl enable would. */
        _cleanup_free_ char *wants = path_join(root, "etc/systemd/system/multi-user.target.wants");
        _cleanup_free_ char *link = path_join(wants, GUEST_READY_UNIT);
        int r = RUN(NULL, "mkdir", "-p", wants);
        if (r < 0)
                return r;
        (void) unlink(link);
        if (symlink("/etc/systemd/system/" GUEST_READY_UNIT, link) < 0)
                return log_error_errno(errno, "cannot enable %s in the guests' tree: %m", GUEST_READY_UNIT);
        return 0;
}

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
        if (r == 0 && (r = debootstrap_tree(&b->profile->distribution, b->mirror, root)) < 0)
                return r;
        if ((r = apt_sources(root, &b->profile->distribution, b->mirror)) < 0 || (r = policy_rc_d(root, true)) < 0 ||
            (r = apt_install(root, "guest", (char *const *) guest_packages)) < 0)
                return r;
        /* The host's locale and time zone; then a small initrd (the guest
         * needs its Xen disk and ext4, nothing else). */
        const Host *h = &b->profile->host;
        if ((r = tree_set_locale(root, h->locale)) < 0 || (r = tree_set_timezone(root, h->timezone)) < 0 ||
            (r = lay_guest_files(root)) < 0 || (r = download_guest_packages(b, root)) < 0)
                return r;
        return chroot_run(root, "guest", (char *[]) { "update-initramfs", "-u", "-k", "all", NULL });
}

int stage_guest(Build *b) {
        if (b->profile->n_domains == 0) {
                log_info("the profile has no guests");
                return 0;
        }
        Sha256 s;
        sha256_init(&s);
        sha256_update_str(&s, "guest/3");
        sha256_update_str(&s, b->code_sha256);
        sha256_update_str(&s, b->bootstrap_key);
        sha256_update_str(&s, b->profile->host.locale);
        sha256_update_str(&s, b->profile->host.timezone);
        for (size_t i = 0; guest_packages[i]; i++)
                sha256_update_str(&s, guest_packages[i]);
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
