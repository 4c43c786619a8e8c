/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The seats' devices: a sysfs tree laid out as the kernel's (a board's Intel
 * graphics with the PCH's sound, a GeForce GT620 with its HDMI sound, two
 * USB keyboards, a mouse and the power button), read by seat_devices_probe();
 * the profile's [Seat] sections matched with it; the udev rules against
 * golden files (tests/expected/seats/NAME.rules; HYPERION_UPDATE_GOLDEN=1
 * rewrites them); every refusal names FILE:LINE and lists the devices.
 */
#include "test-helpers.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "profile.h"
#include "run.h"
#include "seat.h"
#include "strutil.h"

static char sysfs[] = "/tmp/hyperion-test-seat.XXXXXX";

static void mkdirs(const char *rel) {
        _cleanup_free_ char *p = path_join(sysfs, rel);
        for (char *c = p + strlen(sysfs) + 1; (c = strchr(c, '/')); c++) {
                *c = 0;
                (void) mkdir(p, 0755);
                *c = '/';
        }
        (void) mkdir(p, 0755);
}

static void put(const char *rel, const char *text) {
        _cleanup_free_ char *p = path_join(sysfs, rel), *dir = xstrdup(rel);
        *strrchr(dir, '/') = 0;
        mkdirs(dir);
        assert_int_equal(write_file_atomic(p, text, strlen(text), 0644), 0);
}

static void link_to(const char *target, const char *rel) {
        _cleanup_free_ char *p = path_join(sysfs, rel), *dir = xstrdup(rel);
        *strrchr(dir, '/') = 0;
        mkdirs(dir);
        assert_int_equal(symlink(target, p), 0);
}

#define PCI "devices/pci0000:00/"
#define GT620 PCI "0000:00:01.0/0000:01:00.0"
#define GT620_AUDIO PCI "0000:00:01.0/0000:01:00.1"
#define USB PCI "0000:00:14.0/usb1/1-1/"

/* "../" for each level of dir and one more: from dir/x back to the root. */
static char *up_from(const char *dir) {
        char *up = xstrdup("../");
        for (const char *c = dir; *c; c++)
                if (*c == '/') {
                        char *t = xasprintf("%s../", up);
                        free(up);
                        up = t;
                }
        return up;
}

/* A PCI function: its ids, its driver and bus links (relative, as the
 * kernel's: the tree is read wherever it is). */
static void pci_function(const char *dir, const char *vendor, const char *device, const char *driver, const char *boot_vga) {
        _cleanup_free_ char *v = xasprintf("%s/vendor", dir), *d = xasprintf("%s/device", dir), *b = xasprintf("%s/boot_vga", dir);
        put(v, vendor);
        put(d, device);
        if (boot_vga)
                put(b, boot_vga);
        _cleanup_free_ char *up = up_from(dir), *drv_dir = xasprintf("bus/pci/drivers/%s", driver);
        mkdirs(drv_dir);
        _cleanup_free_ char *bus = xasprintf("%sbus/pci", up), *drv = xasprintf("%s%s", up, drv_dir);
        _cleanup_free_ char *sub_link = xasprintf("%s/subsystem", dir), *drv_link = xasprintf("%s/driver", dir);
        link_to(bus, sub_link);
        link_to(drv, drv_link);
}

/* A class entry: class/CLASS/NAME -> the device's NAME folder, whose
 * "device" link points to its parent device. */
static void class_entry(const char *class, const char *name, const char *devdir, const char *sub) {
        _cleanup_free_ char *own = sub ? xasprintf("%s/%s/%s", devdir, sub, name) : xasprintf("%s/%s", devdir, name);
        mkdirs(own);
        _cleanup_free_ char *target = xasprintf("../../%s", own), *rel = xasprintf("class/%s/%s", class, name);
        link_to(target, rel);
        _cleanup_free_ char *dev = xasprintf("%s/device", own);
        link_to(sub ? "../.." : "..", dev);
}

static void input(const char *devdir, const char *name, const char *label, const char *ev) {
        class_entry("input", name, devdir, "input");
        _cleanup_free_ char *n = xasprintf("%s/input/%s/name", devdir, name), *e = xasprintf("%s/input/%s/capabilities/ev", devdir, name);
        put(n, label);
        put(e, ev);
}

/* An HD-audio codec on the bus hdaudio, bound to driver. */
static void hda_codec(const char *dir, const char *driver) {
        mkdirs(dir);
        _cleanup_free_ char *drv_dir = xasprintf("bus/hdaudio/drivers/%s", driver), *up = up_from(dir);
        mkdirs(drv_dir);
        _cleanup_free_ char *drv = xasprintf("%s%s", up, drv_dir), *link = xasprintf("%s/driver", dir);
        link_to(drv, link);
}

static int setup(void **state) {
        (void) state;
        assert_non_null(mkdtemp(sysfs));
        pci_function(PCI "0000:00:02.0", "0x8086\n", "0x0412\n", "i915", "1\n");
        class_entry("drm", "card0", PCI "0000:00:02.0", "drm");
        class_entry("drm", "card0-HDMI-A-1", PCI "0000:00:02.0/drm/card0", NULL);
        class_entry("drm", "renderD128", PCI "0000:00:02.0", "drm");
        pci_function(GT620, "0x10de\n", "0x0f00\n", "nouveau", "0\n");
        class_entry("drm", "card1", GT620, "drm");
        pci_function(GT620_AUDIO, "0x10de\n", "0x0bea\n", "snd_hda_intel", NULL);
        class_entry("sound", "card1", GT620_AUDIO, "sound");
        put(GT620_AUDIO "/sound/card1/id", "NVidia\n");
        pci_function(PCI "0000:00:1b.0", "0x8086\n", "0x8c20\n", "snd_hda_intel", NULL);
        class_entry("sound", "card0", PCI "0000:00:1b.0", "sound");
        put(PCI "0000:00:1b.0/sound/card0/id", "PCH\n");
        /* Their HD-audio codecs: the GT620's HDMI one; the PCH's analog
         * codec and the Intel graphics' HDMI one. */
        hda_codec(GT620_AUDIO "/hdaudioC1D0", "snd_hda_codec_hdmi");
        hda_codec(PCI "0000:00:1b.0/hdaudioC0D0", "snd_hda_codec_realtek");
        hda_codec(PCI "0000:00:1b.0/hdaudioC0D3", "snd_hda_codec_hdmi");
        input(USB "1-1.2/1-1.2:1.0/0003:046D:C31C.0001", "input5", "Logitech USB Keyboard\n", "120013\n");
        input(USB "1-1.2/1-1.2:1.1/0003:046D:C31C.0002", "input6", "Logitech USB Keyboard Consumer Control\n", "1f\n");
        input(USB "1-1.3/1-1.3:1.0/0003:413C:2107.0003", "input7", "Dell KB216 Wired Keyboard\n", "120013\n");
        input(USB "1-1.4/1-1.4:1.0/0003:046D:C077.0004", "input9", "Logitech USB Optical Mouse\n", "17\n");
        input("devices/LNXSYSTM:00/LNXPWRBN:00", "input0", "Power Button\n", "3\n");
        return 0;
}

static int teardown(void **state) {
        (void) state;
        (void) RUN(NULL, "rm", "-rf", sysfs);
        return 0;
}

static void test_probe(void **state) {
        (void) state;
        SeatDevices d;
        seat_devices_probe(sysfs, &d);
        assert_int_equal(d.n_cards, 2);
        assert_string_equal(d.cards[0].pci, "0000:00:02.0");
        assert_string_equal(d.cards[0].id, "8086:0412");
        assert_string_equal(d.cards[0].driver, "i915");
        assert_true(d.cards[0].boot_vga);
        assert_string_equal(d.cards[1].sysname, "card1");
        assert_string_equal(d.cards[1].pci, "0000:01:00.0");
        assert_string_equal(d.cards[1].driver, "nouveau");
        assert_false(d.cards[1].boot_vga);
        assert_int_equal(d.n_inputs, 5);
        assert_string_equal(d.inputs[0].sysname, "input0");
        assert_null(d.inputs[0].usb_port);
        assert_false(d.inputs[0].keyboard);
        assert_string_equal(d.inputs[1].name, "Logitech USB Keyboard");
        assert_string_equal(d.inputs[1].usb_port, "1-1.2");
        assert_true(d.inputs[1].keyboard);
        assert_false(d.inputs[2].keyboard);
        assert_string_equal(d.inputs[3].usb_port, "1-1.3");
        assert_string_equal(d.inputs[4].usb_port, "1-1.4");
        assert_false(d.inputs[4].keyboard);
        assert_int_equal(d.n_sounds, 2);
        assert_string_equal(d.sounds[0].id, "PCH");
        assert_string_equal(d.sounds[0].pci, "0000:00:1b.0");
        assert_string_equal(d.sounds[1].id, "NVidia");
        assert_string_equal(d.sounds[1].pci, "0000:01:00.1");
        assert_true(d.sounds[0].hdmi);
        assert_true(d.sounds[1].hdmi);
        seat_devices_done(&d);

        /* No such classes: nothing, no error. */
        SeatDevices none;
        seat_devices_probe("/nonexistent", &none);
        assert_int_equal(none.n_cards + none.n_inputs + none.n_sounds, 0);
        seat_devices_done(&none);
}

/* The seats profile of tests/data with its 40-seats.conf replaced. */
static Profile *seats_profile(const char *seats, char ***errors) {
        const char *files[] = { "profile.conf", "10-disks.conf", "20-guests.conf" };
        char *names[5] = {}, *texts[5] = {};
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *rel = xasprintf("tests/data/profiles/seats/%s", files[i]), *path = src_path(rel);
                assert_int_equal(read_full_file(path, &texts[i], NULL), 0);
                names[i] = xstrdup(files[i]);
        }
        names[3] = xstrdup("40-seats.conf");
        texts[3] = xstrdup(seats);
        Profile *p = NULL;
        int r = profile_load_strings("tests/data/profiles/seats", names, texts, &p, errors);
        for (size_t i = 0; i < 4; i++) {
                free(names[i]);
                free(texts[i]);
        }
        if (r < 0)
                fail_msg("the profile does not load: %s", (*errors)[0]);
        return p;
}

static unsigned failed;

/* The rules of a profile's seats on the tree, or its errors, as text. */
static char *outcome(const char *seats) {
        _cleanup_strv_free_ char **perr = NULL;
        _cleanup_(profile_freep) Profile *p = seats_profile(seats, &perr);
        SeatDevices d;
        seat_devices_probe(sysfs, &d);
        SeatAssignment *a = NULL;
        _cleanup_strv_free_ char **errors = xcalloc(1, sizeof(char *));
        int r = seats_assign(p, &d, &a, &errors);
        char *text;
        if (r < 0) {
                assert_null(a);
                assert_non_null(errors[0]);
                _cleanup_free_ char *j = strv_join(errors, "\nerror: ");
                text = xasprintf("error: %s\n", j);
        } else {
                assert_null(errors[0]);
                _cleanup_free_ char *rules = seats_udev_rules(a, p->n_seats);
                _cleanup_strv_free_ char **out = xcalloc(1, sizeof(char *));
                strv_push(&out, rules);
                for (size_t i = 0; i < p->n_seats; i++)
                        if (a[i].missing) {
                                /* It takes nothing: its devices stay with seat0. */
                                assert_null(a[i].card);
                                assert_null(a[i].sound);
                                assert_null(a[i].usb_ports[0]);
                                strv_consume(&out, xasprintf("left out: %s\n", a[i].missing));
                        }
                text = strv_join(out, "");
        }
        seat_assignments_free(a, p->n_seats);
        seat_devices_done(&d);
        return text;
}

static void golden(const char *name, const char *seats) {
        _cleanup_free_ char *got = outcome(seats);
        _cleanup_free_ char *rel = xasprintf("tests/expected/seats/%s.rules", name), *what = xasprintf("seats of case %s", name);
        if (!golden_equal(rel, got, what))
                failed++;
}

/* Kodi's audio device: the card's HDMI output, or its default device. */
static void test_kodi_settings(void **state) {
        (void) state;
        Seat seat = { .head.name = (char *) "seat1" };
        SeatSound hdmi = { .id = (char *) "NVidia", .hdmi = true }, analog = { .id = (char *) "Intel" }, odd = { .id = (char *) "a\"b" };
        SeatAssignment a = { .seat = &seat, .sound = &hdmi };
        _cleanup_free_ char *one = seat_kodi_settings(&a);
        assert_non_null(strstr(one, "<setting id=\"audiooutput.audiodevice\">ALSA:hdmi:CARD=NVidia,DEV=0</setting>"));
        a.sound = &analog;
        _cleanup_free_ char *two = seat_kodi_settings(&a);
        assert_non_null(strstr(two, "<setting id=\"audiooutput.audiodevice\">ALSA:@:CARD=Intel,DEV=0</setting>"));
        /* Not an ALSA id, or no card: no settings file (Kodi's default). */
        a.sound = &odd;
        assert_null(seat_kodi_settings(&a));
        a.sound = NULL;
        assert_null(seat_kodi_settings(&a));
}

static void test_golden_seats(void **state) {
        (void) state;
        failed = 0;
        /* The seed's: by driver, USB port and ALSA id. */
        golden("seed", "[Seat seat0]\nCard=i915\nInput=usb:1-1.2\nAudio=PCH\n\n"
                       "[Seat seat1]\nCard=nouveau\nInput=usb:1-1.3\nAudio=auto\n");
        /* Everything auto, seat1 written first: seat0 still gets the boot VGA
         * card, seat1 the first USB keyboard and the GT620's own sound. */
        golden("auto", "[Seat seat1]\nCard=auto\n\n[Seat seat0]\nCard=auto\n");
        /* By PCI address (short form), vendor:device, and by name. */
        golden("by-address", "[Seat seat0]\nCard=00:02.0\nInput=name:Dell KB216\nAudio=0000:00:1b.0\n\n"
                             "[Seat seat1]\nCard=10de:0f00\nInput=usb:1-1.2\nInput=usb:1-1.4\nAudio=NVidia\n");
        /* Refusals (a device two seats take, a name that matches several)
         * and seats left out (a device not there), each at its line, with
         * the devices listed. */
        golden("no-card", "[Seat seat0]\nCard=radeon\n");
        golden("same-card", "[Seat seat0]\nCard=nouveau\n\n[Seat seat1]\nCard=01:00.0\n");
        golden("no-card-left", "[Seat seat0]\nCard=auto\n\n[Seat seat1]\nCard=auto\n\n[Seat seat2]\nCard=auto\n");
        golden("ambiguous-name", "[Seat seat0]\nCard=auto\n\n[Seat seat1]\nCard=auto\nInput=name:Keyboard\n");
        golden("no-port", "[Seat seat1]\nCard=auto\nInput=usb:2-1\n");
        golden("nested-ports", "[Seat seat0]\nCard=auto\nInput=usb:1-1\n\n[Seat seat1]\nCard=auto\nInput=usb:1-1.3\n");
        golden("no-sound", "[Seat seat0]\nCard=auto\nAudio=HDMI\n");
        golden("name-on-other-port", "[Seat seat0]\nCard=auto\nInput=usb:1-1.3\n\n[Seat seat1]\nCard=auto\nInput=name:Dell\n");
        golden("no-keyboard-left", "[Seat seat1]\nCard=auto\n\n[Seat seat2]\nCard=auto\n\n[Seat seat3]\nCard=auto\nAudio=none\n");
        assert_int_equal(failed, 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_probe),
                cmocka_unit_test(test_golden_seats),
                cmocka_unit_test(test_kodi_settings),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
