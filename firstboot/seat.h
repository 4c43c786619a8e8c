/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * seat.h: the devices of dom0's seats ([Seat NAME] in the profile).
 *
 * seat_devices_probe() reads, from sysfs, the machine's graphics cards (DRM
 * cards on PCI: address, vendor:device, driver, the firmware's boot VGA),
 * its input devices (name, the USB port they hang from, keyboard or not) and
 * its sound cards (ALSA id, the PCI function or USB port they are on). The
 * sysfs root is a parameter, so that the tests give a tree of their own.
 *
 * seats_assign() matches the profile's seats with those devices. A Card=,
 * Input= or Audio= that matches more than one device, or a device two seats
 * take, is refused with a message that lists the devices. A seat whose
 * device is not on the machine at all (the profile's GT620 in a test
 * machine) is left out, with its reason: the host is installed without it.
 * "auto" takes the next device no seat names. It reads nothing.
 *
 * seats_udev_rules() writes the udev rules that give each seat its devices
 * (logind's ID_SEAT, read by systemd's 73-seat-late.rules): every device
 * tagged "seat" below the card's PCI function, the USB ports, the named
 * inputs and the sound card. The default seat, seat0, keeps what no rule
 * gives away, as logind does.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "profile.h"

typedef struct SeatCard {
        char *sysname;    /* "card0" */
        char *pci;        /* "0000:01:00.0" */
        char *id;         /* vendor:device, "10de:0f00" */
        char *driver;     /* "nouveau", or "" when none is bound */
        bool boot_vga;    /* the card the firmware showed its screens on */
} SeatCard;

typedef struct SeatInput {
        char *sysname;    /* "input5" */
        char *name;       /* "Logitech USB Keyboard" */
        char *usb_port;   /* "1-1.2", or NULL: not on USB (PS/2, buttons) */
        bool keyboard;
} SeatInput;

typedef struct SeatSound {
        char *sysname;    /* "card1" */
        char *id;         /* ALSA's id: "HDMI", "PCH", "NVidia" */
        char *pci;        /* the PCI function it is, or NULL */
        char *usb_port;   /* or the USB port it hangs from, or NULL */
        bool hdmi;        /* an HD-audio HDMI codec: Kodi plays to its hdmi: device */
} SeatSound;

typedef struct SeatDevices {
        SeatCard *cards;  /* by PCI address */
        size_t n_cards;
        SeatInput *inputs;
        size_t n_inputs;
        SeatSound *sounds;
        size_t n_sounds;
} SeatDevices;

/* sysfs: "/sys", or a tree laid out as it is. Missing classes: none found. */
void seat_devices_probe(const char *sysfs, SeatDevices *ret);
void seat_devices_done(SeatDevices *d);

/* What one seat gets. */
typedef struct SeatAssignment {
        const Seat *seat;
        const SeatCard *card;
        char **usb_ports;       /* "1-1.2": every seat-tagged device below them */
        char **input_names;     /* the Input=name: texts */
        const SeatSound *sound; /* NULL: none (or, for seat0, what no seat takes) */
        char *missing;          /* left out: why (FILE:LINE: ..., the devices listed); it takes nothing */
} SeatAssignment;

/* One SeatAssignment a seat, in the profile's order, in *ret (n_seats of
 * them, those left out with their reason); or -EINVAL and every problem in
 * *errors (FILE:LINE: ..., with the devices listed). */
int seats_assign(const Profile *p, const SeatDevices *dev, SeatAssignment **ret, char ***errors);
void seat_assignments_free(SeatAssignment *a, size_t n);

/* The rules file (/etc/udev/rules.d/72-hyperion-seats.rules). */
char *seats_udev_rules(const SeatAssignment *a, size_t n);
/* One line for people: "card 0000:01:00.0 (nouveau 10de:0f00), inputs on
 * USB port 1-1.2, sound card1 NVidia (0000:01:00.1)". */
char *seat_assignment_describe(const SeatAssignment *a);

/* Where a seat's account lives: its own home, so its own ~/.kodi (no shared
 * lock, settings of its own). */
#define SEAT_HOME_FMT "/var/lib/hyperion/seats/%s"
/* The PAM service of the seats' sessions (/etc/pam.d/NAME). */
#define SEAT_PAM_SERVICE "hyperion-seat"
#define SEAT_UNIT_FMT "/etc/systemd/system/hyperion-seat-%s.service"
#define SEAT_RULES_FILE "/etc/udev/rules.d/72-hyperion-seats.rules"
/* seat0's session needs a virtual terminal (it has them; other seats do not). */
#define SEAT0_VT 7

/* /etc/pam.d/hyperion-seat: a logind session, no password asked. */
char *seat_pam_text(void);
/* The seat's unit: its application full screen in cage, in a logind session
 * of its account on its seat, restarted when it ends, after the guests. */
char *seat_unit_text(const SeatAssignment *a);
/* Kodi's guisettings.xml with the seat's sound card as its audio device, or
 * NULL when the seat has none of its own. */
char *seat_kodi_settings(const SeatAssignment *a);
