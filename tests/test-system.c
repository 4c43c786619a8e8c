/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the installer writes into the new system, from the profile: the Xen
 * drop-in for GRUB, xl.conf, the network's interfaces, and the check of
 * GRUB's first menu entry.
 */
#include "test-helpers.h"

#include <string.h>

#include "log.h"
#include "profile.h"
#include "grub.h"
#include "plan.h"
#include "system.h"
#include "xen.h"

static Profile *hyperion(void) {
        return load_src_profile("profiles/hyperion");
}

static void test_grub_xen(void **state) {
        (void) state;
        _cleanup_(profile_freep) Profile *p = hyperion();
        _cleanup_free_ char *cfg = xen_grub_cfg(p);
        assert_non_null(strstr(cfg, "GRUB_CMDLINE_XEN_DEFAULT=\"dom0_mem=1536M,max:1536M console=com1,vga com1=115200,8n1\"\n"));
        assert_non_null(strstr(cfg, "GRUB_CMDLINE_LINUX_XEN_REPLACE_DEFAULT=\"console=tty0 console=hvc0\"\n"));
        assert_non_null(strstr(cfg, "XEN_OVERRIDE_GRUB_DEFAULT=0\n"));
        p->xen.dom0_vcpus = 2;
        free(p->xen.command_line);
        p->xen.command_line = xstrdup("");
        _cleanup_free_ char *two = xen_grub_cfg(p);
        assert_non_null(strstr(two, "GRUB_CMDLINE_XEN_DEFAULT=\"dom0_mem=1536M,max:1536M dom0_max_vcpus=2\"\n"));
}

static void test_xl_conf(void **state) {
        (void) state;
        _cleanup_(profile_freep) Profile *p = hyperion();
        const char *debian = "## Global XL config file ##\n\n# Control whether dom0 is ballooned down\n#autoballoon=\"auto\"\n\n"
                             "#lockfile=\"/var/lock/xl\"\n";
#define XL(p, old) set_shell_variable(old, "autoballoon", xen_autoballoon(p), "hyperion: dom0 keeps its memory.")
        _cleanup_free_ char *out = XL(p, debian);
        assert_non_null(strstr(out, "\nautoballoon=\"off\"\n"));
        assert_null(strstr(out, "#autoballoon"));
        assert_non_null(strstr(out, "#lockfile=\"/var/lock/xl\"\n"));
        /* Again on its own output: still one setting. */
        _cleanup_free_ char *again = XL(p, out);
        assert_string_equal(out, again);
        p->xen.ballooning = true;
        _cleanup_free_ char *on = XL(p, NULL);
        assert_non_null(strstr(on, "autoballoon=\"auto\"\n"));
}

static void test_shell_variable(void **state) {
        (void) state;
        _cleanup_free_ char *s = set_shell_variable("XENSTORED_ARGS=\n#XENCONSOLED_ARGS=\"--log=none\"\n", "XENCONSOLED_ARGS",
                                                    "--log=guest", "kept");
        assert_string_equal(s, "XENSTORED_ARGS=\n# kept\nXENCONSOLED_ARGS=\"--log=guest\"\n");
}

static void test_interfaces(void **state) {
        (void) state;
        _cleanup_(profile_freep) Profile *p = hyperion();
        _cleanup_free_ char *dhcp = plan_interfaces(p, "enp1s0");
        assert_non_null(strstr(dhcp, "auto xenbr0\niface xenbr0 inet dhcp\n\tbridge_ports enp1s0\n"));
        assert_non_null(strstr(dhcp, "iface enp1s0 inet manual\n"));
        free(p->network.address);
        p->network.address = xstrdup("192.168.1.2/24");
        free(p->network.gateway);
        p->network.gateway = xstrdup("192.168.1.1");
        strv_push(&p->network.dns, "192.168.1.1");
        _cleanup_free_ char *st = plan_interfaces(p, "enp1s0");
        assert_non_null(strstr(st, "iface xenbr0 inet static\n\taddress 192.168.1.2/24\n\tgateway 192.168.1.1\n\tdns-nameservers 192.168.1.1\n"));
        _cleanup_free_ char *none = plan_interfaces(p, NULL);
        assert_non_null(strstr(none, "bridge_ports none"));
}

static void test_first_entry(void **state) {
        (void) state;
        const char *cfg = "set default=\"0\"\nfunction x {\n}\n"
                          "### BEGIN /etc/grub.d/08_linux_xen ###\n"
                          "menuentry 'Debian GNU/Linux, with Xen hypervisor' --class debian {\n}\n"
                          "menuentry 'Debian GNU/Linux' {\n}\n";
        _cleanup_free_ char *t = grub_first_entry(cfg);
        assert_string_equal(t, "Debian GNU/Linux, with Xen hypervisor");
        _cleanup_free_ char *none = grub_first_entry("set default=0\n");
        assert_null(none);
        _cleanup_free_ char *dq = grub_first_entry("  menuentry \"Debian\" {\n");
        assert_string_equal(dq, "Debian");
}

int main(void) {
        log_set_level(LOG_LEVEL_ERROR + 1);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_grub_xen),  cmocka_unit_test(test_xl_conf),     cmocka_unit_test(test_shell_variable),
                cmocka_unit_test(test_interfaces), cmocka_unit_test(test_first_entry),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
