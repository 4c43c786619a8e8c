/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * profile-validate.c: the checks a single value cannot make alone: names
 * that refer to other sections, sizes that must agree, mount points used
 * once. Each message names the line of the key at fault (or of its
 * section, when the key is missing). Defaults that depend on other
 * sections (a partition's filesystem, a domain's volume group, bridge
 * and MAC) are filled in here, so that the printed profile shows them.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "profile-internal.h"
#include "size.h"
#include "strutil.h"

Loc profile_where(const SectionHead *h, const char *kind, const char *key) {
        for (int k = 0; k < _SECTION_MAX; k++)
                if (streq(section_defs[k].kind, kind)) {
                        int i = key_index(&section_defs[k], key);
                        if (i >= 0 && h->key_loc[i].line > 0)
                                return h->key_loc[i];
                }
        return h->loc;
}

char *profile_at(const SectionHead *h, const char *kind, const char *key) {
        Loc l = profile_where(h, kind, key);
        return l.line ? xasprintf("%s:%u: ", l.file, l.line) : xasprintf("%s: ", strempty(l.file));
}

/* Where key was set, else the section line, else the profile as a whole. */
static Loc where(ParseState *s, const SectionHead *h, SectionKind kind, const char *key) {
        if (key) {
                int i = key_index(&section_defs[kind], key);
                if (i >= 0 && h->key_loc[i].line > 0)
                        return h->key_loc[i];
        }
        if (h->loc.line > 0)
                return h->loc;
        return (Loc) { s->p->files[0], 0 };
}

static bool only_chars(const char *s, const char *allowed) {
        return strspn(s, allowed) == strlen(s);
}

#define LOWER "abcdefghijklmnopqrstuvwxyz"
#define UPPER "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define DIGITS "0123456789"

static bool valid_hostname(const char *s) {
        size_t n = strlen(s);
        return n > 0 && n <= 63 && only_chars(s, LOWER DIGITS "-") && s[0] != '-' && s[n - 1] != '-';
}

static bool valid_ifname(const char *s) {
        size_t n = strlen(s);
        return n > 0 && n < 16 && only_chars(s, LOWER UPPER DIGITS "_.-");
}

static bool valid_ipv4(const char *s) {
        struct in_addr a;
        return inet_pton(AF_INET, s, &a) == 1;
}

static bool valid_ip(const char *s) {
        struct in6_addr a;
        return valid_ipv4(s) || inet_pton(AF_INET6, s, &a) == 1;
}

/* "dhcp" or A.B.C.D/N */
static bool valid_address(const char *s) {
        if (streq(s, "dhcp"))
                return true;
        const char *slash = strchr(s, '/');
        if (!slash || !slash[1] || strlen(slash + 1) > 2 || !only_chars(slash + 1, DIGITS))
                return false;
        if (atoi(slash + 1) > 32)
                return false;
        _cleanup_free_ char *ip = xstrndup(s, (size_t) (slash - s));
        return valid_ipv4(ip);
}

static bool valid_mac(const char *s);

/* An interface to match: auto, a name, or a MAC address (any unicast). */
static bool valid_interface(const char *s) {
        return streq(s, "auto") || valid_ifname(s) || valid_mac(s);
}

/* Address=, Gateway=, DNS= of a bridge or a guest; none_ok: Address=none
 * (a bridge dom0 has no address on). */
static void check_addressing(ParseState *s, SectionHead *h, SectionKind k, const char *address, const char *gateway, char **dns,
                             bool none_ok) {
        bool none = none_ok && streq(address, "none");
        if (!none && !valid_address(address))
                profile_error(s, where(s, h, k, "Address"), "invalid address '%s' (expected %sdhcp or ADDRESS/PREFIX, as in 192.168.1.2/24)",
                              address, none_ok ? "none, " : "");
        if (!isempty(gateway)) {
                if (!valid_ipv4(gateway))
                        profile_error(s, where(s, h, k, "Gateway"), "invalid gateway '%s' (expected an IPv4 address)", gateway);
                else if (streq(address, "dhcp") || none)
                        profile_error(s, where(s, h, k, "Gateway"), "Gateway= needs a static Address= (%s)",
                                      none ? "Address=none has none" : "DHCP gives its own");
        }
        for (char **d = dns; *d; d++)
                if (!valid_ip(*d))
                        profile_error(s, where(s, h, k, "DNS"), "invalid DNS server '%s' (expected an IP address)", *d);
}

static bool valid_mac(const char *s) {
        if (strlen(s) != 17)
                return false;
        for (int i = 0; i < 17; i++) {
                if (i % 3 == 2) {
                        if (s[i] != ':')
                                return false;
                } else if (!isxdigit((unsigned char) s[i]))
                        return false;
        }
        /* Unicast: the lowest bit of the first octet is clear. */
        return (strtoul(s, NULL, 16) & 1) == 0;
}

static bool valid_mount_point(const char *s) {
        if (s[0] != '/' || strstr(s, "//") || strstr(s, "/../") || endswith(s, "/..") ||
            strstr(s, "/./") || endswith(s, "/.") || (strlen(s) > 1 && endswith(s, "/")))
                return false;
        for (const char *p = s; *p; p++)
                if (isspace((unsigned char) *p) || !isprint((unsigned char) *p))
                        return false;
        return true;
}

/* fstab's fourth field: options separated by commas, printable, no white
 * space (it would split the field) and no '#' (a comment). */
static bool valid_mount_options(const char *s) {
        if (isempty(s) || s[0] == ',' || endswith(s, ",") || strstr(s, ",,"))
                return false;
        for (const char *p = s; *p; p++)
                if (!isgraph((unsigned char) *p) || *p == '#')
                        return false;
        return true;
}

#define MOUNT_OPTIONS_ERROR \
        "invalid MountOptions= '%s' (options separated by commas, as in defaults,noatime: no white space, no '#', nothing empty)"

/* A command line for GRUB and a kernel: UTF-8, no control character. */
static bool valid_cmdline(const char *s) {
        const unsigned char *p = (const unsigned char *) s;
        while (*p) {
                if (*p < 0x20 || *p == 0x7f)
                        return false;
                size_t n = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 ? 1 : (*p & 0xf0) == 0xe0 ? 2 : (*p & 0xf8) == 0xf0 ? 3 : 9;
                if (n == 9 || (n == 1 && *p < 0xc2))
                        return false;
                for (size_t i = 1; i <= n; i++)
                        if ((p[i] & 0xc0) != 0x80)
                                return false;
                p += n + 1;
        }
        return true;
}

static int b64_value(char c) {
        return c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26 : c >= '0' && c <= '9' ? c - '0' + 52 : c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Base64, strictly: 0 and the bytes, or -1. */
static int b64_decode(const char *s, size_t len, uint8_t **ret, size_t *ret_len) {
        if (len == 0 || len % 4)
                return -1;
        _cleanup_free_ uint8_t *out = xmalloc(len / 4 * 3);
        size_t n = 0;
        for (size_t i = 0; i < len; i += 4) {
                int v[4];
                for (int k = 0; k < 4; k++)
                        v[k] = s[i + k] == '=' && i + 4 == len && k >= 2 ? 0 : b64_value(s[i + k]);
                if (v[0] < 0 || v[1] < 0 || v[2] < 0 || v[3] < 0 || (s[i + 2] == '=' && s[i + 3] != '='))
                        return -1;
                uint32_t x = (uint32_t) v[0] << 18 | (uint32_t) v[1] << 12 | (uint32_t) v[2] << 6 | (uint32_t) v[3];
                out[n++] = (uint8_t) (x >> 16);
                if (s[i + 2] != '=')
                        out[n++] = (uint8_t) (x >> 8);
                if (s[i + 3] != '=')
                        out[n++] = (uint8_t) x;
        }
        *ret = TAKE_PTR(out);
        *ret_len = n;
        return 0;
}

/* What is wrong with an authorized_keys line, or NULL: a key type OpenSSH
 * knows, then base64 that decodes to a key blob of that very type. */
static const char *ssh_key_problem(const char *line) {
        static const char *const types[] = {
                "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
                "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com", NULL,
        };
        if (strpbrk(line, "\n\r"))
                return "one key a line";
        size_t tl = strcspn(line, " \t");
        const char *type = NULL;
        for (size_t i = 0; types[i]; i++)
                if (strlen(types[i]) == tl && strneq(line, types[i], tl))
                        type = types[i];
        if (!type)
                return "not a key type OpenSSH knows (ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256, ...)";
        const char *b = line + tl;
        b += strspn(b, " \t");
        size_t bl = strcspn(b, " \t");
        _cleanup_free_ uint8_t *blob = NULL;
        size_t n = 0;
        if (bl == 0 || b64_decode(b, bl, &blob, &n) < 0)
                return "its key is not base64";
        if (n < 4 + tl || blob[0] || blob[1] || blob[2] != 0 || blob[3] != tl || memcmp(blob + 4, type, tl) != 0)
                return "its key is not a key of that type";
        return NULL;
}

/* A crypt(5) hash, or what is wrong with it. */
static const char *hash_problem(const char *h) {
#define CRYPT64 "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        _cleanup_strv_free_ char **f = NULL;
        if (h[0] != '$' || strpbrk(h, ": \t\n"))
                return "not a crypt(5) hash";
        /* "$id$[params$]salt$hash": the pieces between the '$'. */
        f = xcalloc(1, sizeof(char *));
        for (const char *p = h + 1; *p;) {
                size_t n = strcspn(p, "$");
                strv_consume(&f, xstrndup(p, n));
                p += n + (p[n] == '$');
        }
        size_t n = strv_length(f);
        const char *hash = n ? f[n - 1] : "";
        if (!only_chars(hash, CRYPT64))
                return "not a crypt(5) hash";
        if (streq(f[0], "y") || streq(f[0], "gy") || streq(f[0], "7"))
                return n == 4 && strlen(hash) == 43 ? NULL : "not a yescrypt hash";
        if (streq(f[0], "6") || streq(f[0], "5")) {
                size_t want = streq(f[0], "6") ? 86 : 43;
                bool rounds = n == 4 && startswith(f[1], "rounds=");
                return (n == 3 || rounds) && strlen(f[n - 2]) <= 16 && strlen(hash) == want ? NULL : "not a SHA-crypt hash";
        }
        if (streq(f[0], "2b") || streq(f[0], "2y") || streq(f[0], "2a"))
                return n == 3 && strlen(f[1]) == 2 && strlen(hash) == 53 ? NULL : "not a bcrypt hash";
        if (streq(f[0], "1"))
                return "an MD5 hash, which anyone can reverse: make a yescrypt one";
        return "not a crypt(5) hash of a kind Debian's login takes (yescrypt $y$, SHA-512 $6$, bcrypt $2b$, ...)";
#undef CRYPT64
}

/* Xen's own OUI 00:16:3e, as xl uses, and three bytes of FNV-1a over
 * "host/domain" (top bit clear, as xl does), so that the same profile gives
 * the same MAC on every install. */
static void derive_mac(const char *host, const char *name, char buf[static 18]) {
        uint32_t h = 2166136261u;
        for (const char *p = host; *p; p++)
                h = (h ^ (uint8_t) *p) * 16777619u;
        h = (h ^ '/') * 16777619u;
        for (const char *p = name; *p; p++)
                h = (h ^ (uint8_t) *p) * 16777619u;
        snprintf(buf, 18, "00:16:3e:%02x:%02x:%02x", (h >> 16) & 0x7f, (h >> 8) & 0xff, h & 0xff);
}

/* ---- singletons ---------------------------------------------------------- */

static void check_distribution(ParseState *s) {
        Distribution *d = &s->p->distribution;
        SectionKind k = SECTION_DISTRIBUTION;
        if (isempty(d->suite) || !only_chars(d->suite, LOWER DIGITS "-"))
                profile_error(s, where(s, &d->head, k, "Suite"),
                              "invalid suite '%s' (expected a Debian suite such as trixie or bookworm)", d->suite);
        if (!isempty(d->mirror) && ((!startswith(d->mirror, "http://") && !startswith(d->mirror, "https://") &&
                                     !startswith(d->mirror, "file:/")) ||
                                    !only_chars(d->mirror, LOWER UPPER DIGITS "-._~:/?#[]@!$&'()*+,;=%")))
                profile_error(s, where(s, &d->head, k, "Mirror"),
                              "invalid mirror '%s' (expected an http://, https:// or file:// URL, or nothing for the build machine's own)",
                              d->mirror);
        if (!isempty(d->keyring) && (d->keyring[0] != '/' || !only_chars(d->keyring, LOWER UPPER DIGITS "/._+-")))
                profile_error(s, where(s, &d->head, k, "Keyring"),
                              "invalid Keyring= '%s' (the absolute path of an OpenPGP keyring on the build machine, such as "
                              "/usr/share/keyrings/my-mirror.gpg)",
                              d->keyring);
        if (!d->components[0])
                profile_error(s, where(s, &d->head, k, "Components"), "Components= is empty (expected at least 'main')");
        for (char **c = d->components; *c; c++)
                if (!only_chars(*c, LOWER "-"))
                        profile_error(s, where(s, &d->head, k, "Components"), "invalid component '%s'", *c);
        if (!streq(d->architecture, "amd64"))
                profile_error(s, where(s, &d->head, k, "Architecture"),
                              "architecture '%s' is not supported (only amd64, for Xen on x86)", d->architecture);
}

/* Package names as apt takes them; the list sorted, each once. */
static void check_package_list(ParseState *s, SectionHead *h, SectionKind kind, const char *key, char **list) {
        for (char **i = list; *i; i++)
                if (!only_chars(*i, LOWER DIGITS "+-.:=") || !isalnum((unsigned char) (*i)[0]))
                        profile_error(s, where(s, h, kind, key), "invalid package name '%s'", *i);
        strv_sort(list);
        size_t w = 0;
        for (size_t r = 0; list[r]; r++) {
                if (w > 0 && streq(list[w - 1], list[r])) {
                        free(list[r]);
                        continue;
                }
                list[w++] = list[r];
        }
        list[w] = NULL;
}

static void check_packages(ParseState *s) {
        Packages *x = &s->p->packages;
        check_package_list(s, &x->head, SECTION_PACKAGES, "Install", x->install);
}

static void check_image(ParseState *s) {
        Image *im = &s->p->image;
        size_t n = strlen(im->label);
        if (n == 0 || n > 32 || !only_chars(im->label, UPPER DIGITS "_"))
                profile_error(s, where(s, &im->head, SECTION_IMAGE, "Label"),
                              "invalid label '%s' (1 to 32 characters among A-Z, 0-9 and '_')", im->label);
        if (!isempty(im->source_date_epoch) &&
            (!only_chars(im->source_date_epoch, DIGITS) || strlen(im->source_date_epoch) > 12))
                profile_error(s, where(s, &im->head, SECTION_IMAGE, "SourceDateEpoch"),
                              "invalid SourceDateEpoch= '%s' (expected seconds since 1970, as 'date +%%s' prints)",
                              im->source_date_epoch);
}

static void check_host(ParseState *s) {
        Host *h = &s->p->host;
        SectionKind k = SECTION_HOST;
        if (isempty(h->hostname))
                profile_error(s, where(s, &h->head, k, "Hostname"), "Hostname= is required in [Host]");
        else if (!valid_hostname(h->hostname))
                profile_error(s, where(s, &h->head, k, "Hostname"),
                              "invalid host name '%s' (a-z, 0-9 and '-', at most 63 characters)", h->hostname);
        if (!isempty(h->domain) && !only_chars(h->domain, LOWER DIGITS "-."))
                profile_error(s, where(s, &h->head, k, "Domain"), "invalid domain '%s'", h->domain);
        if (isempty(h->locale) || !only_chars(h->locale, LOWER UPPER DIGITS "_.@-"))
                profile_error(s, where(s, &h->head, k, "Locale"), "invalid locale '%s' (expected a name such as en_US.UTF-8)",
                              h->locale);
        if (isempty(h->keymap) || !only_chars(h->keymap, LOWER DIGITS "_-"))
                profile_error(s, where(s, &h->head, k, "Keymap"), "invalid keymap '%s' (expected a name such as us or fr)",
                              h->keymap);
        if (isempty(h->timezone) || !only_chars(h->timezone, LOWER UPPER DIGITS "_/+-") || strstr(h->timezone, "..") ||
            h->timezone[0] == '/')
                profile_error(s, where(s, &h->head, k, "Timezone"),
                              "invalid time zone '%s' (expected a name such as Europe/Paris)", h->timezone);
        for (char **key = h->root_authorized_keys; *key; key++) {
                const char *why = ssh_key_problem(*key);
                if (why)
                        profile_error(s, where(s, &h->head, k, "RootAuthorizedKeys"),
                                      "RootAuthorizedKeys= holds something that is not an SSH public key: %s "
                                      "(expected a line such as 'ssh-ed25519 AAAA... comment')",
                                      why);
        }
        const char *hw = isempty(h->root_password_hash) ? NULL : hash_problem(h->root_password_hash);
        if (hw)
                profile_error(s, where(s, &h->head, k, "RootPasswordHash"),
                              "RootPasswordHash= is %s: give a hash, never the password (make one with 'mkpasswd -m yescrypt')", hw);
}

static void check_network(ParseState *s) {
        Network *n = &s->p->network;
        SectionKind k = SECTION_NETWORK;
        if (!valid_ifname(n->bridge))
                profile_error(s, where(s, &n->head, k, "Bridge"), "invalid bridge name '%s' (at most 15 letters, digits, '_', '.' or '-')",
                              n->bridge);
        if (!valid_interface(n->interface))
                profile_error(s, where(s, &n->head, k, "Interface"),
                              "invalid interface '%s' (expected auto, a name such as enp1s0 or a MAC address)", n->interface);
        check_addressing(s, &n->head, k, n->address, n->gateway, n->dns, false);
}

/* [Bridge NAME]: beside [Network]'s, each on a card of its own. */
static void check_bridges(ParseState *s) {
        Profile *p = s->p;
        SectionKind k = SECTION_BRIDGE;
        for (size_t i = 0; i < p->n_bridges; i++) {
                Bridge *b = p->bridges[i];
                if (!valid_ifname(b->head.name))
                        profile_error(s, b->head.loc, "invalid bridge name '%s' (at most 15 letters, digits, '_', '.' or '-')",
                                      b->head.name);
                else if (streq(b->head.name, p->network.bridge))
                        profile_error(s, b->head.loc, "[Bridge %s] is [Network]'s bridge already (Bridge=%s): give it another name",
                                      b->head.name, p->network.bridge);
                if (!valid_interface(b->interface))
                        profile_error(s, where(s, &b->head, k, "Interface"),
                                      "invalid interface '%s' (expected auto, a name such as enp2s0 or a MAC address)", b->interface);
                else if (!streq(b->interface, "auto")) {
                        if (strcasecmp(b->interface, p->network.interface) == 0)
                                profile_error(s, where(s, &b->head, k, "Interface"),
                                              "bridge %s takes interface %s, which [Network]'s bridge %s takes already", b->head.name,
                                              b->interface, p->network.bridge);
                        for (size_t j = 0; j < i; j++)
                                if (strcasecmp(b->interface, p->bridges[j]->interface) == 0)
                                        profile_error(s, where(s, &b->head, k, "Interface"),
                                                      "bridges %s and %s both take interface %s", p->bridges[j]->head.name,
                                                      b->head.name, b->interface);
                }
                check_addressing(s, &b->head, k, b->address, b->gateway, b->dns, true);
        }
}

/* A PCI address, as lspci -D or sysfs write it ("0000:01:00.0"), or without its domain ("01:00.0"). */
static bool valid_pci_address(const char *s) {
        unsigned dom, bus, dev, fn;
        int n = 0;
        if (sscanf(s, "%4x:%2x:%2x.%1x%n", &dom, &bus, &dev, &fn, &n) == 4 && n == (int) strlen(s) && strlen(s) == 12)
                return dev < 32 && fn < 8;
        n = 0;
        if (sscanf(s, "%2x:%2x.%1x%n", &bus, &dev, &fn, &n) == 3 && n == (int) strlen(s) && strlen(s) == 7)
                return dev < 32 && fn < 8;
        return false;
}

/* vendor:device, four hex digits each ("10de:0f00"). */
static bool valid_pci_id(const char *s) {
        return strlen(s) == 9 && s[4] == ':' && strspn(s, "0123456789abcdefABCDEF") == 4 &&
               strspn(s + 5, "0123456789abcdefABCDEF") == 4;
}

/* A kernel module's name ("i915", "nouveau", "snd_hda_intel"). */
static bool valid_driver(const char *s) {
        size_t n = strlen(s);
        return n > 0 && n <= 55 && only_chars(s, LOWER DIGITS "_-") && isalpha((unsigned char) s[0]);
}

/* "usb:1-1.2": a USB port as the kernel names it (bus-port[.port]...). */
static bool valid_usb_port(const char *s) {
        if (!startswith(s, "usb:"))
                return false;
        s += 4;
        size_t n = strlen(s);
        return n >= 3 && n <= 32 && only_chars(s, DIGITS "-.") && isdigit((unsigned char) s[0]) &&
               isdigit((unsigned char) s[n - 1]) && strchr(s, '-') && !strstr(s, "..") && !strstr(s, "-.") && !strstr(s, ".-");
}

/* "name:TEXT": a device whose name (as the kernel gives it) holds TEXT;
 * printable, nothing udev's rules would read as a quote, an escape or a
 * pattern (the seats' rules match ATTRS{name}=="*TEXT*"). */
static bool valid_input_name(const char *s) {
        if (!startswith(s, "name:") || !s[5] || strlen(s) > 128)
                return false;
        for (const unsigned char *c = (const unsigned char *) s + 5; *c; c++)
                if (*c < 0x20 || *c == 0x7f || *c == '"' || *c == '\\' || *c == '*' || *c == '?' || *c == '[' ||
                    *c == ']' || *c == '|')
                        return false;
        return true;
}

/* An ALSA card's id, as /proc/asound/cards shows it ("HDMI", "PCH", "NVidia"). */
static bool valid_alsa_id(const char *s) {
        size_t n = strlen(s);
        return n > 0 && n <= 15 && only_chars(s, LOWER UPPER DIGITS "_-") && isalpha((unsigned char) s[0]);
}

/* A Debian system account's name (adduser's default NAME_REGEX for system users). */
static bool valid_user(const char *s) {
        size_t n = strlen(s);
        return n > 0 && n <= 32 && only_chars(s, LOWER DIGITS "_-") && (islower((unsigned char) s[0]) || s[0] == '_');
}

/* [Seat NAME]: one card each, inputs and sound of its own, one account
 * each, and dom0's memory holds them all. */
static void check_seats(ParseState *s) {
        Profile *p = s->p;
        SectionKind k = SECTION_SEAT;
        uint64_t seats_memory = 0;
        for (size_t i = 0; i < p->n_seats; i++) {
                Seat *t = p->seats[i];
                const char *name = t->head.name;
                /* logind's rule: "seat0", or "seat" and letters, digits, '-' and '_'. */
                if (!startswith(name, "seat") || !name[4] || strlen(name) > 64 || !only_chars(name + 4, LOWER UPPER DIGITS "_-"))
                        profile_error(s, t->head.loc, "invalid seat name '%s' (logind's: 'seat' and letters, digits, '-' or '_', such as seat0 or seat1)", name);
                if (isempty(t->card))
                        profile_error(s, t->head.loc, "seat '%s' has no Card= (a PCI address such as 0000:01:00.0, a driver such as nouveau, vendor:device such as 10de:0f00, or auto)", name);
                else if (!streq(t->card, "auto") && !valid_pci_address(t->card) && !valid_pci_id(t->card) && !valid_driver(t->card))
                        profile_error(s, where(s, &t->head, k, "Card"),
                                      "invalid Card= '%s' of seat '%s' (expected a PCI address such as 0000:01:00.0, a driver such as nouveau, vendor:device such as 10de:0f00, or auto)",
                                      t->card, name);
                else if (!streq(t->card, "auto"))
                        for (size_t j = 0; j < i; j++)
                                if (strcasecmp(t->card, p->seats[j]->card) == 0)
                                        profile_error(s, where(s, &t->head, k, "Card"), "seats %s and %s both take the card '%s'",
                                                      p->seats[j]->head.name, name, t->card);
                if (!t->inputs[0])
                        strv_push(&t->inputs, "auto");
                for (char **in = t->inputs; *in; in++) {
                        if (!streq(*in, "auto") && !valid_usb_port(*in) && !valid_input_name(*in)) {
                                profile_error(s, where(s, &t->head, k, "Input"),
                                              "invalid Input= '%s' of seat '%s' (expected one a line: auto, a USB port such as usb:1-1.2, "
                                              "or name:TEXT, TEXT printable, without quotes or wildcards)",
                                              *in, name);
                                continue;
                        }
                        if (streq(*in, "auto"))
                                continue;
                        for (char **o = t->inputs; o < in; o++)
                                if (streq(*o, *in))
                                        profile_error(s, where(s, &t->head, k, "Input"), "seat '%s' names the input '%s' twice", name, *in);
                        for (size_t j = 0; j < i; j++)
                                if (strv_contains(p->seats[j]->inputs, *in))
                                        profile_error(s, where(s, &t->head, k, "Input"), "seats %s and %s both take the input '%s'",
                                                      p->seats[j]->head.name, name, *in);
                }
                if (!streq(t->audio, "auto") && !streq(t->audio, "none") && !valid_pci_address(t->audio) && !valid_alsa_id(t->audio))
                        profile_error(s, where(s, &t->head, k, "Audio"),
                                      "invalid Audio= '%s' of seat '%s' (expected auto, none, a PCI address or an ALSA card name such as HDMI)",
                                      t->audio, name);
                else if (!streq(t->audio, "auto") && !streq(t->audio, "none"))
                        for (size_t j = 0; j < i; j++)
                                if (strcasecmp(t->audio, p->seats[j]->audio) == 0)
                                        profile_error(s, where(s, &t->head, k, "Audio"), "seats %s and %s both take the sound card '%s'",
                                                      p->seats[j]->head.name, name, t->audio);
                if (!streq(t->application, "kodi"))
                        profile_error(s, where(s, &t->head, k, "Application"), "unknown Application= '%s' of seat '%s' (known: kodi)",
                                      t->application, name);
                if (isempty(t->user)) {
                        free(t->user);
                        t->user = xasprintf("kodi-%s", name);
                }
                if (!valid_user(t->user))
                        profile_error(s, where(s, &t->head, k, "User"),
                                      "invalid User= '%s' of seat '%s' (a system account: lower-case letters, digits, '_' or '-', at most 32)",
                                      t->user, name);
                else if (streq(t->user, "root"))
                        profile_error(s, where(s, &t->head, k, "User"), "seat '%s' cannot run as root: give it an account of its own", name);
                else
                        for (size_t j = 0; j < i; j++)
                                if (streq(t->user, p->seats[j]->user))
                                        profile_error(s, where(s, &t->head, k, "User"),
                                                      "seats %s and %s both run as '%s': each seat needs an account of its own (its own home, no shared lock)",
                                                      p->seats[j]->head.name, name, t->user);
                if (t->memory < 64 * MiB || t->memory % MiB)
                        profile_error(s, where(s, &t->head, k, "Memory"), "Memory= of seat '%s' must be a whole number of MiB, at least 64M", name);
                else
                        seats_memory += t->memory;
        }
        /* dom0's own share stays beside what the seats take. */
        if (p->n_seats && seats_memory && seats_memory <= UINT64_MAX - DOM0_BASE_MEMORY &&
            p->xen.dom0_memory < DOM0_BASE_MEMORY + seats_memory) {
                char a[SIZE_BUF], b[SIZE_BUF], c[SIZE_BUF], d[SIZE_BUF];
                /* Dom0Memory='s line, else the last seat's (the default was not written anywhere). */
                Loc l = where(s, &p->xen.head, SECTION_XEN, "Dom0Memory");
                if (l.line == 0)
                        l = p->seats[p->n_seats - 1]->head.loc;
                profile_error(s, l,
                              "Dom0Memory=%s cannot hold its %zu seat%s (%s) beside dom0's own %s: give dom0 at least %s",
                              format_size(a, p->xen.dom0_memory), p->n_seats, p->n_seats == 1 ? "" : "s", format_size(b, seats_memory),
                              format_size(c, DOM0_BASE_MEMORY), format_size(d, DOM0_BASE_MEMORY + seats_memory));
        }
}

static void check_xen(ParseState *s) {
        Xen *x = &s->p->xen;
        if (x->dom0_memory < 256 * MiB || x->dom0_memory % MiB)
                profile_error(s, where(s, &x->head, SECTION_XEN, "Dom0Memory"),
                              "Dom0Memory= must be a whole number of MiB, at least 256M");
        if (x->dom0_vcpus > 4096)
                profile_error(s, where(s, &x->head, SECTION_XEN, "Dom0VCPUs"), "Dom0VCPUs= is out of range (0 means all)");
        if (strpbrk(x->command_line, "\"\\'$`") || !valid_cmdline(x->command_line))
                profile_error(s, where(s, &x->head, SECTION_XEN, "CommandLine"),
                              "CommandLine= cannot hold quotes, backslashes, '$', '`', control characters or anything but "
                              "UTF-8 (it goes into a GRUB setting)");
        if (strpbrk(x->dom0_command_line, "\"\\'$`") || !valid_cmdline(x->dom0_command_line))
                profile_error(s, where(s, &x->head, SECTION_XEN, "Dom0CommandLine"),
                              "Dom0CommandLine= cannot hold quotes, backslashes, '$', '`', control characters or anything but "
                              "UTF-8 (it goes into a GRUB setting)");
}

/* ---- mount points -------------------------------------------------------- */

typedef struct MountUse {
        const char *path;
        char *what;
        Loc loc;
} MountUse;

/* Takes ownership of what. */
static void check_mount(ParseState *s, MountUse **uses, size_t *n, const char *path, char *what, Loc loc) {
        if (!valid_mount_point(path)) {
                free(what);
                profile_error(s, loc, "invalid mount point '%s' (an absolute path such as /srv/data)", path);
                return;
        }
        for (size_t i = 0; i < *n; i++)
                if (streq((*uses)[i].path, path)) {
                        profile_error(s, loc, "mount point '%s' is used twice (also by %s at %s:%u)", path, (*uses)[i].what,
                                      (*uses)[i].loc.file, (*uses)[i].loc.line);
                        free(what);
                        return;
                }
        *uses = xrealloc(*uses, (*n + 1) * sizeof(MountUse));
        (*uses)[(*n)++] = (MountUse) { path, what, loc };
}

/* ---- disks and partitions ------------------------------------------------ */

static FsType default_format(PartType t) {
        switch (t) {
        case PART_LINUX: return FS_EXT4;
        case PART_ESP: return FS_VFAT;
        case PART_SWAP: return FS_SWAP;
        default: return FS_NONE;
        }
}

static bool format_fits(PartType t, FsType f) {
        switch (t) {
        case PART_LINUX: return f == FS_EXT4 || f == FS_VFAT || f == FS_NONE;
        case PART_ESP: return f == FS_VFAT;
        case PART_SWAP: return f == FS_SWAP;
        default: return f == FS_NONE;
        }
}

static void check_label(ParseState *s, const char *label, FsType f, Loc loc) {
        size_t max = f == FS_VFAT ? 11 : 16;
        if (isempty(label))
                return;
        if (f == FS_NONE)
                profile_error(s, loc, "Label= needs a filesystem (Format= is none)");
        else if (strlen(label) > max || !only_chars(label, LOWER UPPER DIGITS "_-."))
                profile_error(s, loc, "invalid label '%s' for %s (at most %zu letters, digits, '_', '-' or '.')", label,
                              fs_type_to_string(f), max);
}

/* mke2fs -i: from 1K to 64M bytes of filesystem per inode. */
static void check_inode_ratio(ParseState *s, uint64_t ratio, FsType f, Loc loc) {
        if (ratio == 0)
                return;
        if (f != FS_EXT4)
                profile_error(s, loc, "InodeRatio= is for ext4 (this one is Format=%s)", fs_type_to_string(f));
        else if (ratio < 1024 || ratio > 64 * MiB)
                profile_error(s, loc, "InodeRatio= must be from 1K to 64M bytes per inode (mke2fs -i), as in 1M for a store of large files");
}

static void check_disks(ParseState *s, MountUse **mounts, size_t *n_mounts) {
        Profile *p = s->p;
        for (size_t i = 0; i < p->n_disks; i++) {
                Disk *d = p->disks[i];
                const SectionKind k = SECTION_DISK;
                if (d->match_size == 0 && isempty(d->match_model) && isempty(d->match_serial) && isempty(d->match_wwn) &&
                    isempty(d->match_by_id))
                        profile_error(s, d->head.loc,
                                      "disk '%s' has no Match key (give MatchSize=, MatchModel=, MatchSerial=, MatchWWN= or MatchById=)",
                                      d->head.name);
                if (d->match_size_tolerance > 2000)
                        profile_error(s, where(s, &d->head, k, "MatchSizeTolerance"),
                                      "MatchSizeTolerance= above 20%% would match disks of other sizes");
                if (strchr(d->match_by_id, '/') && !startswith(d->match_by_id, "/dev/disk/by-id/"))
                        profile_error(s, where(s, &d->head, k, "MatchById"),
                                      "MatchById= takes a name under /dev/disk/by-id/, not '%s'", d->match_by_id);
                if (!isempty(d->mount)) {
                        if (d->use != DISK_KEEP)
                                profile_error(s, where(s, &d->head, k, "Mount"),
                                              "Mount= is only for a disk with Use=keep (to mount the filesystem it holds)");
                        else {
                                char *what = xasprintf("disk '%s'", d->head.name);
                                check_mount(s, mounts, n_mounts, d->mount, what, where(s, &d->head, k, "Mount"));
                        }
                }
                if (d->mount_partition == 0)
                        profile_error(s, where(s, &d->head, k, "MountPartition"), "MountPartition= counts from 1");
                if (!valid_mount_options(d->mount_options))
                        profile_error(s, where(s, &d->head, k, "MountOptions"), MOUNT_OPTIONS_ERROR, d->mount_options);
        }
}

static void check_partitions(ParseState *s, MountUse **mounts, size_t *n_mounts) {
        Profile *p = s->p;
        const SectionKind k = SECTION_PARTITION;
        for (size_t i = 0; i < p->n_partitions; i++) {
                Partition *x = p->partitions[i];
                const char *dname = x->head.parent;
                Disk *d = profile_find_disk(p, dname);
                if (!d) {
                        profile_error(s, x->head.loc, "partition '%s/%s' is on disk '%s', which has no [Disk %s] section", dname,
                                      x->head.name, dname, dname);
                        continue;
                }
                for (size_t j = 0; j < p->n_disks; j++)
                        if (p->disks[j] == d)
                                x->disk = j;
                if (d->use != DISK_FORMAT) {
                        profile_error(s, x->head.loc,
                                      "partition '%s/%s' is on disk '%s', which has Use=%s: only a disk with Use=format is partitioned",
                                      dname, x->head.name, dname, disk_use_to_string(d->use));
                        continue;
                }
                if (!x->size.rest && x->size.bytes == 0)
                        profile_error(s, x->head.loc, "partition '%s/%s' has no Size= (a size such as 15G, or rest)", dname,
                                      x->head.name);
                else if (!x->size.rest && x->size.bytes % MiB)
                        profile_error(s, where(s, &x->head, k, "Size"),
                                      "Size= of partition '%s/%s' must be a whole number of MiB (partitions are 1 MiB aligned)",
                                      dname, x->head.name);
                if (x->format == FS_AUTO)
                        x->format = default_format(x->type);
                else if (!format_fits(x->type, x->format))
                        profile_error(s, where(s, &x->head, k, "Format"),
                                      "Format=%s does not fit Type=%s (%s)", fs_type_to_string(x->format),
                                      part_type_to_string(x->type),
                                      x->type == PART_LINUX  ? "a linux partition takes ext4, vfat or none"
                                      : x->type == PART_ESP  ? "an EFI system partition is vfat"
                                      : x->type == PART_SWAP ? "a swap partition is swap"
                                                             : "this type holds no filesystem");
                check_label(s, x->label, x->format, where(s, &x->head, k, "Label"));
                check_inode_ratio(s, x->inode_ratio, x->format, where(s, &x->head, k, "InodeRatio"));
                if (!valid_mount_options(x->mount_options))
                        profile_error(s, where(s, &x->head, k, "MountOptions"), MOUNT_OPTIONS_ERROR, x->mount_options);
                if (!isempty(x->mount)) {
                        if (x->format == FS_NONE || x->format == FS_SWAP)
                                profile_error(s, where(s, &x->head, k, "Mount"),
                                              "partition '%s/%s' cannot be mounted: it has no filesystem (Format=%s)", dname,
                                              x->head.name, fs_type_to_string(x->format));
                        else {
                                char *what = xasprintf("partition '%s/%s'", dname, x->head.name);
                                check_mount(s, mounts, n_mounts, x->mount, what, where(s, &x->head, k, "Mount"));
                        }
                }
                if (x->type == PART_LVM) {
                        if (isempty(x->volume_group))
                                profile_error(s, x->head.loc, "partition '%s/%s' has Type=lvm but no VolumeGroup=", dname,
                                              x->head.name);
                        else if (!profile_find_volume_group(p, x->volume_group))
                                profile_error(s, where(s, &x->head, k, "VolumeGroup"),
                                              "partition '%s/%s' names volume group '%s', which has no [VolumeGroup %s] section",
                                              dname, x->head.name, x->volume_group, x->volume_group);
                } else if (!isempty(x->volume_group))
                        profile_error(s, where(s, &x->head, k, "VolumeGroup"), "VolumeGroup= is only for a partition with Type=lvm");
                if (x->preserve) {
                        const char *why = streq(strempty(x->mount), "/") || streq(strempty(x->mount), "/boot") ||
                                                          streq(strempty(x->mount), "/boot/efi")
                                                  ? "the system's own filesystems are made anew on every install"
                                          : x->type == PART_ESP       ? "the EFI system partition is made anew on every install"
                                          : x->type == PART_BIOS_GRUB ? "GRUB's core is written anew on every install"
                                          : x->type == PART_SWAP      ? "a swap partition holds nothing to keep"
                                                                      : NULL;
                        if (why)
                                profile_error(s, where(s, &x->head, k, "Preserve"), "partition '%s/%s' cannot be preserved: %s",
                                              dname, x->head.name, why);
                }
                if (x->type == PART_BIOS_GRUB && d->table != TABLE_GPT)
                        profile_error(s, where(s, &x->head, k, "Type"), "Type=bios_grub needs a disk with Table=gpt");
                /* FAT32, which UEFI firmware reads, needs 65525 clusters (33M
                 * with 512-byte clusters), and GRUB keeps two copies of itself
                 * there (its boot entry's and the removable path's). */
                if (x->type == PART_ESP && !x->size.rest && x->size.bytes && x->size.bytes < ESP_MIN_SIZE)
                        profile_error(s, where(s, &x->head, k, "Size"),
                                      "the EFI system partition '%s/%s' is too small: at least %uM (FAT32, which UEFI firmware "
                                      "reads, needs 65525 clusters, and GRUB keeps two copies of itself there)",
                                      dname, x->head.name, (unsigned) (ESP_MIN_SIZE / MiB));
        }

        /* Per disk: one "rest", a table that holds them all, something to format. */
        for (size_t j = 0; j < p->n_disks; j++) {
                Disk *d = p->disks[j];
                const Partition *rest = NULL;
                size_t count = 0;
                for (size_t i = 0; i < p->n_partitions; i++) {
                        Partition *x = p->partitions[i];
                        if (!streq(x->head.parent, d->head.name))
                                continue;
                        count++;
                        if (!x->size.rest)
                                continue;
                        if (rest)
                                profile_error(s, where(s, &x->head, k, "Size"),
                                              "disk '%s' has a second 'rest' partition '%s' (the first is '%s'): only one can fill the disk",
                                              d->head.name, x->head.name, rest->head.name);
                        else
                                rest = x;
                }
                if (d->use == DISK_FORMAT && count == 0)
                        profile_error(s, d->head.loc, "disk '%s' has Use=format but no partitions (add a [Partition %s/NAME])",
                                      d->head.name, d->head.name);
                if (d->table == TABLE_MSDOS && count > 4)
                        profile_error(s, where(s, &d->head, SECTION_DISK, "Table"),
                                      "disk '%s' has %zu partitions, and Table=msdos holds at most 4", d->head.name, count);
        }
}

/* ---- LVM ----------------------------------------------------------------- */

static void check_volume_groups(ParseState *s, MountUse **mounts, size_t *n_mounts) {
        Profile *p = s->p;
        for (size_t i = 0; i < p->n_volume_groups; i++) {
                VolumeGroup *vg = p->volume_groups[i];
                uint64_t e = vg->extent_size;
                if (e < MiB || (e & (e - 1)))
                        profile_error(s, where(s, &vg->head, SECTION_VOLUME_GROUP, "ExtentSize"),
                                      "ExtentSize= must be a power of two of at least 1M");
                bool has_pv = false;
                for (size_t j = 0; j < p->n_partitions; j++) {
                        Partition *x = p->partitions[j];
                        if (x->type != PART_LVM || !streq(strempty(x->volume_group), vg->head.name))
                                continue;
                        has_pv = true;
                        /* A preserved group keeps its physical volumes; a
                         * physical volume cannot be kept without its group. */
                        if (x->preserve && !vg->preserve)
                                profile_error(s, where(s, &x->head, SECTION_PARTITION, "Preserve"),
                                              "partition '%s/%s' is a physical volume of '%s': it is preserved with its group "
                                              "(give [VolumeGroup %s] Preserve=yes)",
                                              x->head.parent, x->head.name, vg->head.name, vg->head.name);
                        x->preserve = x->preserve || vg->preserve;
                }
                if (!has_pv)
                        profile_error(s, vg->head.loc,
                                      "volume group '%s' has no physical volume (give a partition Type=lvm and VolumeGroup=%s)",
                                      vg->head.name, vg->head.name);
        }
        for (size_t i = 0; i < p->n_volumes; i++) {
                Volume *v = p->volumes[i];
                const SectionKind k = SECTION_VOLUME;
                if (!profile_find_volume_group(p, v->head.parent)) {
                        profile_error(s, v->head.loc, "volume '%s/%s' is in volume group '%s', which has no [VolumeGroup %s] section",
                                      v->head.parent, v->head.name, v->head.parent, v->head.parent);
                        continue;
                }
                if (v->size == 0)
                        profile_error(s, v->head.loc, "volume '%s/%s' has no Size=", v->head.parent, v->head.name);
                check_label(s, v->label, v->format, where(s, &v->head, k, "Label"));
                check_inode_ratio(s, v->inode_ratio, v->format, where(s, &v->head, k, "InodeRatio"));
                if (!valid_mount_options(v->mount_options))
                        profile_error(s, where(s, &v->head, k, "MountOptions"), MOUNT_OPTIONS_ERROR, v->mount_options);
                if (streq(strempty(v->mount), "/") || streq(strempty(v->mount), "/boot") || streq(strempty(v->mount), "/boot/efi"))
                        profile_error(s, where(s, &v->head, k, "Mount"),
                                      "volume '%s/%s' cannot be mounted at %s: the installer and the firmware need it on a "
                                      "partition (give a [Partition] Mount=%s)",
                                      v->head.parent, v->head.name, v->mount, v->mount);
                else if (!isempty(v->mount)) {
                        if (v->format == FS_NONE || v->format == FS_SWAP)
                                profile_error(s, where(s, &v->head, k, "Mount"),
                                              "volume '%s/%s' cannot be mounted: it has no filesystem (Format=%s)", v->head.parent,
                                              v->head.name, fs_type_to_string(v->format));
                        else {
                                char *what = xasprintf("volume '%s/%s'", v->head.parent, v->head.name);
                                check_mount(s, mounts, n_mounts, v->mount, what, where(s, &v->head, k, "Mount"));
                        }
                }
        }
}

/* ---- domains ------------------------------------------------------------- */

static void check_domains(ParseState *s) {
        Profile *p = s->p;
        const SectionKind k = SECTION_DOMAIN;
        for (size_t i = 0; i < p->n_domains; i++) {
                Domain *d = p->domains[i];
                const char *name = d->head.name;
                if (!valid_hostname(name))
                        profile_error(s, d->head.loc, "invalid domain name '%s' (it is also the guest's host name: a-z, 0-9 and '-')",
                                      name);
                if (d->memory == 0)
                        profile_error(s, d->head.loc, "domain '%s' has no Memory=", name);
                else if (d->memory % MiB || d->memory < 64 * MiB)
                        profile_error(s, where(s, &d->head, k, "Memory"), "Memory= of domain '%s' must be a whole number of MiB, at least 64M",
                                      name);
                if (d->disk == 0)
                        profile_error(s, d->head.loc, "domain '%s' has no Disk=", name);
                else if (d->disk % MiB)
                        profile_error(s, where(s, &d->head, k, "Disk"), "Disk= of domain '%s' must be a whole number of MiB", name);
                if (d->swap % MiB)
                        profile_error(s, where(s, &d->head, k, "Swap"), "Swap= of domain '%s' must be a whole number of MiB", name);
                if (d->vcpus == 0 || d->vcpus > 128)
                        profile_error(s, where(s, &d->head, k, "VCPUs"), "VCPUs= of domain '%s' must be between 1 and 128", name);
                if (d->filesystem != FS_EXT4)
                        profile_error(s, where(s, &d->head, k, "Filesystem"),
                                      "Filesystem=%s is not supported for a guest's root (only ext4)", fs_type_to_string(d->filesystem));
                if (isempty(d->volume_group)) {
                        if (p->n_volume_groups == 1) {
                                free(d->volume_group);
                                d->volume_group = xstrdup(p->volume_groups[0]->head.name);
                        } else if (p->n_volume_groups == 0)
                                profile_error(s, d->head.loc,
                                              "domain '%s' needs a volume group for its disks, and the profile declares none", name);
                        else
                                profile_error(s, d->head.loc,
                                              "domain '%s' needs VolumeGroup=: the profile declares several volume groups", name);
                } else if (!profile_find_volume_group(p, d->volume_group))
                        profile_error(s, where(s, &d->head, k, "VolumeGroup"),
                                      "domain '%s' names volume group '%s', which has no [VolumeGroup %s] section", name,
                                      d->volume_group, d->volume_group);
                if (!d->bridges[0])
                        strv_push(&d->bridges, p->network.bridge);
                for (char **b = d->bridges; *b; b++) {
                        if (!profile_has_bridge(p, *b))
                                profile_error(s, where(s, &d->head, k, "Bridge"),
                                              "domain '%s' is attached to bridge '%s', which is neither [Network]'s (%s) nor a [Bridge %s]",
                                              name, *b, p->network.bridge, *b);
                        for (char **c = d->bridges; c < b; c++)
                                if (streq(*c, *b))
                                        profile_error(s, where(s, &d->head, k, "Bridge"),
                                                      "domain '%s' is attached to bridge '%s' twice", name, *b);
                }
                size_t nb = strv_length(d->bridges), nm = strv_length(d->macs);
                if (nm > nb)
                        profile_error(s, where(s, &d->head, k, "MAC"), "domain '%s' has %zu MAC addresses for %zu bridge%s", name, nm,
                                      nb, nb == 1 ? "" : "s");
                for (char **m = d->macs; *m; m++)
                        if (!valid_mac(*m))
                                profile_error(s, where(s, &d->head, k, "MAC"),
                                              "invalid MAC address '%s' (six hex pairs such as 00:16:3e:12:34:56, unicast)", *m);
                /* The first interface's MAC as it always was; the next ones'
                 * from "name/2", "name/3", ... */
                for (size_t m = nm; m < nb; m++) {
                        char buf[18];
                        _cleanup_free_ char *seed = m == 0 ? xstrdup(name) : xasprintf("%s/%zu", name, m + 1);
                        derive_mac(p->host.hostname, seed, buf);
                        strv_push(&d->macs, buf);
                }
                check_addressing(s, &d->head, k, d->address, d->gateway, d->dns, false);
                check_package_list(s, &d->head, k, "Packages", d->packages);
                if (!isempty(d->overlay)) {
                        /* A folder of the profile: it travels with it (into the
                         * image's /etc/hyperion/profile, onto the host). */
                        bool rel = d->overlay[0] != '/' && !strstr(d->overlay, "..") &&
                                   only_chars(d->overlay, LOWER UPPER DIGITS "/._-") && !endswith(d->overlay, "/");
                        _cleanup_free_ char *full = rel ? path_join(p->dir, d->overlay) : NULL;
                        struct stat st;
                        if (!rel)
                                profile_error(s, where(s, &d->head, k, "Overlay"),
                                              "invalid Overlay= '%s' (a folder inside the profile's, such as guests/%s: letters, digits, "
                                              "'/', '.', '_' and '-', no '..')",
                                              d->overlay, name);
                        else if (stat(full, &st) < 0 || !S_ISDIR(st.st_mode))
                                profile_error(s, where(s, &d->head, k, "Overlay"), "Overlay= '%s' of domain '%s': no folder %s", d->overlay,
                                              name, full);
                }

                /* Its volumes are <name>-disk and <name>-swap: nothing else may take those names. */
                for (size_t j = 0; j < p->n_volumes; j++) {
                        Volume *v = p->volumes[j];
                        if (!streq(v->head.parent, d->volume_group))
                                continue;
                        _cleanup_free_ char *dn = xasprintf("%s-disk", name), *sn = xasprintf("%s-swap", name);
                        if (streq(v->head.name, dn) || streq(v->head.name, sn))
                                profile_error(s, v->head.loc, "volume '%s/%s' has the name of a volume of domain '%s' (%s-disk, %s-swap)",
                                              v->head.parent, v->head.name, name, name, name);
                }
                for (char **m = d->macs; *m; m++) {
                        for (char **o = d->macs; o < m; o++)
                                if (strcasecmp(*o, *m) == 0)
                                        profile_error(s, where(s, &d->head, k, "MAC"), "domain '%s' has the MAC address %s twice", name, *m);
                        for (size_t j = 0; j < i; j++)
                                for (char **o = p->domains[j]->macs; *o; o++)
                                        if (strcasecmp(*o, *m) == 0)
                                                profile_error(s, where(s, &d->head, k, "MAC"),
                                                              "domains '%s' and '%s' have the same MAC address %s",
                                                              p->domains[j]->head.name, name, *m);
                }
        }
}

/* ---- the whole ----------------------------------------------------------- */

/* ---- what fits, from the profile alone ------------------------------------- */

/* The smallest disk MatchSize= accepts, and what partitions get of it:
 * as the installer lays them out (1 MiB aligned from 1 MiB, GPT's backup at
 * the end). 0 when the disk is not matched by size. */
static uint64_t smallest_room(const Disk *d) {
        if (!d->match_size)
                return 0;
        uint64_t tol = d->match_size / 10000 * d->match_size_tolerance + d->match_size % 10000 * d->match_size_tolerance / 10000;
        uint64_t size = d->match_size - tol, sectors = size / 512, reserved = 16384 / 512 + 1;
        uint64_t end = d->table == TABLE_GPT ? (sectors > reserved ? (sectors - reserved) * 512 : 0) : sectors * 512;
        end = end / MiB * MiB;
        return end > MiB ? end - MiB : 0;
}

/* Partitions against the smallest disk their disk's MatchSize= accepts,
 * volumes against what their group's physical volumes give there: in
 * checked arithmetic, so that --check refuses what no disk can hold. */
static void check_fit(ParseState *s) {
        Profile *p = s->p;
        uint64_t *pv_size = xcalloc(p->n_partitions + 1, sizeof(uint64_t)); /* 0: unknown */
        for (size_t i = 0; i < p->n_disks; i++) {
                const Disk *d = p->disks[i];
                if (d->use != DISK_FORMAT)
                        continue;
                uint64_t room = smallest_room(d), fixed = 0;
                ssize_t rest = -1;
                bool overflow = false;
                for (size_t j = 0; j < p->n_partitions && !overflow; j++) {
                        const Partition *x = p->partitions[j];
                        if (!streq(x->head.parent, d->head.name))
                                continue;
                        if (x->size.rest)
                                rest = (ssize_t) j;
                        else if (__builtin_add_overflow(fixed, x->size.bytes, &fixed)) {
                                profile_error(s, where(s, &x->head, SECTION_PARTITION, "Size"),
                                              "the partitions of disk '%s' add up to more than 16E with '%s' (no disk is that large)",
                                              d->head.name, x->head.name);
                                overflow = true;
                        } else
                                pv_size[j] = x->size.bytes;
                }
                if (overflow || !room)
                        continue;
                if (fixed > room || (rest >= 0 && room - fixed < MiB)) {
                        char need[SIZE_BUF], has[SIZE_BUF], lab[SIZE_BUF];
                        profile_error(s, where(s, &d->head, SECTION_DISK, "MatchSize"),
                                      "the partitions of disk '%s' need %s%s, and the smallest disk MatchSize=%s accepts holds %s",
                                      d->head.name, rest >= 0 ? "more than " : "", format_size_human(need, fixed),
                                      format_size_decimal(lab, d->match_size), format_size_human(has, room));
                        continue;
                }
                if (rest >= 0)
                        pv_size[rest] = room - fixed;
        }
        for (size_t g = 0; g < p->n_volume_groups; g++) {
                const VolumeGroup *vg = p->volume_groups[g];
                uint64_t e = vg->extent_size, capacity = 0, used = 0;
                bool known = e >= MiB, overflow = false;
                for (size_t j = 0; j < p->n_partitions; j++) {
                        const Partition *x = p->partitions[j];
                        if (x->type != PART_LVM || !streq(strempty(x->volume_group), vg->head.name))
                                continue;
                        if (!pv_size[j])
                                known = false;
                        else if (pv_size[j] > MiB)
                                capacity += (pv_size[j] - MiB) / e * e;
                }
                /* The group's volumes: the host's, and the guests' disks and swap. */
                for (size_t i = 0; i < p->n_volumes + 2 * p->n_domains && !overflow && e >= MiB; i++) {
                        const SectionHead *h;
                        const char *kind, *key;
                        uint64_t size;
                        if (i < p->n_volumes) {
                                const Volume *v = p->volumes[i];
                                if (!streq(v->head.parent, vg->head.name))
                                        continue;
                                h = &v->head, kind = "Volume", key = "Size", size = v->size;
                        } else {
                                const Domain *d = p->domains[(i - p->n_volumes) / 2];
                                bool swap = (i - p->n_volumes) % 2;
                                if (!streq(strempty(d->volume_group), vg->head.name))
                                        continue;
                                h = &d->head, kind = "Domain", key = swap ? "Swap" : "Disk", size = swap ? d->swap : d->disk;
                        }
                        uint64_t up;
                        if (__builtin_add_overflow(size, e - 1, &up) || __builtin_add_overflow(used, up / e * e, &used)) {
                                for (int k = 0; k < _SECTION_MAX; k++)
                                        if (streq(section_defs[k].kind, kind))
                                                profile_error(s, where(s, h, (SectionKind) k, key),
                                                              "the volumes of volume group '%s' add up to more than 16E with '%s' (no "
                                                              "disk is that large)",
                                                              vg->head.name, h->name);
                                overflow = true;
                        }
                }
                if (!overflow && known && capacity && used > capacity) {
                        char a[SIZE_BUF], b[SIZE_BUF];
                        profile_error(s, vg->head.loc,
                                      "volume group '%s' is too small: its volumes need %s, and its physical volumes give %s on the "
                                      "smallest disks their MatchSize= accepts",
                                      vg->head.name, format_size_human(a, used), format_size_human(b, capacity));
                }
        }
        free(pv_size);
        uint64_t memory = p->xen.dom0_memory;
        for (size_t i = 0; i < p->n_domains; i++)
                if (__builtin_add_overflow(memory, p->domains[i]->memory, &memory)) {
                        profile_error(s, where(s, &p->domains[i]->head, SECTION_DOMAIN, "Memory"),
                                      "the guests' memory adds up to more than 16E with '%s' (no machine has that much)",
                                      p->domains[i]->head.name);
                        break;
                }
}

void profile_validate(ParseState *s) {
        Profile *p = s->p;
        _cleanup_free_ MountUse *mounts = NULL;
        size_t n_mounts = 0;

        check_distribution(s);
        check_packages(s);
        check_image(s);
        check_host(s);
        check_network(s);
        check_bridges(s);
        check_xen(s);
        check_disks(s, &mounts, &n_mounts);
        check_partitions(s, &mounts, &n_mounts);
        check_volume_groups(s, &mounts, &n_mounts);
        check_domains(s);
        check_seats(s);
        if (!(*s->errors)[0])
                check_fit(s);

        Loc whole = { p->files[0], 0 };
        bool any_format = false, boots = false, root = false;
        for (size_t i = 0; i < p->n_disks; i++)
                any_format |= p->disks[i]->use == DISK_FORMAT;
        for (size_t i = 0; i < p->n_partitions; i++)
                boots |= p->partitions[i]->type == PART_ESP || p->partitions[i]->type == PART_BIOS_GRUB;
        for (size_t i = 0; i < n_mounts; i++)
                root |= streq(mounts[i].path, "/");
        for (size_t i = 0; i < n_mounts; i++)
                free(mounts[i].what);
        if (!any_format)
                profile_error(s, whole, "no disk has Use=format: there is nowhere to install the system");
        else {
                if (!root)
                        profile_error(s, whole, "no partition or volume is mounted at '/'");
                if (!boots)
                        profile_error(s, whole, "no partition has Type=esp or Type=bios_grub: the installed system could not boot");
        }
}
