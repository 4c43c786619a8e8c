/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "system.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "medium.h"
#include "mount-util.h"
#include "run.h"
#include "size.h"
#include "strutil.h"

char *system_find_root_image(void) {
        return live_medium_file("HYPERION_ROOT_IMAGE", MEDIUM_ROOT_IMAGE);
}

static char *const chroot_env[] = {
        "DEBIAN_FRONTEND=noninteractive", "LC_ALL=C.UTF-8", "HOME=/root", NULL,
};

/* A program in the installed system; its output goes to the debug log. */
static int in_target(const Target *t, char *const *argv) {
        _cleanup_free_ char *out = NULL, *err = NULL;
        RunOptions o = { .root = t->root, .env = chroot_env, .clear_env = true, .capture = &out, .capture_err = &err };
        int r = run_ok(argv, &o);
        if (!isempty(out))
                log_debug("%s", out);
        if (r == 0 && !isempty(err))
                log_debug("%s", err);
        return r;
}

/* ---- the copy ------------------------------------------------------------ */

static void unsquash_line(const char *line, void *userdata) {
        int pct;
        if (progress_percent_of_line(line, &pct))
                progress_update(userdata, pct, NULL);
        else
                log_debug("%s", line);
}

int system_copy_root(Target *t) {
        log_info("copying the system from %s", t->root_image);
        Progress p;
        progress_begin(&p, "copy");
        _cleanup_free_ char *err = NULL;
        RunOptions o = { .on_line = unsquash_line, .userdata = &p, .capture_err = &err };
        /* -f: into the mounted root (and /boot, /boot/efi under it); owners,
         * modes, xattrs and hard links as they are in the image. */
        int r = run_ok((char *[]) { "unsquashfs", "-f", "-d", t->root, t->root_image, NULL }, &o);
        progress_end(&p);
        if (r < 0)
                return log_error_errno(r, "cannot copy the system onto the disk (is it full?)");
        return 0;
}

/* ---- configuration ------------------------------------------------------- */

static const char *fs_options(FsType f, const char *mount, const char *opts) {
        if (f == FS_VFAT && streq(opts, "defaults"))
                return "umask=0077";
        if (f == FS_EXT4 && streq(mount, "/") && streq(opts, "defaults"))
                return "errors=remount-ro";
        return opts;
}

static const ProbedPart *keep_partition(const PlanDisk *pd) {
        for (size_t i = 0; i < pd->dev->n_parts; i++)
                if (pd->dev->parts[i].number == pd->disk->mount_partition)
                        return &pd->dev->parts[i];
        return NULL;
}

/* A filesystem's UUID, read back from the device with blkid. */
static char *fs_uuid(const char *dev) {
        _cleanup_free_ char *out = NULL;
        RunOptions o = { .capture = &out };
        if (run((char *[]) { "blkid", "-p", "-s", "UUID", "-o", "value", (char *) dev, NULL }, &o) != 0)
                return NULL;
        strstrip(out);
        return isempty(out) ? NULL : TAKE_PTR(out);
}

char *system_fstab(const Target *t) {
        const Plan *plan = t->plan;
        _cleanup_strv_free_ char **lines = xcalloc(1, sizeof(char *));
        strv_push(&lines, "# /etc/fstab: written by hyperion-firstboot from the profile; by UUID.");
        strv_push(&lines, "# <file system> <mount point> <type> <options> <dump> <pass>");
        for (size_t i = 0; i < plan->n_disks; i++) {
                const PlanDisk *pd = &plan->disks[i];
                if (pd->disk->use == DISK_KEEP && !isempty(pd->disk->mount)) {
                        const ProbedPart *x = keep_partition(pd);
                        if (!x || !x->uuid)
                                continue;
                        /* A kept disk that fails must not stop the boot. */
                        _cleanup_free_ char *opts = strstr(pd->disk->mount_options, "nofail")
                                                            ? xstrdup(pd->disk->mount_options)
                                                            : xasprintf("%s,nofail", pd->disk->mount_options);
                        strv_consume(&lines, xasprintf("UUID=%s %s %s %s 0 2", x->uuid, pd->disk->mount,
                                                       x->fstype ? x->fstype : "auto", opts));
                        continue;
                }
                for (size_t j = 0; j < pd->n_parts && t->devs[i]; j++) {
                        const Partition *p = pd->parts[j].part;
                        if (p->format == FS_NONE || (p->format != FS_SWAP && isempty(p->mount)) || !t->devs[i][j])
                                continue;
                        _cleanup_free_ char *uuid = fs_uuid(t->devs[i][j]);
                        if (!uuid)
                                continue;
                        if (p->format == FS_SWAP)
                                strv_consume(&lines, xasprintf("UUID=%s none swap sw 0 0", uuid));
                        else
                                strv_consume(&lines, xasprintf("UUID=%s %s %s %s 0 %d", uuid, p->mount, fs_type_to_string(p->format),
                                                               fs_options(p->format, p->mount, p->mount_options),
                                                               streq(p->mount, "/") ? 1 : 2));
                }
        }
        for (size_t i = 0; i < plan->n_volumes; i++) {
                const PlanVolume *v = &plan->volumes[i];
                if (!v->volume || isempty(v->mount))
                        continue;
                strv_consume(&lines, xasprintf("/dev/%s/%s %s %s %s 0 2", v->group, v->name, v->mount, fs_type_to_string(v->format),
                                               fs_options(v->format, v->mount, v->volume->mount_options)));
        }
        _cleanup_free_ char *body = strv_join(lines, "\n");
        return xasprintf("%s\n", body);
}

/* The first wired interface: a device behind it, not wireless, by name. */
static char *first_wired_interface(void) {
        struct dirent **list = NULL;
        int n = scandir("/sys/class/net", &list, NULL, alphasort);
        char *found = NULL;
        for (int i = 0; i < n; i++) {
                const char *name = list[i]->d_name;
                _cleanup_free_ char *dev = xasprintf("/sys/class/net/%s/device", name);
                _cleanup_free_ char *wl = xasprintf("/sys/class/net/%s/wireless", name);
                _cleanup_free_ char *phy = xasprintf("/sys/class/net/%s/phy80211", name);
                if (!found && name[0] != '.' && access(dev, F_OK) == 0 && access(wl, F_OK) < 0 && access(phy, F_OK) < 0)
                        found = xstrdup(name);
                free(list[i]);
        }
        free(list);
        return found;
}

char *system_interfaces(const Profile *p, const char *interface) {
        const Network *n = &p->network;
        _cleanup_free_ char *addr = NULL;
        if (streq(n->address, "dhcp"))
                addr = xasprintf("iface %s inet dhcp\n", n->bridge);
        else {
                _cleanup_free_ char *dns = strv_join(n->dns, " ");
                addr = xasprintf("iface %s inet static\n\taddress %s\n%s%s%s%s%s%s", n->bridge, n->address,
                                 isempty(n->gateway) ? "" : "\tgateway ", n->gateway, isempty(n->gateway) ? "" : "\n",
                                 isempty(dns) ? "" : "\tdns-nameservers ", dns, isempty(dns) ? "" : "\n");
        }
        return xasprintf("# /etc/network/interfaces: written by hyperion-firstboot from the profile.\n"
                         "# The guests' bridge %s, on %s.\n\n"
                         "auto lo\niface lo inet loopback\n\n"
                         "iface %s inet manual\n\n"
                         "auto %s\n%s"
                         "\tbridge_ports %s\n\tbridge_stp off\n\tbridge_fd 0\n\tbridge_maxwait 0\n",
                         n->bridge, interface ? interface : "no interface (none was found)", interface ? interface : "none",
                         n->bridge, addr, interface ? interface : "none");
}

static int set_root_access(Target *t) {
        const Host *h = &t->plan->profile->host;
        if (h->root_authorized_keys[0]) {
                _cleanup_free_ char *ssh = path_join(t->root, "root/.ssh");
                if (mkdir(ssh, 0700) < 0 && errno != EEXIST)
                        return log_error_errno(errno, "cannot create '%s': %m", ssh);
                _cleanup_free_ char *keys = strv_join(h->root_authorized_keys, "\n");
                _cleanup_free_ char *text = xasprintf("%s\n", keys);
                int r = write_file_under(t->root, "root/.ssh/authorized_keys", text, 0600);
                if (r < 0)
                        return r;
        }
        if (!isempty(h->root_password_hash))
                return in_target(t, (char *[]) { "usermod", "--password", h->root_password_hash, "root", NULL });
        return 0;
}

int system_configure(Target *t) {
        const Profile *p = t->plan->profile;
        int r;
        /* The live system's own packages go: the installed system never boots live. */
        r = in_target(t, (char *[]) { "dpkg", "--purge", "hyperion-live", NULL });
        if (r < 0)
                return log_error_errno(r, "cannot purge the live system's packages from the installed system");

        _cleanup_free_ char *fstab = system_fstab(t);
        _cleanup_free_ char *hostname = xasprintf("%s\n", p->host.hostname);
        if ((r = write_file_under(t->root, "etc/fstab", fstab, 0644)) < 0 || (r = write_file_under(t->root, "etc/hostname", hostname, 0644)) < 0)
                return r;
        /* Mount points of the filesystems that are not mounted now. */
        for (char *l = fstab; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                char what[512], where[512];
                if (l[0] == '#' || sscanf(l, "%511s %511s", what, where) != 2 || where[0] != '/')
                        continue;
                _cleanup_free_ char *dir = path_join(t->root, where);
                (void) RUN(NULL, "mkdir", "-p", dir);
        }

        /* This machine's own identity: machine-id and SSH host keys. */
        _cleanup_free_ char *mid = path_join(t->root, "etc/machine-id");
        (void) unlink(mid);
        if ((r = in_target(t, (char *[]) { "systemd-machine-id-setup", NULL })) < 0)
                return r;
        _cleanup_free_ char *keygen = path_join(t->root, "usr/bin/ssh-keygen");
        if (access(keygen, X_OK) == 0 && (r = in_target(t, (char *[]) { "ssh-keygen", "-A", NULL })) < 0)
                return r;
        if ((r = set_root_access(t)) < 0)
                return r;

        /* Its own devices are those of the disk it booted from: on a loaded
         * host udev can take longer than systemd's 90 s to show them, and
         * the boot would end in emergency mode with root locked. */
        _cleanup_free_ char *confd = path_join(t->root, "etc/systemd/system.conf.d");
        if ((r = RUN(NULL, "mkdir", "-p", confd)) < 0 ||
            (r = write_file_under(t->root, "etc/systemd/system.conf.d/hyperion.conf",
                                  "# hyperion: no device of this host is given up on for showing up slowly\n"
                                  "# (a loaded host, a disk that spins up): the boot waits for it.\n"
                                  "[Manager]\nDefaultDeviceTimeoutSec=infinity\n",
                                  0644)) < 0)
                return r;

        /* The guests' bridge. */
        const char *ifname = p->network.interface;
        _cleanup_free_ char *found = streq(ifname, "auto") ? first_wired_interface() : xstrdup(ifname);
        if (!found)
                log_warning("no wired network interface: the bridge %s gets none; edit /etc/network/interfaces", p->network.bridge);
        _cleanup_free_ char *ifaces = system_interfaces(p, found);
        if ((r = write_file_under(t->root, "etc/network/interfaces", ifaces, 0644)) < 0)
                return r;
        return 0;
}

/* ---- boot ---------------------------------------------------------------- */

/* CONSOLE_LOG_DIR in the target: root:adm 0750, as tmpfiles.d makes it. */
static int make_console_log_dir(const char *root) {
        _cleanup_free_ char *dir = path_join(root, CONSOLE_LOG_DIR);
        int r = RUN(NULL, "mkdir", "-p", dir);
        if (r < 0)
                return r;
        if (chmod(dir, 0750) < 0 || chown(dir, 0, 4 /* adm */) < 0)
                return log_error_errno(errno, "cannot set the owner and mode of '%s': %m", dir);
        return 0;
}

char *system_grub_xen_cfg(const Profile *p) {
        const Xen *x = &p->xen;
        char mem[SIZE_BUF];
        format_size(mem, x->dom0_memory);
        _cleanup_free_ char *xen = xasprintf("dom0_mem=%s,max:%s", mem, mem);
        if (x->dom0_vcpus) {
                char *n = xasprintf("%s dom0_max_vcpus=%u", xen, x->dom0_vcpus);
                free(xen);
                xen = n;
        }
        if (!isempty(x->command_line)) {
                char *n = xasprintf("%s %s", xen, x->command_line);
                free(xen);
                xen = n;
        }
        _cleanup_free_ char *dom0 = isempty(x->dom0_command_line)
                                            ? xstrdup("")
                                            : xasprintf("GRUB_CMDLINE_LINUX_XEN_REPLACE_DEFAULT=\"%s\"\n", x->dom0_command_line);
        return xasprintf("# Written by hyperion-firstboot from the profile's [Xen] section.\n"
                         "GRUB_CMDLINE_XEN_DEFAULT=\"%s\"\n%s"
                         "# The Xen entry is %s; Debian's xen.cfg is told not to change GRUB_DEFAULT.\n"
                         "XEN_OVERRIDE_GRUB_DEFAULT=0\n",
                         xen, dom0,
                         x->default_entry ? "first by the diversion of 20_linux_xen to 08_linux_xen" : "not the default");
}

char *system_xl_conf(const Profile *p, const char *old) {
        return set_shell_variable(old, "autoballoon", p->xen.ballooning ? "auto" : "off",
                                  "hyperion: fixed-memory guests, dom0 keeps what dom0_mem gives it.");
}

char *set_shell_variable(const char *old, const char *var, const char *value, const char *comment) {
        _cleanup_strv_free_ char **out = xcalloc(1, sizeof(char *));
        _cleanup_free_ char *copy = xstrdup(old ? old : "");
        _cleanup_free_ char *ours = xasprintf("# %s", comment);
        size_t n = strlen(var);
        for (char *l = copy; l;) {
                char *nl = strchr(l, '\n');
                if (nl)
                        *nl = 0;
                const char *s = l;
                while (*s == ' ' || *s == '\t' || *s == '#')
                        s++;
                /* The setting, commented or not, and our own comment: replaced. */
                bool same = (strneq(s, var, n) && s[n] == '=') || streq(l, ours);
                if (!same && (nl || *l))
                        strv_push(&out, l);
                l = nl ? nl + 1 : NULL;
        }
        strv_push(&out, ours);
        strv_consume(&out, xasprintf("%s=\"%s\"", var, value));
        _cleanup_free_ char *body = strv_join(out, "\n");
        return xasprintf("%s\n", body);
}

char *grub_first_entry(const char *cfg) {
        for (const char *l = cfg; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                while (*l == ' ' || *l == '\t')
                        l++;
                if (!startswith(l, "menuentry "))
                        continue;
                const char *q = l + strlen("menuentry ");
                char quote = *q;
                if (quote != '\'' && quote != '"')
                        return NULL;
                const char *e = strchr(q + 1, quote);
                return e ? xstrndup(q + 1, (size_t) (e - q - 1)) : NULL;
        }
        return NULL;
}

static bool has_bios_grub(const Plan *plan, const char **disk) {
        for (size_t i = 0; i < plan->n_disks; i++)
                for (size_t j = 0; j < plan->disks[i].n_parts; j++)
                        if (plan->disks[i].parts[j].part->type == PART_BIOS_GRUB) {
                                *disk = plan->disks[i].dev->path;
                                return true;
                        }
        return false;
}

static bool has_esp(const Plan *plan) {
        for (size_t i = 0; i < plan->n_disks; i++)
                for (size_t j = 0; j < plan->disks[i].n_parts; j++)
                        if (plan->disks[i].parts[j].part->type == PART_ESP)
                                return true;
        return false;
}

int system_boot(Target *t) {
        const Profile *p = t->plan->profile;
        int r;
        /* Xen first: the seed's way, which survives upgrades of the package. */
        _cleanup_free_ char *xen08 = path_join(t->root, "etc/grub.d/08_linux_xen");
        if (p->xen.default_entry && access(xen08, F_OK) < 0 &&
            (r = in_target(t, (char *[]) { "dpkg-divert", "--divert", "/etc/grub.d/08_linux_xen", "--rename", "/etc/grub.d/20_linux_xen",
                                           NULL })) < 0)
                return log_error_errno(r, "cannot divert 20_linux_xen to 08_linux_xen (is xen-hypervisor installed?)");
        _cleanup_free_ char *grubd = path_join(t->root, "etc/default/grub.d");
        (void) RUN(NULL, "mkdir", "-p", grubd);
        _cleanup_free_ char *cfg = system_grub_xen_cfg(p);
        if ((r = write_file_under(t->root, "etc/default/grub.d/hyperion-xen.cfg", cfg, 0644)) < 0)
                return r;
        _cleanup_free_ char *xlpath = path_join(t->root, "etc/xen/xl.conf"), *old = NULL;
        (void) read_full_file(xlpath, &old, NULL);
        _cleanup_free_ char *xl = system_xl_conf(p, old);
        if ((r = write_file_under(t->root, "etc/xen/xl.conf", xl, 0644)) < 0)
                return r;
        /* The guests' consoles also go to /var/log/xen/console/guest-NAME.log,
         * each line stamped: the report reads them. The folder is made now
         * and kept by tmpfiles.d (hyperion.conf); logrotate rotates them. */
        _cleanup_free_ char *dxpath = path_join(t->root, "etc/default/xen"), *dxold = NULL;
        (void) read_full_file(dxpath, &dxold, NULL);
        _cleanup_free_ char *dx = set_shell_variable(dxold, "XENCONSOLED_ARGS", CONSOLED_ARGS,
                                                     "hyperion: each guest's console is kept in " CONSOLE_LOG_DIR ".");
        if ((r = write_file_under(t->root, "etc/default/xen", dx, 0644)) < 0 || (r = make_console_log_dir(t->root)) < 0)
                return r;
        /* xendomains shuts the guests down with the host, and each boots again
         * with it (Debian's default saves their memory to /var/lib/xen/save and
         * restores it, which a Xen or guest kernel upgrade can break). */
        _cleanup_free_ char *xdpath = path_join(t->root, "etc/default/xendomains"), *xdold = NULL;
        (void) read_full_file(xdpath, &xdold, NULL);
        _cleanup_free_ char *xd = set_shell_variable(xdold, "XENDOMAINS_SAVE", "",
                                                     "hyperion: the guests shut down with the host and boot with it.");
        if ((r = write_file_under(t->root, "etc/default/xendomains", xd, 0644)) < 0)
                return r;

        /* GRUB: UEFI, in NVRAM when we booted that way, and always on the
         * removable path; BIOS when the profile made room for it. */
        bool efi_booted = access("/sys/firmware/efi", F_OK) == 0;
        if (efi_booted) {
                _cleanup_free_ char *ev = path_join(t->root, "sys/firmware/efi/efivars");
                if (mount("efivarfs", ev, "efivarfs", 0, NULL) < 0 && errno != EBUSY)
                        log_warning_errno(errno, "cannot mount efivarfs in the target: %m; no NVRAM boot entry");
        }
        if (has_esp(t->plan)) {
                char *uefi[] = { "grub-install", "--target=x86_64-efi", "--efi-directory=/boot/efi", "--bootloader-id=debian",
                                 "--recheck", efi_booted ? NULL : "--no-nvram", NULL };
                if ((r = in_target(t, uefi)) < 0)
                        return log_error_errno(r, "grub-install for UEFI failed");
                if ((r = in_target(t, (char *[]) { "grub-install", "--target=x86_64-efi", "--efi-directory=/boot/efi", "--removable",
                                                   "--no-nvram", NULL })) < 0)
                        return log_error_errno(r, "grub-install on the removable path failed");
        }
        const char *bios_disk;
        if (has_bios_grub(t->plan, &bios_disk) &&
            (r = in_target(t, (char *[]) { "grub-install", "--target=i386-pc", (char *) bios_disk, NULL })) < 0)
                return log_error_errno(r, "grub-install for BIOS on '%s' failed", bios_disk);

        /* The image's initrd is the installed system's already (live-boot
         * lives only in the ISO's initrd): GRUB's menu now. */
        if ((r = in_target(t, (char *[]) { "update-grub", NULL })) < 0)
                return r;

        _cleanup_free_ char *gpath = path_join(t->root, "boot/grub/grub.cfg"), *gcfg = NULL;
        if ((r = read_full_file(gpath, &gcfg, NULL)) < 0)
                return log_error_errno(r, "update-grub wrote no '%s': %m", gpath);
        _cleanup_free_ char *first = grub_first_entry(gcfg);
        if (p->xen.default_entry && (!first || !strstr(first, "Xen")))
                return log_error_errno(EPROTO, "the first entry of the new grub.cfg is '%s', not Xen: the machine would not boot into Xen",
                                       strempty(first));
        log_info("boot: GRUB's first entry is '%s'", strempty(first));
        return 0;
}
