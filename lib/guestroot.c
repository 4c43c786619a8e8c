/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * guestroot.c: what is in every guest's root filesystem: what a guest needs
 * (systemd, a kernel, SSH, DHCP), the host's locale and time zone, a small
 * initrd, and hyperion's files.
 *
 * A guest boots as slowly as its host lets it: a loaded two-core box that
 * also builds and runs Kodi can take minutes. Nothing in the tree gives up
 * on a timeout: no start job and no device (its disk xvda, its swap xvdb,
 * its console hvc0) has a deadline, and the initrd waits for xvda as long
 * as it takes. Once multi-user.target is reached, a unit prints one line on
 * hvc0 (medium.h) that the host's report reads from xenconsoled's log.
 */
#include "guestroot.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "debtree.h"
#include "log.h"
#include "medium.h"
#include "mount-util.h"
#include "run.h"
#include "strutil.h"

const char *const guest_root_packages[] = {
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
        /* mmdebstrap copies the build machine's: none of it reaches the ISO
         * (the installer writes each guest's own). */
        { "etc/hostname", 0644, "localhost\n" },
        { "etc/systemd/system.conf.d/hyperion-guest.conf", 0644,
          "# hyperion: a guest boots as slowly as its host lets it. No device it\n"
          "# always has (xvda, xvdb, hvc0) and no start job is given up on. On its\n"
          "# console (hvc0, kept by the host) only what fails: no status line a unit,\n"
          "# no spinner redrawn twice a second while a slow job runs.\n"
          "[Manager]\nDefaultTimeoutStartSec=infinity\nDefaultDeviceTimeoutSec=infinity\nShowStatus=error\n" },
        /* Units that set their own TimeoutSec=90s (fsck, journal flush, sysctl...). */
        { "etc/systemd/system/service.d/hyperion-guest.conf", 0644,
          "# hyperion: no service of a guest fails for starting slowly on a loaded host.\n"
          "[Service]\nTimeoutStartSec=infinity\n" },
        /* ifupdown waits for udev to settle (every device of the coldplug,
         * minutes of a guest's boot under nested TCG) for the interfaces to
         * have their names. A guest's are xen-netfront's, loaded at sysinit
         * (modules-load.d below) and named by the kernel (net.ifnames=0), one
         * for each of its vif devices on the xen bus, made as each backend
         * answers: those are waited for, as long as it takes. The file's name
         * differs from service.d's one above: a drop-in of the same name in
         * the unit's own folder hides it. */
        { "etc/systemd/system/ifupdown-pre.service.d/hyperion-udev-settle.conf", 0644,
          "# hyperion: a Xen guest's interfaces are xen-netfront's (loaded at sysinit:\n"
          "# modules-load.d/hyperion-guest.conf) with the kernel's names (net.ifnames=0),\n"
          "# one for each of its vif devices: wait until each has its interface, as\n"
          "# long as it takes, rather than for udev to settle every device of the boot.\n"
          "[Service]\nTimeoutStartSec=infinity\nExecStart=\n"
          "ExecStart=/bin/sh -c 'n=0; for v in /sys/bus/xen/devices/vif-*; do [ -e \"$v\" ] || continue;"
          " until [ -d \"$v/net\" ]; do [ $((n %% 30)) -eq 1 ] && echo \"hyperion: waiting for the interface of $v ($n s)\";"
          " sleep 1; n=$((n + 1)); done; done'\n" },
        /* A swap unit is ordered before swap.target (a default dependency),
         * nofail or not; tmp.mount after swap.target, local-fs.target after
         * tmp.mount, and the network and sshd after that: without this, a
         * guest's whole boot waits for udev's coldplug to announce xvdb. */
        { "etc/systemd/system/dev-xvdb.swap.d/hyperion-guest.conf", 0644,
          "# hyperion: the swap (xvdb, /etc/fstab) comes on as soon as udev announces the\n"
          "# disk, and nothing of the boot waits for it: not ordered before swap.target.\n"
          "# The ready line waits for it (hyperion-guest-ready.service.d/hyperion-swap.conf).\n"
          "[Unit]\nDefaultDependencies=no\nConflicts=umount.target\nBefore=umount.target\n" },
        /* sshd -t before sshd: the same parse and host keys loaded twice, one
         * of the slowest steps of a guest's boot under TCG. sshd itself
         * refuses a bad configuration the same way (exit 255, not restarted);
         * ExecReload's check stays. */
        { "etc/systemd/system/ssh.service.d/hyperion-no-check.conf", 0644,
          "# hyperion: no sshd -t before sshd at boot (sshd refuses a bad configuration\n"
          "# itself, exit 255, not restarted): its parse and host keys once, not twice.\n"
          "[Service]\nExecStartPre=\n" },
        { "etc/modules-load.d/hyperion-guest.conf", 0644,
          "# hyperion: a Xen guest's network interfaces, made at sysinit (ifupdown-pre\n"
          "# waits for each of them).\nxen-netfront\n" },
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
        /* No udev in the initrd: its root is /dev/xvda, which devtmpfs makes
         * as soon as xen-blkfront (loaded from conf/modules) finds the disk;
         * udev's coldplug and settle were most of the initrd's time under
         * TCG. Same-named scripts in /etc replace the package's. */
        { "etc/initramfs-tools/scripts/init-top/udev", 0755,
          "#!/bin/sh\n"
          "# hyperion: a Xen guest's initrd runs no udev: its root, /dev/xvda, is made\n"
          "# by devtmpfs once xen-blkfront (conf/modules) finds it. Replaces udev's own.\n"
          "case $1 in prereqs) exit 0 ;; esac\n"
          "exit 0\n" },
        { "etc/initramfs-tools/scripts/init-bottom/udev", 0755,
          "#!/bin/sh\n"
          "# hyperion: no udev to stop (init-top/udev); /dev goes over to the root\n"
          "# as udev's own script does.\n"
          "case $1 in prereqs) exit 0 ;; esac\n"
          "mount -n -o move /dev \"${rootmnt:?}/dev\" || mount -n --move /dev \"${rootmnt}/dev\"\n"
          "if command -v nuke >/dev/null; then nuke /dev; else rm -rf /dev; fi\n"
          "ln -s \"${rootmnt}/dev\" /dev\n" },
        { "etc/initramfs-tools/conf.d/hyperion-guest.conf", 0644,
          "# hyperion: a Xen guest's initrd holds only what mounts its root.\nMODULES=list\n" },
        /* The default (MODULES=most) does not even unpack in 128M of memory. */
        /* Loaded by the initrd before its scripts look for the root (a hook's
         * manual_add_modules only copies them: the guests then waited a
         * quarter of an hour for xvda). */
        { "etc/initramfs-tools/modules", 0644, "# hyperion: a Xen guest's root\nxen_blkfront\next4\n" },
        { &GUEST_READY_SCRIPT[1], 0755, /* without its leading slash */
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

/* What a Xen PV guest never uses, masked (not removed: an administrator
 * unmasks what a guest of theirs needs): the text consoles (its console is
 * hvc0, serial-getty's), modules and mounts for hardware and debugging it
 * has not, binfmt; generators for what it cannot have (GPT auto-discovery
 * of a whole disk, hibernation, a TPM, SSH over vsock, offline updates,
 * systemd.run=). Each is a process fewer at boot, where a PV guest under
 * nested TCG pays dearly for every fork and exec. */
static const char *const guest_masked_units[] = {
        "getty@tty1.service", "getty-static.service", "modprobe@drm.service", "modprobe@efi_pstore.service",
        "modprobe@fuse.service", "modprobe@configfs.service", "systemd-pstore.service", "sys-fs-fuse-connections.mount",
        "sys-kernel-config.mount", "sys-kernel-debug.mount", "sys-kernel-tracing.mount", "dev-hugepages.mount",
        "proc-sys-fs-binfmt_misc.automount", "systemd-binfmt.service", "systemd-udev-load-credentials.service", NULL,
};
static const char *const guest_masked_generators[] = {
        "systemd-gpt-auto-generator", "systemd-hibernate-resume-generator", "systemd-tpm2-generator",
        "systemd-ssh-generator", "systemd-system-update-generator", "systemd-run-generator", NULL,
};

static int mask_in(const char *root, const char *dir, const char *const *names) {
        _cleanup_free_ char *d = path_join(root, dir);
        int r = RUN(NULL, "mkdir", "-p", d);
        if (r < 0)
                return r;
        for (const char *const *n = names; *n; n++) {
                _cleanup_free_ char *link = path_join(d, *n);
                (void) unlink(link);
                if (symlink("/dev/null", link) < 0)
                        return log_error_errno(errno, "cannot mask %s in the guests' tree: %m", *n);
        }
        return 0;
}

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
        if ((r = mask_in(root, "etc/systemd/system", guest_masked_units)) < 0 ||
            (r = mask_in(root, "etc/systemd/system-generators", guest_masked_generators)) < 0)
                return r;
        return 0;
}

int guest_root_fill(const char *root, const Distribution *d, const char *mirror, const char *locale, const char *timezone) {
        int r;
        if ((r = apt_sources(root, d, mirror)) < 0 || (r = policy_rc_d(root, true)) < 0 ||
            (r = apt_install(root, "guest", (char *const *) guest_root_packages)) < 0)
                return r;
        /* The host's locale and time zone, hyperion's files; then a small
         * initrd (the guest needs its Xen disk and ext4, nothing else). */
        if ((r = tree_set_locale(root, locale)) < 0 || (r = tree_set_timezone(root, timezone)) < 0 || (r = lay_guest_files(root)) < 0)
                return r;
        if ((r = initramfs_make(root, "guest", NULL)) < 0)
                return r;
        /* The initrd holds the disk's module. */
        _cleanup_free_ char *out = NULL;
        RunOptions o = { .root = root, .capture = &out, .clear_env = true };
        if ((r = chroot_mount(root, NULL, 0)) < 0)
                return r;
        r = run_ok((char *[]) { "lsinitramfs", "/initrd.img", NULL }, &o);
        chroot_umount(root);
        if (r < 0)
                return log_error_errno(r, "the guests' tree has no initrd (/initrd.img)");
        if (!strstr(out, "/xen-blkfront.ko"))
                return log_error_errno(ENOENT, "the guests' initrd has no xen-blkfront module: the guests could not find their root");
        return 0;
}
