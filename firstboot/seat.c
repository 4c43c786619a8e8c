/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "seat.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"
#include "strutil.h"

/* The last component of what the link dir/name points to, or "". */
static char *link_base(const char *dir, const char *name) {
        _cleanup_free_ char *p = path_join(dir, name);
        char buf[PATH_MAX];
        ssize_t k = readlink(p, buf, sizeof buf - 1);
        if (k <= 0)
                return xstrdup("");
        buf[k] = 0;
        const char *b = strrchr(buf, '/');
        return xstrdup(b ? b + 1 : buf);
}

static bool is_hex(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (!isxdigit((unsigned char) s[i]))
                        return false;
        return true;
}

/* "0000:01:00.0": domain, bus, slot and function, as the kernel names them. */
static bool is_pci_address(const char *s) {
        return strlen(s) == 12 && is_hex(s, 4) && s[4] == ':' && is_hex(s + 5, 2) && s[7] == ':' && is_hex(s + 8, 2) &&
               s[10] == '.' && s[11] >= '0' && s[11] <= '7';
}

/* A PCI address as the profile may write it ("01:00.0" or "0000:01:00.0"),
 * in the kernel's form, or NULL when it is none. */
static char *pci_normalise(const char *s) {
        _cleanup_free_ char *full = strlen(s) == 7 ? xasprintf("0000:%s", s) : xstrdup(s);
        if (!is_pci_address(full))
                return NULL;
        for (char *c = full; *c; c++)
                *c = (char) tolower((unsigned char) *c);
        return TAKE_PTR(full);
}

/* "1-1.2": a USB device as the kernel names it (bus-port[.port]...). */
static bool is_usb_device_name(const char *s) {
        if (!isdigit((unsigned char) *s))
                return false;
        s += strspn(s, "0123456789");
        if (*s++ != '-' || !isdigit((unsigned char) *s))
                return false;
        for (;;) {
                s += strspn(s, "0123456789");
                if (!*s)
                        return true;
                if (*s++ != '.' || !isdigit((unsigned char) *s))
                        return false;
        }
}

/* The deepest USB device on a device's path in sysfs, or NULL. */
static char *usb_port_of(const char *real) {
        _cleanup_free_ char *copy = xstrdup(real);
        char *port = NULL, *save = NULL;
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save))
                if (is_usb_device_name(c)) {
                        free(port);
                        port = xstrdup(c);
                }
        return port;
}

/* Is port the same as, or below, above? ("1-1.2" is below "1-1".) */
static bool usb_port_within(const char *port, const char *above) {
        size_t n = strlen(above);
        return port && strncmp(port, above, n) == 0 && (port[n] == 0 || port[n] == '.');
}

/* The entries of sysfs/class/CLASS whose names are PREFIX and digits, sorted. */
static char **class_entries(const char *sysfs, const char *class, const char *prefix) {
        _cleanup_free_ char *dir = xasprintf("%s/class/%s", sysfs, class);
        char **names = xcalloc(1, sizeof(char *));
        DIR *d = opendir(dir);
        if (!d)
                return names;
        size_t n = strlen(prefix);
        for (struct dirent *e; (e = readdir(d));)
                if (strncmp(e->d_name, prefix, n) == 0 && e->d_name[n] && strspn(e->d_name + n, "0123456789") == strlen(e->d_name + n))
                        strv_push(&names, e->d_name);
        closedir(d);
        strv_sort(names);
        return names;
}

/* The real path of sysfs/class/CLASS/NAME[/SUB], or NULL. */
static char *class_real(const char *sysfs, const char *class, const char *name, const char *sub) {
        _cleanup_free_ char *p = sub ? xasprintf("%s/class/%s/%s/%s", sysfs, class, name, sub) : xasprintf("%s/class/%s/%s", sysfs, class, name);
        return realpath(p, NULL);
}

static int card_cmp(const void *a, const void *b) {
        return strcmp(((const SeatCard *) a)->pci, ((const SeatCard *) b)->pci);
}

static void probe_cards(const char *sysfs, SeatDevices *out) {
        _cleanup_strv_free_ char **names = class_entries(sysfs, "drm", "card");
        for (char **n = names; *n; n++) {
                _cleanup_free_ char *dev = class_real(sysfs, "drm", *n, "device");
                if (!dev)
                        continue;
                _cleanup_free_ char *subsystem = link_base(dev, "subsystem");
                const char *base = strrchr(dev, '/') ? strrchr(dev, '/') + 1 : dev;
                if (!streq(subsystem, "pci") || !is_pci_address(base))
                        continue; /* a virtual card (simpledrm, Xen's own): no seat's */
                _cleanup_free_ char *vendor = read_attribute(dev, "vendor"), *device = read_attribute(dev, "device"), *boot = read_attribute(dev, "boot_vga");
                out->cards = xrealloc(out->cards, (out->n_cards + 1) * sizeof *out->cards);
                out->cards[out->n_cards++] = (SeatCard) {
                        .sysname = xstrdup(*n),
                        .pci = xstrdup(base),
                        .id = xasprintf("%s:%s", startswith(vendor, "0x") ? vendor + 2 : vendor, startswith(device, "0x") ? device + 2 : device),
                        .driver = link_base(dev, "driver"),
                        .boot_vga = streq(boot, "1"),
                };
        }
        if (out->n_cards > 1)
                qsort(out->cards, out->n_cards, sizeof *out->cards, card_cmp);
}

/* A keyboard as udev's input_id sees one at first glance: keys that repeat. */
static bool caps_keyboard(const char *ev) {
        unsigned long bits = strtoul(ev, NULL, 16);
        return (bits & (1UL << 1)) && (bits & (1UL << 20));
}

static void probe_inputs(const char *sysfs, SeatDevices *out) {
        _cleanup_strv_free_ char **names = class_entries(sysfs, "input", "input");
        for (char **n = names; *n; n++) {
                _cleanup_free_ char *real = class_real(sysfs, "input", *n, NULL);
                if (!real)
                        continue;
                _cleanup_free_ char *name = read_attribute(real, "name"), *caps = path_join(real, "capabilities"), *ev = read_attribute(caps, "ev");
                out->inputs = xrealloc(out->inputs, (out->n_inputs + 1) * sizeof *out->inputs);
                out->inputs[out->n_inputs++] = (SeatInput) {
                        .sysname = xstrdup(*n),
                        .name = TAKE_PTR(name),
                        .usb_port = usb_port_of(real),
                        .keyboard = caps_keyboard(ev),
                };
        }
}

/* Does the sound card on device dev have an HDMI (or DisplayPort) output:
 * one of its HD-audio codecs (dev/hdaudioCnDm) bound to an HDMI codec
 * driver (snd_hda_codec_hdmi; intelhdmi, nvhdmi... in newer kernels)? */
static bool has_hdmi_codec(const char *dev) {
        DIR *d = dev ? opendir(dev) : NULL;
        if (!d)
                return false;
        bool hdmi = false;
        for (struct dirent *e; !hdmi && (e = readdir(d));) {
                if (!startswith(e->d_name, "hdaudioC"))
                        continue;
                _cleanup_free_ char *link = xasprintf("%s/%s/driver", dev, e->d_name);
                char target[PATH_MAX];
                ssize_t n = readlink(link, target, sizeof target - 1);
                if (n <= 0)
                        continue;
                target[n] = 0;
                const char *base = strrchr(target, '/') ? strrchr(target, '/') + 1 : target;
                hdmi = strstr(base, "hdmi") != NULL;
        }
        closedir(d);
        return hdmi;
}

static void probe_sounds(const char *sysfs, SeatDevices *out) {
        _cleanup_strv_free_ char **names = class_entries(sysfs, "sound", "card");
        for (char **n = names; *n; n++) {
                _cleanup_free_ char *real = class_real(sysfs, "sound", *n, NULL), *dev = class_real(sysfs, "sound", *n, "device");
                if (!real)
                        continue;
                _cleanup_free_ char *id = read_attribute(real, "id");
                const char *base = dev ? (strrchr(dev, '/') ? strrchr(dev, '/') + 1 : dev) : "";
                out->sounds = xrealloc(out->sounds, (out->n_sounds + 1) * sizeof *out->sounds);
                out->sounds[out->n_sounds++] = (SeatSound) {
                        .sysname = xstrdup(*n),
                        .id = TAKE_PTR(id),
                        .pci = is_pci_address(base) ? xstrdup(base) : NULL,
                        .usb_port = usb_port_of(dev ? dev : real),
                        .hdmi = has_hdmi_codec(dev),
                };
        }
}

void seat_devices_probe(const char *sysfs, SeatDevices *ret) {
        *ret = (SeatDevices) {};
        probe_cards(sysfs, ret);
        probe_inputs(sysfs, ret);
        probe_sounds(sysfs, ret);
}

void seat_devices_done(SeatDevices *d) {
        for (size_t i = 0; i < d->n_cards; i++) {
                free(d->cards[i].sysname);
                free(d->cards[i].pci);
                free(d->cards[i].id);
                free(d->cards[i].driver);
        }
        for (size_t i = 0; i < d->n_inputs; i++) {
                free(d->inputs[i].sysname);
                free(d->inputs[i].name);
                free(d->inputs[i].usb_port);
        }
        for (size_t i = 0; i < d->n_sounds; i++) {
                free(d->sounds[i].sysname);
                free(d->sounds[i].id);
                free(d->sounds[i].pci);
                free(d->sounds[i].usb_port);
        }
        free(d->cards);
        free(d->inputs);
        free(d->sounds);
        *d = (SeatDevices) {};
}

void seat_assignments_free(SeatAssignment *a, size_t n) {
        for (size_t i = 0; a && i < n; i++) {
                strv_free(a[i].usb_ports);
                strv_free(a[i].input_names);
                free(a[i].missing);
        }
        free(a);
}

/* ---- Matching ---------------------------------------------------------- */

static char *card_describe(const SeatCard *c) {
        return xasprintf("%s %s (%s %s%s)", c->sysname, c->pci, *c->driver ? c->driver : "no driver", c->id, c->boot_vga ? ", boot VGA" : "");
}

static char *cards_list(const SeatDevices *dev) {
        if (!dev->n_cards)
                return xstrdup("none");
        _cleanup_strv_free_ char **l = xcalloc(1, sizeof(char *));
        for (size_t i = 0; i < dev->n_cards; i++)
                strv_consume(&l, card_describe(&dev->cards[i]));
        return strv_join(l, "; ");
}

static char *input_describe(const SeatInput *in) {
        return in->usb_port ? xasprintf("'%s' on USB port %s%s", in->name, in->usb_port, in->keyboard ? " (keyboard)" : "")
                            : xasprintf("'%s' (%s, not on USB%s)", in->name, in->sysname, in->keyboard ? ", keyboard" : "");
}

static char *inputs_list(const SeatDevices *dev) {
        if (!dev->n_inputs)
                return xstrdup("none");
        _cleanup_strv_free_ char **l = xcalloc(1, sizeof(char *));
        for (size_t i = 0; i < dev->n_inputs; i++)
                strv_consume(&l, input_describe(&dev->inputs[i]));
        return strv_join(l, "; ");
}

static char *sound_describe(const SeatSound *s) {
        return xasprintf("%s %s (%s)", s->sysname, s->id, s->pci ? s->pci : s->usb_port ? s->usb_port : "not on PCI or USB");
}

static char *sounds_list(const SeatDevices *dev) {
        if (!dev->n_sounds)
                return xstrdup("none");
        _cleanup_strv_free_ char **l = xcalloc(1, sizeof(char *));
        for (size_t i = 0; i < dev->n_sounds; i++)
                strv_consume(&l, sound_describe(&dev->sounds[i]));
        return strv_join(l, "; ");
}

static bool card_matches(const SeatCard *c, const char *spec) {
        _cleanup_free_ char *pci = pci_normalise(spec);
        if (pci)
                return streq(c->pci, pci);
        if (strlen(spec) == 9 && spec[4] == ':')
                return strcasecmp(c->id, spec) == 0;
        return streq(c->driver, spec);
}

/* A message at the seat's KEY= line (FILE:LINE: ...). */
static char *seat_message(const SectionHead *seat, const char *key, const char *fmt, va_list ap) {
        _cleanup_free_ char *msg = xvasprintf(fmt, ap), *where = profile_at(seat, "Seat", key);
        return xasprintf("%s%s", where, msg);
}

/* An error at the seat's KEY= line. */
_printf_(4, 5) static void add_error(char ***errors, const SectionHead *seat, const char *key, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        strv_consume(errors, seat_message(seat, key, fmt, ap));
        va_end(ap);
}

/* A device the seat names is not on this machine: the seat is left out
 * (the first reason kept, FILE:LINE: ...), the host installed without it. */
_printf_(4, 5) static void leave_out(SeatAssignment *a, const SectionHead *seat, const char *key, const char *fmt, ...) {
        if (a->missing)
                return;
        va_list ap;
        va_start(ap, fmt);
        a->missing = seat_message(seat, key, fmt, ap);
        va_end(ap);
}

static void assign_cards(const Profile *p, const SeatDevices *dev, SeatAssignment *a, char ***errors) {
        _cleanup_free_ char *list = cards_list(dev);
        /* Named cards first, so that "auto" takes what they leave. */
        for (size_t i = 0; i < p->n_seats; i++) {
                const Seat *t = p->seats[i];
                if (streq(t->card, "auto"))
                        continue;
                size_t found = 0;
                for (size_t c = 0; c < dev->n_cards; c++)
                        if (card_matches(&dev->cards[c], t->card)) {
                                found++;
                                a[i].card = &dev->cards[c];
                        }
                if (found == 0)
                        leave_out(&a[i], &t->head, "Card", "seat %s: no graphics card matches Card=%s; the machine's cards: %s", t->head.name, t->card, list);
                else if (found > 1) {
                        add_error(errors, &t->head, "Card", "seat %s: Card=%s matches %zu graphics cards: name one by its PCI address; the machine's cards: %s",
                                  t->head.name, t->card, found, list);
                        a[i].card = NULL;
                }
                for (size_t j = 0; a[i].card && j < i; j++)
                        if (a[j].card == a[i].card)
                                add_error(errors, &t->head, "Card", "seat %s: Card=%s is %s, which seat %s takes too", t->head.name, t->card, a[i].card->pci,
                                          p->seats[j]->head.name);
        }
        /* Then "auto", the default seat first: it gets the card the
         * firmware showed its screens on, if no seat named it. */
        for (size_t o = 0; o <= p->n_seats; o++) {
                size_t i = o;
                if (o == 0) {
                        for (i = 0; i < p->n_seats && !streq(p->seats[i]->head.name, "seat0"); i++)
                                ;
                        if (i == p->n_seats)
                                continue;
                } else if (streq(p->seats[--i]->head.name, "seat0"))
                        continue;
                const Seat *t = p->seats[i];
                if (!streq(t->card, "auto"))
                        continue;
                const SeatCard *pick = NULL;
                for (size_t c = 0; c < dev->n_cards; c++) {
                        bool taken = false;
                        for (size_t j = 0; j < p->n_seats; j++)
                                taken |= a[j].card == &dev->cards[c];
                        if (taken)
                                continue;
                        /* The default seat is where the firmware's screens were. */
                        if (!pick || (streq(t->head.name, "seat0") && dev->cards[c].boot_vga && !pick->boot_vga))
                                pick = &dev->cards[c];
                }
                if (!pick)
                        leave_out(&a[i], &t->head, "Card", "seat %s: Card=auto, but no graphics card is left for it; the machine's cards: %s", t->head.name,
                                  list);
                a[i].card = pick;
        }
}

/* The assignment whose USB ports hold port, or -1. */
static long port_owner_of(const SeatAssignment *a, size_t n, const char *port) {
        for (size_t j = 0; j < n; j++)
                for (char **q = a[j].usb_ports; q && *q; q++)
                        if (usb_port_within(port, *q))
                                return (long) j;
        return -1;
}

static void assign_inputs(const Profile *p, const SeatDevices *dev, SeatAssignment *a, char ***errors) {
        _cleanup_free_ char *list = inputs_list(dev);
        for (size_t i = 0; i < p->n_seats; i++) {
                a[i].usb_ports = xcalloc(1, sizeof(char *));
                a[i].input_names = xcalloc(1, sizeof(char *));
        }
        /* The ports named, then the names, then "auto". */
        for (size_t i = 0; i < p->n_seats; i++) {
                const Seat *t = p->seats[i];
                for (char **in = t->inputs; *in; in++) {
                        if (!startswith(*in, "usb:"))
                                continue;
                        const char *port = *in + 4;
                        bool any = false;
                        for (size_t k = 0; k < dev->n_inputs; k++)
                                any |= usb_port_within(dev->inputs[k].usb_port, port);
                        if (!any) {
                                leave_out(&a[i], &t->head, "Input", "seat %s: no input device is on USB port %s; the machine's inputs: %s", t->head.name, port,
                                          list);
                                continue;
                        }
                        for (size_t j = 0; j < p->n_seats; j++)
                                for (char **q = a[j].usb_ports; *q; q++)
                                        if (usb_port_within(port, *q) || usb_port_within(*q, port))
                                                add_error(errors, &t->head, "Input", "seat %s: USB port %s and seat %s's %s are one within the other", t->head.name,
                                                          port, p->seats[j]->head.name, *q);
                        strv_push(&a[i].usb_ports, port);
                }
        }
        for (size_t i = 0; i < p->n_seats; i++) {
                const Seat *t = p->seats[i];
                for (char **in = t->inputs; *in; in++) {
                        if (!startswith(*in, "name:"))
                                continue;
                        const char *text = *in + 5;
                        const SeatInput *first = NULL;
                        _cleanup_strv_free_ char **where = xcalloc(1, sizeof(char *));
                        for (size_t k = 0; k < dev->n_inputs; k++) {
                                const SeatInput *d = &dev->inputs[k];
                                if (!strstr(d->name, text))
                                        continue;
                                /* One device may have several inputs of that name:
                                 * counted once, by its USB port or its own name. */
                                const char *key = d->usb_port ? d->usb_port : d->sysname;
                                if (!strv_contains(where, key))
                                        strv_push(&where, key);
                                if (!first)
                                        first = d;
                                long owner = d->usb_port ? port_owner_of(a, p->n_seats, d->usb_port) : -1;
                                if (owner >= 0 && (size_t) owner != i)
                                        add_error(errors, &t->head, "Input", "seat %s: Input=name:%s is on USB port %s, which seat %s takes", t->head.name, text,
                                                  d->usb_port, p->seats[owner]->head.name);
                        }
                        if (!first)
                                leave_out(&a[i], &t->head, "Input", "seat %s: no input device's name holds '%s'; the machine's inputs: %s", t->head.name, text,
                                          list);
                        else if (strv_length(where) > 1) {
                                _cleanup_free_ char *w = strv_join(where, ", ");
                                add_error(errors, &t->head, "Input",
                                          "seat %s: Input=name:%s matches %zu devices (%s): name them by their USB port (usb:PORT); the machine's "
                                          "inputs: %s",
                                          t->head.name, text, strv_length(where), w, list);
                        } else
                                strv_push(&a[i].input_names, text);
                }
        }
        for (size_t i = 0; i < p->n_seats; i++) {
                const Seat *t = p->seats[i];
                /* The default seat's "auto" is what no other seat takes:
                 * logind gives it every device no rule gives away. */
                if (!strv_contains(t->inputs, "auto") || streq(t->head.name, "seat0"))
                        continue;
                const char *pick = NULL;
                for (size_t k = 0; k < dev->n_inputs && !pick; k++) {
                        const SeatInput *d = &dev->inputs[k];
                        if (!d->keyboard || !d->usb_port || port_owner_of(a, p->n_seats, d->usb_port) >= 0)
                                continue;
                        bool named = false;
                        for (size_t j = 0; j < p->n_seats; j++)
                                for (char **nm = a[j].input_names; *nm; nm++)
                                        named |= strstr(d->name, *nm) != NULL;
                        if (!named)
                                pick = d->usb_port;
                }
                if (!pick)
                        leave_out(&a[i], &t->head, "Input", "seat %s: Input=auto, but no USB keyboard is left for it; the machine's inputs: %s", t->head.name,
                                  list);
                else
                        strv_push(&a[i].usb_ports, pick);
        }
}

/* "0000:01:00.1" and "0000:01:00.0" are functions of one device. */
static bool same_pci_device(const char *a, const char *b) {
        return a && b && strncmp(a, b, 10) == 0;
}

static void assign_sounds(const Profile *p, const SeatDevices *dev, SeatAssignment *a, char ***errors) {
        _cleanup_free_ char *list = sounds_list(dev);
        for (size_t i = 0; i < p->n_seats; i++) {
                const Seat *t = p->seats[i];
                if (streq(t->audio, "none"))
                        continue;
                if (streq(t->audio, "auto")) {
                        /* The card's own HDMI sound: another function of it. */
                        for (size_t k = 0; k < dev->n_sounds && a[i].card; k++)
                                if (same_pci_device(dev->sounds[k].pci, a[i].card->pci))
                                        a[i].sound = &dev->sounds[k];
                        continue;
                }
                _cleanup_free_ char *pci = pci_normalise(t->audio);
                for (size_t k = 0; k < dev->n_sounds; k++)
                        if (pci ? dev->sounds[k].pci && streq(dev->sounds[k].pci, pci) : strcasecmp(dev->sounds[k].id, t->audio) == 0)
                                a[i].sound = &dev->sounds[k];
                if (!a[i].sound)
                        leave_out(&a[i], &t->head, "Audio", "seat %s: no sound card matches Audio=%s; the machine's sound cards: %s", t->head.name, t->audio,
                                  list);
        }
        for (size_t i = 0; i < p->n_seats; i++)
                for (size_t j = 0; j < i; j++)
                        if (a[i].sound && a[i].sound == a[j].sound)
                                add_error(errors, &p->seats[i]->head, "Audio", "seat %s: sound card %s is seat %s's too",
                                          p->seats[i]->head.name, a[i].sound->sysname, p->seats[j]->head.name);
}

int seats_assign(const Profile *p, const SeatDevices *dev, SeatAssignment **ret, char ***errors) {
        *ret = NULL;
        if (!p->n_seats)
                return 0;
        SeatAssignment *a = xcalloc(p->n_seats, sizeof *a);
        for (size_t i = 0; i < p->n_seats; i++)
                a[i].seat = p->seats[i];
        size_t before = strv_length(*errors);
        assign_cards(p, dev, a, errors);
        assign_inputs(p, dev, a, errors);
        assign_sounds(p, dev, a, errors);
        if (strv_length(*errors) > before) {
                seat_assignments_free(a, p->n_seats);
                return -EINVAL;
        }
        /* A seat left out takes nothing: its devices stay with seat0. */
        for (size_t i = 0; i < p->n_seats; i++)
                if (a[i].missing) {
                        a[i].card = NULL;
                        a[i].sound = NULL;
                        strv_free(a[i].usb_ports);
                        strv_free(a[i].input_names);
                        a[i].usb_ports = xcalloc(1, sizeof(char *));
                        a[i].input_names = xcalloc(1, sizeof(char *));
                }
        *ret = a;
        return 0;
}

/* ---- Rules ------------------------------------------------------------- */

char *seat_assignment_describe(const SeatAssignment *a) {
        _cleanup_free_ char *card = a->card ? card_describe(a->card) : xstrdup("no card");
        _cleanup_strv_free_ char **in = xcalloc(1, sizeof(char *));
        for (char **q = a->usb_ports; q && *q; q++)
                strv_consume(&in, xasprintf("USB port %s", *q));
        for (char **n = a->input_names; n && *n; n++)
                strv_consume(&in, xasprintf("named '%s'", *n));
        bool seat0 = streq(a->seat->head.name, "seat0");
        _cleanup_free_ char *inputs = in[0] ? strv_join(in, ", ") : xstrdup(seat0 ? "those no other seat takes" : "none");
        _cleanup_free_ char *sound = a->sound ? sound_describe(a->sound) : xstrdup(seat0 && streq(a->seat->audio, "auto") ? "those no other seat takes" : "none");
        return xasprintf("%s; inputs: %s; sound: %s", card, inputs, sound);
}

char *seats_udev_rules(const SeatAssignment *a, size_t n) {
        _cleanup_strv_free_ char **l = xcalloc(1, sizeof(char *));
        strv_push(&l, "# Written by hyperion-firstboot from the profile's [Seat] sections: each seat's\n"
                      "# devices (logind's ID_SEAT). Read after systemd's 71-seat.rules, which tags\n"
                      "# them \"seat\", and before its 73-seat-late.rules, which hands ID_SEAT down to\n"
                      "# their children. seat0 keeps every device no rule gives away.\n");
        for (size_t i = 0; i < n; i++) {
                if (a[i].missing)
                        continue;
                const char *seat = a[i].seat->head.name;
                _cleanup_free_ char *what = seat_assignment_describe(&a[i]);
                strv_consume(&l, xasprintf("\n# %s: %s\n", seat, what));
                if (a[i].card)
                        strv_consume(&l, xasprintf("TAG==\"seat\", KERNELS==\"%s\", ENV{ID_SEAT}=\"%s\"\n", a[i].card->pci, seat));
                for (char **q = a[i].usb_ports; q && *q; q++)
                        strv_consume(&l, xasprintf("TAG==\"seat\", KERNELS==\"%s\", ENV{ID_SEAT}=\"%s\"\n", *q, seat));
                for (char **nm = a[i].input_names; nm && *nm; nm++)
                        strv_consume(&l, xasprintf("TAG==\"seat\", SUBSYSTEM==\"input\", ATTRS{name}==\"*%s*\", ENV{ID_SEAT}=\"%s\"\n", *nm, seat));
                /* A sound card by where it sits (ALSA's numbers change from one
                 * boot to the next); by its id when it sits on neither bus. */
                const SeatSound *snd = a[i].sound;
                if (!snd || (snd->usb_port && port_owner_of(a, n, snd->usb_port) == (long) i))
                        continue;
                if (snd->pci)
                        strv_consume(&l, xasprintf("TAG==\"seat\", SUBSYSTEM==\"sound\", KERNELS==\"%s\", ENV{ID_SEAT}=\"%s\"\n", snd->pci, seat));
                else if (snd->usb_port)
                        strv_consume(&l, xasprintf("TAG==\"seat\", SUBSYSTEM==\"sound\", KERNELS==\"%s\", ENV{ID_SEAT}=\"%s\"\n", snd->usb_port, seat));
                else
                        strv_consume(&l, xasprintf("TAG==\"seat\", SUBSYSTEM==\"sound\", KERNEL==\"card*\", ATTR{id}==\"%s\", ENV{ID_SEAT}=\"%s\"\n",
                                                   snd->id, seat));
        }
        return strv_join(l, "");
}

/* ---- The seat's session ------------------------------------------------ */

char *seat_pam_text(void) {
        return xstrdup("# hyperion: the sessions of dom0's seats (hyperion-seat-*.service): a\n"
                       "# logind session of the seat's account on its seat. systemd opens it\n"
                       "# without authenticating anybody; whoever would authenticate through\n"
                       "# this service is refused.\n"
                       "auth     required pam_deny.so\n"
                       "password required pam_deny.so\n"
                       "account  required pam_unix.so\n"
                       "session  required pam_unix.so\n"
                       "session  required pam_systemd.so\n");
}

char *seat_unit_text(const SeatAssignment *a) {
        const char *name = a->seat->head.name;
        bool seat0 = streq(name, "seat0");
        _cleanup_free_ char *what = seat_assignment_describe(a);
        _cleanup_free_ char *tty = seat0 ? xasprintf("# seat0 has the virtual terminals: its session takes one of its own,\n"
                                                     "# brought to the front first (logind makes a session on a VT active\n"
                                                     "# only while its VT is; cage waits 10 s for that, then gives up).\n"
                                                     "TTYPath=/dev/tty%d\nEnvironment=XDG_VTNR=%d\nStandardInput=tty-fail\n"
                                                     "TTYReset=yes\nTTYVHangup=yes\nTTYVTDisallocate=yes\n"
                                                     "UtmpIdentifier=tty%d\nUtmpMode=user\n"
                                                     "ExecStartPre=+/usr/bin/chvt %d\n",
                                                     SEAT0_VT, SEAT0_VT, SEAT0_VT, SEAT0_VT)
                                         : xstrdup("");
        _cleanup_free_ char *conflicts = seat0 ? xasprintf("Conflicts=getty@tty%d.service\nAfter=getty@tty%d.service\n", SEAT0_VT, SEAT0_VT)
                                               : xstrdup("");
        _cleanup_free_ char *home = xasprintf(SEAT_HOME_FMT, name);
        return xasprintf("# hyperion: seat %s's %s, full screen in cage (a Wayland kiosk compositor),\n"
                         "# in a logind session of %s on %s: logind hands the session\n"
                         "# that seat's devices only (udev's ID_SEAT, %s).\n"
                         "# %s\n"
                         "[Unit]\n"
                         "Description=Hyperion seat %s: %s full screen\n"
                         "Documentation=man:hyperion-firstboot(8)\n"
                         "After=systemd-user-sessions.service systemd-logind.service hyperion-guests.service\n"
                         "Wants=systemd-logind.service\n"
                         "%s"
                         "StartLimitIntervalSec=0\n"
                         "\n"
                         "[Service]\n"
                         "User=%s\n"
                         "PAMName=" SEAT_PAM_SERVICE "\n"
                         "WorkingDirectory=%s\n"
                         "Environment=XDG_SEAT=%s\n"
                         "Environment=XDG_SESSION_TYPE=wayland\n"
                         "Environment=XDG_SESSION_CLASS=user\n"
                         "%s"
                         "# Its own sound card through ALSA (no sound server shared between seats).\n"
                         "ExecStart=/usr/bin/cage -- /usr/bin/kodi --standalone --windowing=wayland --audio-backend=alsa\n"
                         "Restart=always\n"
                         "RestartSec=5\n"
                         "StandardOutput=journal\n"
                         "StandardError=journal\n"
                         "\n"
                         "[Install]\n"
                         "WantedBy=multi-user.target\n",
                         name, a->seat->application, a->seat->user, name, SEAT_RULES_FILE, what, name, a->seat->application, conflicts,
                         a->seat->user, home, name, tty);
}

char *seat_kodi_settings(const SeatAssignment *a) {
        /* ALSA's ids are letters, digits, '_' and '-'; anything else is
         * left out of the XML rather than escaped. */
        if (!a->sound || !a->sound->id[0] || strspn(a->sound->id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(a->sound->id))
                return NULL;
        /* Its first HDMI output where it has one (the seat's screen), else
         * the card's own default device, as Kodi names them ("@" is Kodi's
         * own: the card's default, sysdefault:CARD=ID). A name Kodi does
         * not list it replaces with the machine's default device. */
        bool hdmi = a->sound->hdmi;
        return xasprintf("<settings version=\"2\">\n"
                         "    <!-- hyperion: this seat's own sound card%s -->\n"
                         "    <setting id=\"audiooutput.audiodevice\">ALSA:%s:CARD=%s,DEV=0</setting>\n"
                         "</settings>\n",
                         hdmi ? ", its HDMI output" : " (it has no HDMI output)", hdmi ? "hdmi" : "@", a->sound->id);
}
