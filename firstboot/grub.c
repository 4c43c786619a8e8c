/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "grub.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "firmware.h"
#include "log.h"
#include "strutil.h"
#include "system.h"

int grub_divert(Target *t, const Step *s) {
        (void) s;
        _cleanup_free_ char *xen08 = path_join(t->root, "etc/grub.d/08_linux_xen");
        if (access(xen08, F_OK) == 0)
                return 0;
        int r = in_target(t, (char *[]) { "dpkg-divert", "--divert", "/etc/grub.d/08_linux_xen", "--rename", "/etc/grub.d/20_linux_xen",
                                          NULL });
        if (r < 0)
                return log_error_errno(r, "cannot divert 20_linux_xen to 08_linux_xen (is xen-hypervisor installed?)");
        return 0;
}

int grub_install(Target *t, const Step *s) {
        const Firmware *fw = &firmwares[s->firmware];
        const PlanDisk *pd = &t->plan->disks[s->disk];
        FirmwareTarget ft = { .efi_directory = "/boot/efi", .bootloader_id = "debian", .removable = s->removable, .nvram = s->nvram };
        const char *dev;
        int r;
        if (s->firmware == FIRMWARE_UEFI) {
                /* It writes onto the ESP: a partition of a disk the install holds. */
                if ((r = target_device(t, (size_t) s->disk, (size_t) s->part, &dev)) < 0)
                        return r;
        } else {
                dev = pd->dev->path;
                ft.disk = dev;
        }
        _cleanup_free_ char *what = xasprintf("%s: grub-install", s->id);
        if ((r = guard_write(&t->guard, dev, what)) < 0)
                return r;
        if (s->nvram) {
                _cleanup_free_ char *ev = path_join(t->root, "sys/firmware/efi/efivars");
                if (mount("efivarfs", ev, "efivarfs", 0, NULL) < 0 && errno != EBUSY)
                        return log_error_errno(errno, "cannot mount efivarfs in the target: %m; the boot entry cannot be written");
        }
        _cleanup_strv_free_ char **argv = fw->install_argv(fw, &ft);
        r = in_target(t, argv);
        if (s->nvram) {
                _cleanup_free_ char *ev = path_join(t->root, "sys/firmware/efi/efivars");
                (void) umount2(ev, MNT_DETACH);
        }
        if (r < 0)
                return log_error_errno(r, "grub-install for %s%s failed", fw->name, s->removable ? " (removable path)" : "");
        return 0;
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

int grub_update(Target *t, const Step *s) {
        (void) s;
        /* The image's initrd is the installed system's already (live-boot
         * lives only in the ISO's initrd): GRUB's menu now. */
        int r = in_target(t, (char *[]) { "update-grub", NULL });
        if (r < 0)
                return r;
        _cleanup_free_ char *gpath = path_join(t->root, "boot/grub/grub.cfg"), *gcfg = NULL;
        if ((r = read_full_file(gpath, &gcfg, NULL)) < 0)
                return log_error_errno(r, "update-grub wrote no '%s': %m", gpath);
        _cleanup_free_ char *first = grub_first_entry(gcfg);
        if (t->plan->profile->xen.default_entry && (!first || !strstr(first, "Xen")))
                return log_error_errno(EPROTO, "the first entry of the new grub.cfg is '%s', not Xen: the machine would not boot into Xen",
                                       strempty(first));
        log_info("boot: GRUB's first entry is '%s'", strempty(first));
        return 0;
}
