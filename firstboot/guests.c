/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "guests.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/openat2.h>
#include <libxl.h>
#include <libxl_utils.h>
#include <libxlutil.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mkfs.h"
#include "log.h"
#include "medium.h"
#include "mount-util.h"
#include "overlay.h"
#include "run.h"
#include "size.h"
#include "strutil.h"
#include "system.h"
#include "tarball.h"
#include "xl.h"
#include "xen.h"

/* ---- install time -------------------------------------------------------- */

int guest_host_keys(const char *root, const char *name) {
        static const char *const types[] = { "rsa", "ecdsa", "ed25519" };
        _cleanup_free_ char *dir = path_join(root, "etc/ssh");
        if (access(dir, F_OK) < 0)
                return 0; /* no sshd in this guest */
        _cleanup_free_ char *comment = xasprintf("root@%s", name);
        for (size_t i = 0; i < ELEMENTSOF(types); i++) {
                _cleanup_free_ char *key = xasprintf("%s/ssh_host_%s_key", dir, types[i]);
                _cleanup_free_ char *pub = xasprintf("%s.pub", key);
                (void) unlink(key);
                (void) unlink(pub);
                int r = RUN(&(RunOptions) { .quiet = true }, "ssh-keygen", "-q", "-N", "", "-t", types[i], "-C", comment, "-f", key);
                if (r < 0)
                        return log_error_errno(r, "guest %s: cannot make its SSH host keys", name);
        }
        return 0;
}

char *guest_interfaces(const Domain *d) {
        _cleanup_free_ char *dns = strv_join(d->dns, " ");
        _cleanup_free_ char *eth0 =
                streq(d->address, "dhcp")
                        ? xstrdup("iface eth0 inet dhcp\n")
                        : xasprintf("iface eth0 inet static\n\taddress %s\n%s%s%s%s%s%s", d->address, isempty(d->gateway) ? "" : "\tgateway ",
                                    d->gateway, isempty(d->gateway) ? "" : "\n", isempty(dns) ? "" : "\tdns-nameservers ", dns,
                                    isempty(dns) ? "" : "\n");
        char *text = xasprintf("# /etc/network/interfaces of guest %s: written by hyperion-firstboot.\n"
                               "auto lo\niface lo inet loopback\n\n# on %s\nauto eth0\n%s",
                               d->head.name, d->bridges[0], eth0);
        /* The next interfaces come up without an address: the guest's own
         * business (a router's WAN takes what its provider gives). */
        for (size_t i = 1; d->bridges[i]; i++) {
                char *n = xasprintf("%s\n# on %s\nauto eth%zu\niface eth%zu inet manual\n\tup ip link set dev $IFACE up\n"
                                    "\tdown ip link set dev $IFACE down\n",
                                    text, d->bridges[i], i, i);
                free(text);
                text = n;
        }
        return text;
}

int guest_configure_root(const Profile *p, const Domain *d, const char *root) {
        const char *name = d->head.name;
        _cleanup_free_ char *hostname = xasprintf("%s\n", name);
        _cleanup_free_ char *hosts = xasprintf("127.0.0.1\tlocalhost\n127.0.1.1\t%s\n\n"
                                               "::1\tlocalhost ip6-localhost ip6-loopback\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n",
                                               name);
        /* The swap is nofail (a failure to turn it on fails no target) and,
         * by the tree's drop-in for dev-xvdb.swap (guestroot.c), not ordered
         * before swap.target: local-fs.target (tmp.mount), the network and
         * sshd do not wait for udev's coldplug to announce xvdb (1-2 minutes
         * of a loaded host under TCG). It is still waited for as long as it
         * takes (DefaultDeviceTimeoutSec=infinity) and the ready line comes
         * after it (the drop-in below). */
        _cleanup_free_ char *fstab = xasprintf("# /etc/fstab of guest %s: written by hyperion-firstboot.\n"
                                               "/dev/xvda / ext4 errors=remount-ro 0 1\n%s",
                                               name,
                                               d->swap ? "# nofail: the boot goes on while udev finds xvdb; the swap comes on as soon as it does.\n"
                                                         "/dev/xvdb none swap sw,nofail 0 0\n"
                                                       : "");
        _cleanup_free_ char *net = guest_interfaces(d);
        int r;
        if ((r = write_file_under(root, "etc/hostname", hostname, 0644)) < 0 || (r = write_file_under(root, "etc/hosts", hosts, 0644)) < 0 ||
            (r = write_file_under(root, "etc/fstab", fstab, 0644)) < 0 || (r = write_file_under(root, "etc/network/interfaces", net, 0644)) < 0)
                return r;
        _cleanup_free_ char *ready_swap = path_join(root, GUEST_READY_SWAP_DROPIN);
        if (d->swap) {
                _cleanup_free_ char *dir = path_join(root, GUEST_READY_DROPINS);
                if ((r = RUN(NULL, "mkdir", "-p", dir)) < 0 ||
                    (r = write_file_under(root, GUEST_READY_SWAP_DROPIN,
                                          "# hyperion: the ready line says the swap is on: it waits for it (nofail in\n"
                                          "# /etc/fstab: nothing else of the boot does).\n"
                                          "[Unit]\nWants=dev-xvdb.swap\nAfter=dev-xvdb.swap\n",
                                          0644)) < 0)
                        return r;
        } else if (unlink(ready_swap) < 0 && errno != ENOENT)
                return log_error_errno(errno, "cannot remove '%s': %m", ready_swap);
        /* Its own machine-id and SSH host keys, made now: sshd answers as soon
         * as the guest is up, and no two guests (or installs) share a key. */
        _cleanup_free_ char *mid = path_join(root, "etc/machine-id");
        (void) unlink(mid);
        if ((r = RUN(&(RunOptions) { .quiet = true }, "systemd-machine-id-setup", "--root", root)) < 0 ||
            (r = guest_host_keys(root, name)) < 0)
                return r;
        if (p->host.root_authorized_keys[0]) {
                _cleanup_free_ char *ssh = path_join(root, "root/.ssh");
                if (mkdir(ssh, 0700) < 0 && errno != EEXIST)
                        return log_error_errno(errno, "cannot create '%s': %m", ssh);
                _cleanup_free_ char *keys = strv_join(p->host.root_authorized_keys, "\n");
                _cleanup_free_ char *text = xasprintf("%s\n", keys);
                if ((r = write_file_under(root, "root/.ssh/authorized_keys", text, 0600)) < 0)
                        return r;
        }
        return 0;
}

bool guest_is_made(const char *name) {
        _cleanup_free_ char *k = xasprintf(GUEST_KERNEL_DIR "/%s/vmlinuz", name);
        return access(k, F_OK) == 0;
}

/* A file of a guest's root, copied to dst: its links resolved as the guest
 * would (an absolute one from the guest's root, never out of it, never
 * through /proc's magic links or onto another filesystem: openat2's
 * RESOLVE_IN_ROOT), a regular file only, at most max bytes. A kept guest's
 * root is the guest's: root in it may have made /initrd.img a link to a
 * file of dom0 or a device node. */
int guest_copy_file(const char *groot, const char *rel, const char *dst, uint64_t max) {
        _cleanup_close_ int dirfd = open(groot, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return log_error_errno(errno, "cannot open '%s': %m", groot);
        struct open_how how = {
                .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
        };
        _cleanup_close_ int fd = (int) syscall(SYS_openat2, dirfd, rel, &how, sizeof how);
        if (fd < 0)
                return log_error_errno(errno, "the guest's /%s cannot be opened within its root: %m", rel);
        struct stat st;
        if (fstat(fd, &st) < 0)
                return log_error_errno(errno, "cannot stat the guest's /%s: %m", rel);
        if (!S_ISREG(st.st_mode))
                return log_error_errno(EPERM, "the guest's /%s is not a regular file (mode %o): not copied", rel,
                                       (unsigned) (st.st_mode & S_IFMT));
        if ((uint64_t) st.st_size > max)
                return log_error_errno(EFBIG, "the guest's /%s is %" PRIu64 " bytes, more than %" PRIu64 ": not copied", rel,
                                       (uint64_t) st.st_size, max);
        _cleanup_free_ char *tmp = xasprintf("%s.new", dst);
        _cleanup_close_ int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (out < 0)
                return log_error_errno(errno, "cannot create '%s': %m", tmp);
        char buf[1 << 16];
        uint64_t total = 0;
        for (;;) {
                ssize_t n = read(fd, buf, sizeof buf);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return log_error_errno(errno, "cannot read the guest's /%s: %m", rel);
                if (n == 0)
                        break;
                if ((total += (uint64_t) n) > max) {
                        (void) unlink(tmp);
                        return log_error_errno(EFBIG, "the guest's /%s grew past %" PRIu64 " bytes: not copied", rel, max);
                }
                for (ssize_t w = 0; w < n;) {
                        ssize_t k = write(out, buf + w, (size_t) (n - w));
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k < 0) {
                                int e = errno;
                                (void) unlink(tmp);
                                return log_error_errno(e, "cannot write '%s': %m", tmp);
                        }
                        w += k;
                }
        }
        if (fsync(out) < 0 || rename(tmp, dst) < 0) {
                int e = errno;
                (void) unlink(tmp);
                return log_error_errno(e, "cannot write '%s': %m", dst);
        }
        return 0;
}

int guest_copy_kernel(const char *root, const char *name, const char *groot) {
        _cleanup_free_ char *sub = xasprintf("%s/%s", GUEST_KERNEL_DIR, name);
        _cleanup_free_ char *dir = path_join(root, sub);
        int r = RUN(NULL, "mkdir", "-p", dir);
        if (r < 0)
                return r;
        /* Debian's /vmlinuz and /initrd.img links name the current ones. */
        static const struct { const char *name; uint64_t max; } files[] = {
                { "vmlinuz", GUEST_KERNEL_MAX },
                { "initrd.img", GUEST_INITRD_MAX },
        };
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *dst = path_join(dir, files[i].name);
                if ((r = guest_copy_file(groot, files[i].name, dst, files[i].max)) < 0)
                        return log_error_errno(r, "guest %s: no kernel copied from its root's /%s", name, files[i].name);
        }
        return 0;
}

int guest_register_kept(const char *root, const Domain *d) {
        _cleanup_free_ char *disk = xasprintf("/dev/%s/%s-disk", d->volume_group, d->head.name);
        _cleanup_free_ char *mnt = xasprintf("/run/hyperion/guest-%s", d->head.name);
        int r = RUN(NULL, "mkdir", "-p", mnt);
        if (r < 0)
                return r;
        log_info("guest %s: %s kept; its kernel read from it", d->head.name, disk);
        /* The guest's filesystem: nothing of it runs, opens a device or
         * gains a privilege in dom0. */
        if (mount(disk, mnt, fs_type_to_string(d->filesystem), MS_RDONLY | MS_NODEV | MS_NOSUID | MS_NOEXEC,
                  d->filesystem == FS_EXT4 ? "noload" : NULL) < 0)
                return log_error_errno(errno, "cannot mount the kept '%s' read-only: %m", disk);
        r = guest_copy_kernel(root, d->head.name, mnt);
        umount_below(mnt);
        return r;
}

static char *const guest_chroot_env[] = {
        "DEBIAN_FRONTEND=noninteractive", "DEBCONF_NONINTERACTIVE_SEEN=true", "LC_ALL=C.UTF-8", "HOME=/root", NULL,
};

/* The .deb files the builder downloaded for this guest, as paths inside its root. */
static char **guest_debs(const char *groot, const char *name) {
        _cleanup_free_ char *rel = xasprintf("%s/%s", GUEST_DEBS, name), *dir = path_join(groot, rel);
        char **l = xcalloc(1, sizeof(char *));
        struct dirent **list = NULL;
        int n = scandir(dir, &list, NULL, alphasort);
        for (int i = 0; i < n; i++) {
                if (endswith(list[i]->d_name, ".deb"))
                        strv_consume(&l, xasprintf("/%s/%s", rel, list[i]->d_name));
                free(list[i]);
        }
        free(list);
        return l;
}

int guest_install_packages(const Domain *d, const char *groot) {
        const char *name = d->head.name;
        int r = 0;
        if (d->packages[0]) {
                _cleanup_strv_free_ char **debs = guest_debs(groot, name);
                _cleanup_strv_free_ char **argv = strv_split_ws("apt-get install -y --no-install-recommends -o Dpkg::Use-Pty=0 "
                                                                "-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold");
                /* Services are not started in the chroot: the guest starts them. */
                static const char policy[] = "#!/bin/sh\n# hyperion: nothing starts while the guest's root is made\nexit 101\n";
                if ((r = write_file_under(groot, "usr/sbin/policy-rc.d", policy, 0755)) < 0)
                        return r;
                _cleanup_free_ char *resolv = NULL;
                _cleanup_free_ char *names = strv_join(d->packages, " ");
                if (debs[0]) {
                        log_info("guest %s: its packages (%s) from the guest archive, %zu files", name, names, strv_length(debs));
                        for (char **x = debs; *x; x++)
                                strv_push(&argv, *x);
                } else {
                        /* Not in the archive (added to the profile after the ISO
                         * was built): from the mirror, over the host's network. */
                        log_info("guest %s: its packages are not in the guest archive: from the mirror", name);
                        if (read_full_file("/etc/resolv.conf", &resolv, NULL) >= 0)
                                (void) write_file_under(groot, "etc/resolv.conf", resolv, 0644);
                        for (char **x = d->packages; *x; x++)
                                strv_push(&argv, *x);
                }
                if ((r = chroot_mount(groot, NULL, 0)) < 0)
                        return r;
                RunOptions o = { .root = groot, .env = guest_chroot_env, .clear_env = true };
                if (!debs[0] && (r = run_ok((char *[]) { "apt-get", "update", NULL }, &o)) < 0)
                        log_error_errno(r, "guest %s: apt-get update failed in its root (is the mirror reachable?)", name);
                if (r >= 0 && (r = run_ok(argv, &o)) < 0)
                        log_error_errno(r, "guest %s: its packages could not be installed (apt's messages are above)", name);
                if (r >= 0)
                        r = run_ok((char *[]) { "apt-get", "clean", NULL }, &o);
                (void) chroot_umount(groot);
                _cleanup_free_ char *pol = path_join(groot, "usr/sbin/policy-rc.d");
                (void) unlink(pol);
                if (resolv) {
                        _cleanup_free_ char *rc = path_join(groot, "etc/resolv.conf");
                        (void) unlink(rc);
                }
        }
        /* What the builder downloaded for every guest goes: this guest has its own. */
        _cleanup_free_ char *all = path_join(groot, GUEST_DEBS);
        int k = RUN(NULL, "rm", "-rf", "--one-file-system", all);
        return r < 0 ? r : k;
}

int guest_make_root(const Guard *g, const Profile *p, const Domain *d, const char *archive, const char *root, const char *what) {
        const char *name = d->head.name;
        _cleanup_free_ char *disk = xasprintf("/dev/%s/%s-disk", d->volume_group, name);
        _cleanup_free_ char *swap = xasprintf("/dev/%s/%s-swap", d->volume_group, name);
        _cleanup_free_ char *mnt = xasprintf("/run/hyperion/guest-%s", name);
        int r = RUN(NULL, "mkdir", "-p", mnt);
        if (r < 0)
                return r;
        log_info("guest %s: %s", name, disk);
        if ((r = make_filesystem(g, disk, d->filesystem, name, NULL, 0, what)) < 0 ||
            (d->swap && (r = make_filesystem(g, swap, FS_SWAP, NULL, NULL, 0, what)) < 0))
                return r;
        if (mount(disk, mnt, fs_type_to_string(d->filesystem), 0, NULL) < 0)
                return log_error_errno(errno, "cannot mount '%s': %m", disk);
        _cleanup_free_ char *label = xasprintf("guest %s", name);
        r = tarball_extract(archive, mnt, label);
        if (r >= 0)
                r = guest_configure_root(p, d, mnt);
        if (r >= 0 && !isempty(d->overlay)) {
                /* Its overlay, from the profile's folder: inside its root only,
                 * never through a link, owned by root. */
                _cleanup_free_ char *src = path_join(p->dir, d->overlay);
                log_info("guest %s: laying %s over its root", name, src);
                if ((r = overlay_lay(src, mnt, false)) < 0)
                        log_error_errno(r, "guest %s: cannot lay its overlay %s", name, src);
        }
        if (r >= 0)
                r = guest_install_packages(d, mnt);
        if (r >= 0)
                r = guest_copy_kernel(root, name, mnt);
        umount_below(mnt);
        return r;
}

int guest_write_cfg(const char *root, const Domain *d) {
        /* Parsed before it is written. */
        _cleanup_free_ char *cfg = guest_cfg_text(d);
        int r = guest_cfg_check(d->head.name, cfg);
        if (r < 0)
                return r;
        _cleanup_free_ char *rel = xasprintf("etc/xen/%s.cfg", d->head.name);
        return write_file_under(root, rel, cfg, 0644);
}

int guest_keep_archive(Target *t, const Step *s) {
        (void) s;
        _cleanup_free_ char *dst = path_join(t->root, GUEST_ARCHIVE_HOST);
        _cleanup_free_ char *tmp = xasprintf("%s.part", dst);
        _cleanup_free_ char *dir = xstrndup(dst, (size_t) (strrchr(dst, '/') - dst));
        int r = RUN(NULL, "mkdir", "-p", dir);
        if (r >= 0)
                r = RUN(NULL, "cp", "--", t->plan->inventory->guest_archive, tmp);
        if (r >= 0 && rename(tmp, dst) < 0)
                r = log_error_errno(errno, "cannot rename '%s': %m", tmp);
        return r;
}

int guest_prepare(Target *t, const Step *s) {
        const Domain *d = s->domain;
        int r = s->keep ? guest_register_kept(t->root, d)
                        : guest_make_root(&t->guard, t->plan->profile, d, t->plan->inventory->guest_archive, t->root, s->id);
        return r < 0 ? r : guest_write_cfg(t->root, d);
}

/* ---- every Xen boot: libxenlight ----------------------------------------- */

static int parse_mac(const char *s, libxl_mac mac) {
        unsigned v[6];
        if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
                return -EINVAL;
        for (int i = 0; i < 6; i++)
                mac[i] = (uint8_t) v[i];
        return 0;
}

static int build_config(libxl_ctx *ctx, const Domain *d, libxl_domain_config *dc) {
        libxl_domain_type type = d->type == GUEST_PV ? LIBXL_DOMAIN_TYPE_PV : LIBXL_DOMAIN_TYPE_PVH;
        dc->c_info.type = type;
        dc->c_info.name = xstrdup(d->head.name);
        /* A UUID of its own for each domain, as xl gives one: the guest prints
         * it (/sys/hypervisor/uuid) with its "up" line, so the report reads
         * this domain's line and not the one before a reboot. */
        libxl_uuid_generate(&dc->c_info.uuid);
        libxl_domain_build_info_init_type(&dc->b_info, type);
        dc->b_info.max_vcpus = (int) d->vcpus;
        if (libxl_cpu_bitmap_alloc(ctx, &dc->b_info.avail_vcpus, (int) d->vcpus) != 0)
                return -ENOMEM;
        libxl_bitmap_set_none(&dc->b_info.avail_vcpus);
        for (unsigned i = 0; i < d->vcpus; i++)
                libxl_bitmap_set(&dc->b_info.avail_vcpus, (int) i);
        dc->b_info.max_memkb = d->memory / KiB;
        dc->b_info.target_memkb = d->memory / KiB;
        dc->b_info.kernel = xasprintf(GUEST_KERNEL_DIR "/%s/vmlinuz", d->head.name);
        dc->b_info.ramdisk = xasprintf(GUEST_KERNEL_DIR "/%s/initrd.img", d->head.name);
        dc->b_info.cmdline = xstrdup(GUEST_CMDLINE);
        dc->on_poweroff = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
        dc->on_reboot = LIBXL_ACTION_ON_SHUTDOWN_RESTART;
        dc->on_crash = LIBXL_ACTION_ON_SHUTDOWN_RESTART;

        /* The disks: the very specifications of the cfg file, through libxlutil. */
        _cleanup_strv_free_ char **specs = guest_disk_specs(d);
        int n = (int) strv_length(specs);
        dc->disks = xcalloc((size_t) n, sizeof(libxl_device_disk));
        dc->num_disks = n;
        XLU_Config *cfg = xlu_cfg_init(stderr, "hyperion");
        if (!cfg)
                return -ENOMEM;
        int r = 0;
        for (int i = 0; i < n && r == 0; i++) {
                libxl_device_disk_init(&dc->disks[i]);
                const char *spec = specs[i];
                r = xlu_disk_parse(cfg, 1, &spec, &dc->disks[i]);
        }
        xlu_cfg_destroy(cfg);
        if (r != 0)
                return log_error_errno(EINVAL, "guest '%s': a disk specification does not parse", d->head.name);

        /* One interface per bridge, in order: eth0, eth1, ... in the guest. */
        size_t nn = strv_length(d->bridges);
        dc->nics = xcalloc(nn, sizeof(libxl_device_nic));
        dc->num_nics = (int) nn;
        for (size_t i = 0; i < nn; i++) {
                libxl_device_nic_init(&dc->nics[i]);
                dc->nics[i].devid = (libxl_devid) i;
                dc->nics[i].bridge = xstrdup(d->bridges[i]);
                dc->nics[i].script = xstrdup(GUEST_VIF_SCRIPT);
                if (parse_mac(d->macs[i], dc->nics[i].mac) < 0)
                        return log_error_errno(EINVAL, "guest '%s': invalid MAC '%s'", d->head.name, d->macs[i]);
        }
        return 0;
}

/* One creation; *why gets libxl's own words when it fails. */
static int create_one(Xl *xl, const Domain *d, uint32_t *domid, char **why) {
        libxl_domain_config dc;
        libxl_domain_config_init(&dc);
        int r = build_config(xl->ctx, d, &dc);
        if (r >= 0) {
                *domid = INVALID_DOMID;
                free(xl_take_errors(xl));
                int rc = libxl_domain_create_new(xl->ctx, &dc, domid, NULL, NULL);
                const char *what = "create";
                if (rc == 0 && (rc = libxl_domain_unpause(xl->ctx, *domid, NULL)) != 0)
                        what = "start";
                if (rc != 0) {
                        _cleanup_free_ char *msgs = xl_take_errors(xl);
                        *why = xasprintf("libxl could not %s it: %s (%d)%s%s", what, xl_error_name(rc), rc, msgs ? ": " : "",
                                         strempty(msgs));
                        r = -EIO;
                }
        }
        libxl_domain_config_dispose(&dc);
        return r;
}

#define CREATE_ATTEMPTS 3
#define CREATE_PAUSE_S 30

int guest_autostart_link(const char *name, bool on) {
        _cleanup_free_ char *link = xasprintf("/etc/xen/auto/%s.cfg", name);
        if (!on)
                return unlink(link) < 0 && errno != ENOENT ? log_warning_errno(errno, "cannot remove '%s': %m", link) : 0;
        _cleanup_free_ char *target = xasprintf("/etc/xen/%s.cfg", name);
        (void) RUN(NULL, "mkdir", "-p", "/etc/xen/auto");
        if (symlink(target, link) < 0 && errno != EEXIST)
                return log_warning_errno(errno, "cannot link '%s' for xendomains: %m", link);
        return 0;
}

/* Try a creation up to CREATE_ATTEMPTS times: 0 and *domid, or the
 * history of the failures in *history. */
static int create_with_retries(Xl *xl, const Domain *d, uint32_t *domid, int *attempts, char **history) {
        /* A hotplug script can time out on a loaded machine while the guests
         * before this one boot: try again a little later, and say why each
         * attempt failed. */
        _cleanup_strv_free_ char **whys = xcalloc(1, sizeof(char *));
        int r = -EIO;
        for (*attempts = 1; *attempts <= CREATE_ATTEMPTS; (*attempts)++) {
                _cleanup_free_ char *why = NULL;
                if ((r = create_one(xl, d, domid, &why)) >= 0)
                        break;
                strv_consume(&whys, xasprintf("attempt %d: %s", *attempts, why ? why : "see the messages above"));
                if (*attempts < CREATE_ATTEMPTS) {
                        log_warning("guest %s: attempt %d failed (%s); trying again in %d s", d->head.name, *attempts, strempty(why),
                                    CREATE_PAUSE_S);
                        sleep(CREATE_PAUSE_S);
                }
        }
        if (*attempts > CREATE_ATTEMPTS)
                *attempts = CREATE_ATTEMPTS;
        *history = strv_join(whys, "; ");
        return r;
}

/* The life of a guest this program created, as xl's own monitoring daemon
 * does it for the guests xl creates: nobody else destroys the domain when
 * it powers off (xendomains would then wait for it at every shutdown) or
 * creates it again when it reboots or crashes. Its configuration says
 * on_poweroff destroy, on_reboot and on_crash restart. Unlike xl, it
 * gives up on a guest that keeps crashing soon after its start (CRASH_LIMIT
 * times in a row, each within CRASH_QUICK_S of its creation): a crash loop
 * would otherwise take all of a small host's processor time. */
#define CRASH_LIMIT 5
#define CRASH_QUICK_S 600
static _noreturn_ void supervise(Xl *xl, const Domain *d, uint32_t domid) {
        const char *name = d->head.name;
        unsigned quick_crashes = 0;
        struct timespec started;
        (void) clock_gettime(CLOCK_MONOTONIC, &started);
        for (;;) {
                libxl_evgen_domain_death *w = NULL;
                if (libxl_evenable_domain_death(xl->ctx, domid, 0, &w) != 0) {
                        log_error("guest %s: cannot watch domain %u; nobody will restart it", name, domid);
                        _exit(1);
                }
                int reason = -2;
                while (reason == -2) {
                        libxl_event *ev = NULL;
                        if (libxl_event_wait(xl->ctx, &ev, LIBXL_EVENTMASK_ALL, NULL, NULL) != 0)
                                _exit(1);
                        if (ev->type == LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN && ev->domid == domid)
                                reason = ev->u.domain_shutdown.shutdown_reason;
                        else if (ev->type == LIBXL_EVENT_TYPE_DOMAIN_DEATH && ev->domid == domid)
                                reason = -1;
                        libxl_event_free(xl->ctx, ev);
                }
                libxl_evdisable_domain_death(xl->ctx, w);
                if (reason == -1) {
                        log_info("guest %s: domain %u is gone", name, domid);
                        _exit(0);
                }
                if (reason == LIBXL_SHUTDOWN_REASON_SUSPEND)
                        _exit(0); /* whoever suspends it, keeps it */
                (void) libxl_domain_destroy(xl->ctx, domid, NULL);
                if (reason != LIBXL_SHUTDOWN_REASON_REBOOT && reason != LIBXL_SHUTDOWN_REASON_CRASH &&
                    reason != LIBXL_SHUTDOWN_REASON_WATCHDOG) {
                        log_info("guest %s: powered off; domain %u destroyed", name, domid);
                        _exit(0);
                }
                struct timespec now;
                (void) clock_gettime(CLOCK_MONOTONIC, &now);
                long lived = (long) (now.tv_sec - started.tv_sec);
                if (reason == LIBXL_SHUTDOWN_REASON_REBOOT)
                        quick_crashes = 0;
                else if (lived < CRASH_QUICK_S)
                        quick_crashes++;
                else
                        quick_crashes = 1;
                if (quick_crashes >= CRASH_LIMIT) {
                        log_error("guest %s: crashed %u times in a row, each within %d s of its start; not created again "
                                  "('xl dmesg' and its console log say why; 'hyperion-firstboot guests %s' starts it)",
                                  name, quick_crashes, CRASH_QUICK_S, name);
                        _exit(1);
                }
                log_info("guest %s: %s after %ld s; creating it again", name,
                         reason == LIBXL_SHUTDOWN_REASON_REBOOT ? "rebooted" : "crashed", lived);
                int attempts;
                _cleanup_free_ char *history = NULL;
                if (create_with_retries(xl, d, &domid, &attempts, &history) < 0) {
                        log_error("guest %s: not created again: %s", name, history);
                        _exit(1);
                }
                (void) clock_gettime(CLOCK_MONOTONIC, &started);
                log_info("guest %s: created again, id %u", name, domid);
        }
}

/* In a child of its own: create the guest, tell the parent on fd how it
 * went ("created ID[ at attempt N: ...]" or "failed ..."), then look after
 * it for as long as it lives. */
static _noreturn_ void create_child(Xl *parent, const Domain *d, int fd) {
        /* libxl's state of the parent is not ours: a context of our own. */
        libxl_postfork_child_noexec(parent->ctx);
        parent->ctx = NULL;
        (void) setsid();
        Xl xl;
        if (xl_open(&xl) < 0) {
                (void) !write(fd, "failed cannot open libxenlight", 30);
                _exit(1);
        }
        uint32_t domid;
        int attempts;
        _cleanup_free_ char *history = NULL;
        int r = create_with_retries(&xl, d, &domid, &attempts, &history);
        _cleanup_free_ char *msg = r < 0 ? xasprintf("failed after %d attempts: %s", attempts, history)
                                         : attempts > 1 ? xasprintf("created id %u at attempt %d: %s", domid, attempts, history)
                                                        : xasprintf("created id %u", domid);
        (void) !write(fd, msg, strlen(msg));
        close(fd);
        if (r < 0)
                _exit(1);
        supervise(&xl, d, domid);
}

int guests_create(const Profile *p, char *const *only) {
        Xl xl;
        int r = xl_open(&xl);
        if (r < 0)
                return r;
        _cleanup_strv_free_ char **record = xcalloc(1, sizeof(char *));
        int failed = 0;
        for (char *const *o = only; o && *o; o++)
                if (!profile_find_domain(p, *o)) {
                        xl_close(&xl);
                        return log_error_errno(ENOENT, "the profile has no guest '%s'", *o);
                }
        for (size_t i = 0; i < p->n_domains; i++) {
                const Domain *d = p->domains[i];
                const char *name = d->head.name;
                if (only && only[0] && !strv_contains(only, name))
                        continue;
                if (!d->autostart && !(only && only[0])) {
                        log_info("guest %s: not started at boot (AutoStart=no)", name);
                        continue;
                }
                XlGuest g;
                if (xl_guest(&xl, name, &g)) {
                        log_info("guest %s: exists already (id %u), left alone", name, g.domid);
                        (void) guest_autostart_link(d->head.name, true);
                        continue;
                }
                /* Added to the profile since the install, not applied yet:
                 * nothing of it is on the host (its kernel comes with it). */
                if (!guest_is_made(name)) {
                        log_info("guest %s: in the profile but not made yet: 'hyperion-firstboot plan' shows it, 'apply' makes it",
                                 name);
                        strv_consume(&record, xasprintf("%s " GUEST_PENDING, name));
                        continue;
                }
                /* One guest at a time: its child creates it, says how it went,
                 * and stays to look after it (as xl does). */
                int fds[2];
                if (pipe2(fds, O_CLOEXEC) < 0)
                        return log_error_errno(errno, "cannot make a pipe: %m");
                fflush(NULL);
                pid_t pid = fork();
                if (pid < 0)
                        return log_error_errno(errno, "cannot fork: %m");
                if (pid == 0) {
                        close(fds[0]);
                        create_child(&xl, d, fds[1]);
                }
                close(fds[1]);
                char buf[4096];
                size_t n = 0;
                ssize_t k;
                while (n < sizeof buf - 1 && (k = read(fds[0], buf + n, sizeof buf - 1 - n)) != 0)
                        if (k > 0)
                                n += (size_t) k;
                        else if (errno != EINTR)
                                break;
                buf[n] = 0;
                close(fds[0]);
                if (!startswith(buf, "created")) {
                        failed++;
                        log_error("guest %s: not created: %s", name, n ? buf : "its process ended without a word");
                        strv_consume(&record, xasprintf("%s %s", name, n ? buf : "failed"));
                        (void) waitpid(pid, NULL, 0);
                        continue;
                }
                log_info("guest %s: %s", name, buf);
                strv_consume(&record, xasprintf("%s %s", name, buf));
                (void) guest_autostart_link(d->head.name, true);
        }
        xl_close(&xl);
        /* What this boot's creations went through, for the report. */
        _cleanup_free_ char *body = strv_join(record, "\n"), *before = NULL;
        /* Day two's creations add to this boot's. */
        if (only && only[0])
                (void) read_full_file(GUESTS_CREATED, &before, NULL);
        _cleanup_free_ char *text = xasprintf("%s%s%s", strempty(before), body, record[0] ? "\n" : "");
        (void) RUN(NULL, "mkdir", "-p", "/run/hyperion");
        if (write_file_atomic(GUESTS_CREATED, text, strlen(text), 0644) < 0)
                log_warning("cannot write %s", GUESTS_CREATED);
        return failed ? log_error_errno(EIO, "%d guest%s could not be created", failed, failed == 1 ? "" : "s") : 0;
}
