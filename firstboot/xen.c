/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "xen.h"

#include <errno.h>
#include <libxlutil.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "size.h"
#include "strutil.h"

char *xen_grub_cfg(const Profile *p) {
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

const char *xen_autoballoon(const Profile *p) {
        return p->xen.ballooning ? "auto" : "off";
}

char **guest_disk_specs(const Domain *d) {
        char **l = xcalloc(1, sizeof(char *));
        strv_consume(&l, xasprintf("format=raw, vdev=xvda, access=rw, script=" GUEST_BLOCK_SCRIPT ", target=/dev/%s/%s-disk",
                                   d->volume_group, d->head.name));
        if (d->swap)
                strv_consume(&l, xasprintf("format=raw, vdev=xvdb, access=rw, script=" GUEST_BLOCK_SCRIPT ", target=/dev/%s/%s-swap",
                                           d->volume_group, d->head.name));
        return l;
}

char **guest_vif_specs(const Domain *d) {
        char **l = xcalloc(1, sizeof(char *));
        for (size_t i = 0; d->bridges[i]; i++)
                strv_consume(&l, xasprintf("mac=%s, bridge=%s, script=" GUEST_VIF_SCRIPT, d->macs[i], d->bridges[i]));
        return l;
}

/* [ "a",\n         "b" ] */
static char *cfg_list(char **items) {
        _cleanup_strv_free_ char **quoted = xcalloc(1, sizeof(char *));
        for (char **s = items; *s; s++)
                strv_consume(&quoted, xasprintf("\"%s\"", *s));
        _cleanup_free_ char *body = strv_join(quoted, ",\n         ");
        return xasprintf("[ %s ]", body);
}

char *guest_cfg_text(const Domain *d) {
        _cleanup_strv_free_ char **disks = guest_disk_specs(d), **vifs = guest_vif_specs(d);
        _cleanup_free_ char *disk = cfg_list(disks), *vif = cfg_list(vifs);
        uint64_t mib = d->memory / MiB;
        return xasprintf("# /etc/xen/%s.cfg: written by hyperion-firstboot from the profile ([Domain %s]).\n"
                         "# Fixed memory (no ballooning); root on xvda, swap on xvdb.\n"
                         "name = \"%s\"\n"
                         "type = \"%s\"\n"
                         "memory = %llu\n"
                         "maxmem = %llu\n"
                         "vcpus = %u\n"
                         "kernel = \"" GUEST_KERNEL_DIR "/%s/vmlinuz\"\n"
                         "ramdisk = \"" GUEST_KERNEL_DIR "/%s/initrd.img\"\n"
                         "cmdline = \"" GUEST_CMDLINE "\"\n"
                         "disk = %s\n"
                         "vif = %s\n"
                         "on_poweroff = \"destroy\"\n"
                         "on_reboot = \"restart\"\n"
                         "on_crash = \"restart\"\n",
                         d->head.name, d->head.name, d->head.name, guest_type_to_string(d->type), (unsigned long long) mib,
                         (unsigned long long) mib, d->vcpus, d->head.name, d->head.name, disk, vif);
}

int guest_cfg_check(const char *name, const char *text) {
        /* libxlutil reports problems on a stream: keep them for our message. */
        char *report = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&report, &n);
        if (!f)
                oom();
        _cleanup_free_ char *fname = xasprintf("%s.cfg", name);
        XLU_Config *cfg = xlu_cfg_init(f, fname);
        if (!cfg) {
                fclose(f);
                free(report);
                return log_error_errno(ENOMEM, "cannot start libxlutil");
        }
        int r = xlu_cfg_readdata(cfg, text, (int) strlen(text));
        /* The disks must parse as libxl disk specifications too. */
        if (r == 0) {
                const char *s = NULL;
                XLU_ConfigList *list = NULL;
                int count = 0;
                if (xlu_cfg_get_string(cfg, "name", &s, 0) || !streq(s, name))
                        r = EINVAL;
                else if (xlu_cfg_get_list(cfg, "disk", &list, &count, 0) || count < 1)
                        r = EINVAL;
                else
                        for (int i = 0; i < count && r == 0; i++) {
                                const char *spec = xlu_cfg_get_listitem(list, i);
                                libxl_device_disk disk;
                                libxl_device_disk_init(&disk);
                                r = xlu_disk_parse(cfg, 1, &spec, &disk);
                                libxl_device_disk_dispose(&disk);
                        }
        }
        xlu_cfg_destroy(cfg);
        fclose(f);
        if (r != 0) {
                log_error("the xl configuration of guest '%s' does not parse: %s", name, isempty(report) ? "(no message)" : report);
                free(report);
                return -EINVAL;
        }
        free(report);
        return 0;
}
