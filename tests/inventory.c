/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "inventory.h"

#include <errno.h>
#include <ini.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "log.h"
#include "size.h"
#include "strutil.h"

typedef struct State {
        Inventory *inv;
        InventoryOptions *opts;
        ProbedDisk *cur;
        char *cur_section;
        int error;
        bool cards, inputs, sounds;   /* the file's own lines replaced the defaults */
} State;

static bool yes(const char *v) {
        return streq(v, "yes");
}

static uint64_t size_or_die(State *s, const char *v) {
        uint64_t r = 0;
        if (parse_size(v, &r) < 0)
                s->error = -EINVAL;
        return r;
}

/* The machine's Card=, Input= and Sound= lines: the first of each kind
 * replaces the default machine's (the seed's); an empty one leaves none. */
static void own_devices(State *s, const char *name) {
        SeatDevices *sd = &s->inv->seat_devices, old = {};
        if (streq(name, "Card") && !s->cards) {
                s->cards = true;
                old.cards = TAKE_PTR(sd->cards);
                old.n_cards = sd->n_cards;
                sd->n_cards = 0;
        } else if (streq(name, "Input") && !s->inputs) {
                s->inputs = true;
                old.inputs = TAKE_PTR(sd->inputs);
                old.n_inputs = sd->n_inputs;
                sd->n_inputs = 0;
        } else if (streq(name, "Sound") && !s->sounds) {
                s->sounds = true;
                old.sounds = TAKE_PTR(sd->sounds);
                old.n_sounds = sd->n_sounds;
                sd->n_sounds = 0;
        }
        seat_devices_done(&old);
}

static char *field(const char *v) {
        return streq(v, "-") ? NULL : xstrdup(v);
}

static int handler(void *user, const char *section, const char *name, const char *value) {
        State *s = user;
        if (streq(section, "Machine")) {
                Inventory *inv = s->inv;
                if (streq(name, "Memory"))
                        inv->memory = size_or_die(s, value);
                else if (streq(name, "Efi"))
                        inv->efi = yes(value);
                else if (streq(name, "DeviceMapper"))
                        inv->device_mapper = yes(value);
                else if (streq(name, "Seed"))
                        inv->seed = strtoull(value, NULL, 16);
                else if (streq(name, "RootImage")) {
                        free(inv->root_image);
                        inv->root_image = field(value);
                } else if (streq(name, "RootImageId")) {
                        free(inv->root_image_id);
                        inv->root_image_id = field(value);
                } else if (streq(name, "GuestArchive")) {
                        free(inv->guest_archive);
                        inv->guest_archive = field(value);
                } else if (streq(name, "Card")) {
                        /* SYSNAME PCI VENDOR:DEVICE DRIVER [boot-vga] */
                        _cleanup_strv_free_ char **w = strv_split_ws(value);
                        own_devices(s, name);
                        if (!w[0])
                                return 1;
                        if (strv_length(w) < 4)
                                return 0;
                        SeatDevices *sd = &inv->seat_devices;
                        sd->cards = xrealloc(sd->cards, (sd->n_cards + 1) * sizeof *sd->cards);
                        sd->cards[sd->n_cards++] = (SeatCard) { .sysname = xstrdup(w[0]), .pci = xstrdup(w[1]), .id = xstrdup(w[2]),
                                                               .driver = xstrdup(w[3]), .boot_vga = w[4] && streq(w[4], "boot-vga") };
                } else if (streq(name, "Input")) {
                        /* SYSNAME USBPORT|- keyboard|other NAME... */
                        _cleanup_strv_free_ char **w = strv_split_ws(value);
                        own_devices(s, name);
                        if (!w[0])
                                return 1;
                        if (strv_length(w) < 4)
                                return 0;
                        const char *nm = strstr(value, w[2]) + strlen(w[2]);
                        nm += strspn(nm, " \t");
                        SeatDevices *sd = &inv->seat_devices;
                        sd->inputs = xrealloc(sd->inputs, (sd->n_inputs + 1) * sizeof *sd->inputs);
                        sd->inputs[sd->n_inputs++] = (SeatInput) { .sysname = xstrdup(w[0]), .usb_port = field(w[1]),
                                                                  .keyboard = streq(w[2], "keyboard"), .name = xstrdup(nm) };
                } else if (streq(name, "Sound")) {
                        /* SYSNAME ID PCI|- USBPORT|- */
                        _cleanup_strv_free_ char **w = strv_split_ws(value);
                        own_devices(s, name);
                        if (!w[0])
                                return 1;
                        if (strv_length(w) < 4)
                                return 0;
                        SeatDevices *sd = &inv->seat_devices;
                        sd->sounds = xrealloc(sd->sounds, (sd->n_sounds + 1) * sizeof *sd->sounds);
                        sd->sounds[sd->n_sounds++] = (SeatSound) { .sysname = xstrdup(w[0]), .id = xstrdup(w[1]), .pci = field(w[2]),
                                                                  .usb_port = field(w[3]) };
                } else if (streq(name, "Nic")) {
                        /* NAME MAC [wireless]; empty: none */
                        _cleanup_strv_free_ char **w = strv_split_ws(value);
                        if (!w[0]) {
                                for (size_t i = 0; i < inv->n_nics; i++) {
                                        free(inv->nics[i].name);
                                        free(inv->nics[i].mac);
                                }
                                inv->n_nics = 0;
                        } else if (!w[1])
                                return 0;
                        else
                                inventory_add_nic(inv, w[0], w[1], w[2] && streq(w[2], "wireless"));
                } else
                        return 0;
                return 1;
        }
        if (streq(section, "Options")) {
                if (streq(name, "Profile")) {
                        free(s->opts->profile);
                        s->opts->profile = xstrdup(value);
                } else if (streq(name, "Wipe"))
                        s->opts->wipe = yes(value);
                else if (streq(name, "Unattended"))
                        s->opts->unattended = yes(value);
                else if (streq(name, "Previous"))
                        strv_push(&s->opts->previous, value);
                return 1;
        }
        if (!startswith(section, "Disk "))
                return 0;
        if (!s->cur_section || !streq(s->cur_section, section)) {
                free(s->cur_section);
                s->cur_section = xstrdup(section);
                s->cur = inventory_add(s->inv);
                _cleanup_free_ char *path = xasprintf("/dev/%s", section + 5);
                disk_init(s->cur, path, section + 5);
        }
        ProbedDisk *d = s->cur;
        if (streq(name, "Size"))
                d->size = size_or_die(s, value);
        else if (streq(name, "SectorSize"))
                d->sector_size = (unsigned) atoi(value);
        else if (streq(name, "Model")) {
                free(d->model);
                d->model = xstrdup(value);
        } else if (streq(name, "Serial")) {
                free(d->serial);
                d->serial = xstrdup(value);
        } else if (streq(name, "WWN")) {
                free(d->wwn);
                d->wwn = xstrdup(value);
        } else if (streq(name, "ById")) {
                strv_free(d->by_id);
                d->by_id = strv_split_ws(value);
        } else if (streq(name, "Removable"))
                d->removable = yes(value);
        else if (streq(name, "BootMedium"))
                d->boot_medium = yes(value);
        else if (streq(name, "Devno")) {
                unsigned ma, mi;
                if (sscanf(value, "%u:%u", &ma, &mi) != 2)
                        return 0;
                d->devno = makedev(ma, mi);
        } else if (streq(name, "InUse"))
                strv_push(&d->in_use, value);
        else if (streq(name, "VolumeGroup")) {
                free(d->vg);
                d->vg = field(value);
        }
        else if (streq(name, "Table")) {
                free(d->table);
                d->table = xstrdup(value);
        } else if (streq(name, "FsType"))
                d->fstype = field(value);
        else if (streq(name, "Partition")) {
                /* NUMBER START SIZE FSTYPE LABEL UUID [VG], '-' for none */
                _cleanup_strv_free_ char **w = strv_split_ws(value);
                if (strv_length(w) != 6 && strv_length(w) != 7)
                        return 0;
                d->parts = xrealloc(d->parts, (d->n_parts + 1) * sizeof(ProbedPart));
                d->parts[d->n_parts++] = (ProbedPart) {
                        .number = (unsigned) atoi(w[0]),
                        .start = size_or_die(s, w[1]),
                        .size = size_or_die(s, w[2]),
                        .fstype = field(w[3]),
                        .label = field(w[4]),
                        .uuid = field(w[5]),
                        .vg = w[6] ? field(w[6]) : NULL,
                };
        } else if (streq(name, "Volume")) {
                /* PARTNUMBER NAME SIZE: a logical volume in the metadata of that physical volume */
                _cleanup_strv_free_ char **w = strv_split_ws(value);
                ProbedPart *x = NULL;
                for (size_t i = 0; strv_length(w) == 3 && i < d->n_parts; i++)
                        if (d->parts[i].number == (unsigned) atoi(w[0]))
                                x = &d->parts[i];
                if (!x || !x->vg)
                        return 0;
                if (!x->lvm.vg) {
                        x->lvm.vg = xstrdup(x->vg);
                        x->lvm.extent_size = UINT64_C(4) << 20;
                }
                x->lvm.lvs = xrealloc(x->lvm.lvs, (x->lvm.n_lvs + 1) * sizeof(LvmVolume));
                x->lvm.lvs[x->lvm.n_lvs++] = (LvmVolume) { .name = xstrdup(w[1]), .size = size_or_die(s, w[2]) };
        } else if (streq(name, "Used")) {
                /* PARTNUMBER BYTES: an ext4's use */
                _cleanup_strv_free_ char **w = strv_split_ws(value);
                for (size_t i = 0; strv_length(w) == 2 && i < d->n_parts; i++)
                        if (d->parts[i].number == (unsigned) atoi(w[0]))
                                d->parts[i].fs_used = size_or_die(s, w[1]);
        } else
                return 0;
        return 1;
}

int inventory_load(const char *path, Inventory *inv, InventoryOptions *opts) {
        /* A live system booted from the ISO through UEFI, unless said otherwise. */
        *inv = (Inventory) {
                .efi = true,
                .device_mapper = true,
                .seed = 1,
                .root_image = xstrdup("/run/live/medium/live/filesystem.squashfs"),
                .root_image_id = xstrdup("4b227777d4dd1fc61c6f884f48641d02b4d121d3fd328cb08b5531fcacdabf8a"),
                .guest_archive = xstrdup("/run/live/medium/hyperion/guest-root.tar.zst"),
        };
        inventory_add_nic(inv, "enp1s0", "52:54:00:12:34:56", false);
        *opts = (InventoryOptions) { .profile = xstrdup("profiles/hyperion") };
        State s = { .inv = inv, .opts = opts };
        /* The seed's seat devices (profiles/hyperion's seats): the board's
         * Intel graphics and the GT620, their HDMI sound, two USB keyboards. */
        static const char *const seed[][2] = {
                { "Card", "card0 0000:00:02.0 8086:0152 i915 boot-vga" },
                { "Card", "card1 0000:01:00.0 10de:0f00 nouveau" },
                { "Sound", "card0 PCH 0000:00:1b.0 -" },
                { "Sound", "card1 NVidia 0000:01:00.1 -" },
                { "Input", "input0 - other Power Button" },
                { "Input", "input5 1-1 keyboard Logitech USB Keyboard" },
                { "Input", "input7 1-2 keyboard Dell KB216 Wired Keyboard" },
        };
        for (size_t i = 0; i < sizeof seed / sizeof *seed; i++)
                handler(&s, "Machine", seed[i][0], seed[i][1]);
        s.cards = s.inputs = s.sounds = false;
        int r = ini_parse(path, handler, &s);
        free(s.cur_section);
        if (r != 0)
                return log_error_errno(EINVAL, "%s:%d: cannot read this inventory line", path, r);
        return s.error;
}
