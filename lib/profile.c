/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * profile.c: reading a profile folder (inih), the key tables, defaults.
 * The checks that span sections are in profile-validate.c, the normalised
 * output in profile-print.c; all three share profile-internal.h.
 */
#include <dirent.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "profile-internal.h"
#include "size.h"
#include "strutil.h"

static const char *const disk_use_names[] = { "keep", "format", "ignore", NULL };
static const char *const table_names[] = { "gpt", "msdos", NULL };
static const char *const part_type_names[] = { "linux", "esp", "swap", "lvm", "bios_grub", NULL };
static const char *const fs_names[] = { "none", "ext4", "vfat", "swap", NULL };
static const char *const guest_type_names[] = { "pvh", "pv", NULL };
static const char *const compression_names[] = { "zstd", "xz", "gzip", "lz4", "lzo", NULL };
static const char *const overlay_owner_names[] = { "root", "keep", NULL };

const char *disk_use_to_string(DiskUse u) {
        return u >= 0 && u < _DISK_USE_MAX ? disk_use_names[u] : "?";
}
const char *table_type_to_string(TableType t) {
        return t >= 0 && t < _TABLE_MAX ? table_names[t] : "?";
}
const char *part_type_to_string(PartType t) {
        return t >= 0 && t < _PART_TYPE_MAX ? part_type_names[t] : "?";
}
const char *fs_type_to_string(FsType t) {
        return t >= 0 && t < _FS_TYPE_MAX ? fs_names[t] : "auto";
}
const char *guest_type_to_string(GuestType t) {
        return t >= 0 && t < _GUEST_TYPE_MAX ? guest_type_names[t] : "?";
}
const char *compression_to_string(Compression c) {
        return c >= 0 && c < _COMP_MAX ? compression_names[c] : "?";
}

/* ---- key tables ---------------------------------------------------------- */

#define KEY(n, t, s, f) { .name = (n), .type = (t), .offset = offsetof(s, f) }
#define KEY_ENUM(n, s, f, vals) { .name = (n), .type = K_ENUM, .offset = offsetof(s, f), .names = (vals) }

static const KeyDef distribution_keys[] = {
        KEY("Suite", K_STRING, Distribution, suite),
        KEY("Mirror", K_STRING, Distribution, mirror),
        KEY("Keyring", K_STRING, Distribution, keyring),
        KEY("Components", K_STRV_WS, Distribution, components),
        KEY("Architecture", K_STRING, Distribution, architecture),
};

static const KeyDef packages_keys[] = {
        KEY("Install", K_STRV_WS, Packages, install),
};

static const KeyDef image_keys[] = {
        KEY("Label", K_STRING, Image, label),
        KEY_ENUM("Compression", Image, compression, compression_names),
        KEY("SourceDateEpoch", K_STRING, Image, source_date_epoch),
        KEY_ENUM("OverlayOwners", Image, overlay_owners, overlay_owner_names),
};

static const KeyDef host_keys[] = {
        KEY("Hostname", K_STRING, Host, hostname),
        KEY("Domain", K_STRING, Host, domain),
        KEY("Locale", K_STRING, Host, locale),
        KEY("Keymap", K_STRING, Host, keymap),
        KEY("Timezone", K_STRING, Host, timezone),
        KEY("RootAuthorizedKeys", K_STRV_LINE, Host, root_authorized_keys),
        KEY("RootPasswordHash", K_STRING, Host, root_password_hash),
        KEY("RootPassword", K_REJECT, Host, root_password),
        KEY("KeepIdentity", K_BOOL, Host, keep_identity),
};

static const KeyDef network_keys[] = {
        KEY("Bridge", K_STRING, Network, bridge),
        KEY("Interface", K_STRING, Network, interface),
        KEY("Address", K_STRING, Network, address),
        KEY("Gateway", K_STRING, Network, gateway),
        KEY("DNS", K_STRV_WS, Network, dns),
};

static const KeyDef xen_keys[] = {
        KEY("Dom0Memory", K_SIZE, Xen, dom0_memory),
        KEY("Dom0VCPUs", K_UINT, Xen, dom0_vcpus),
        KEY("Ballooning", K_BOOL, Xen, ballooning),
        KEY("DefaultEntry", K_BOOL, Xen, default_entry),
        KEY("CommandLine", K_STRING, Xen, command_line),
        KEY("Dom0CommandLine", K_STRING, Xen, dom0_command_line),
};

static const KeyDef disk_keys[] = {
        KEY("MatchSize", K_SIZE_DECIMAL, Disk, match_size),
        KEY("MatchSizeTolerance", K_PERCENT, Disk, match_size_tolerance),
        KEY("MatchModel", K_STRING, Disk, match_model),
        KEY("MatchSerial", K_STRING, Disk, match_serial),
        KEY("MatchWWN", K_STRING, Disk, match_wwn),
        KEY("MatchById", K_STRING, Disk, match_by_id),
        KEY_ENUM("Use", Disk, use, disk_use_names),
        KEY_ENUM("Table", Disk, table, table_names),
        KEY("Mount", K_STRING, Disk, mount),
        KEY("MountOptions", K_STRING, Disk, mount_options),
        KEY("MountPartition", K_UINT, Disk, mount_partition),
};

static const KeyDef partition_keys[] = {
        KEY("Size", K_SIZE_REST, Partition, size),
        KEY_ENUM("Type", Partition, type, part_type_names),
        KEY_ENUM("Format", Partition, format, fs_names),
        KEY("Label", K_STRING, Partition, label),
        KEY("Mount", K_STRING, Partition, mount),
        KEY("MountOptions", K_STRING, Partition, mount_options),
        KEY("InodeRatio", K_SIZE_UNSET, Partition, inode_ratio),
        KEY("VolumeGroup", K_STRING, Partition, volume_group),
        KEY("Preserve", K_BOOL, Partition, preserve),
};

static const KeyDef volume_group_keys[] = {
        KEY("ExtentSize", K_SIZE, VolumeGroup, extent_size),
        KEY("Preserve", K_BOOL, VolumeGroup, preserve),
};

static const KeyDef volume_keys[] = {
        KEY("Size", K_SIZE, Volume, size),
        KEY_ENUM("Format", Volume, format, fs_names),
        KEY("Label", K_STRING, Volume, label),
        KEY("Mount", K_STRING, Volume, mount),
        KEY("MountOptions", K_STRING, Volume, mount_options),
        KEY("InodeRatio", K_SIZE_UNSET, Volume, inode_ratio),
};

static const KeyDef domain_keys[] = {
        KEY_ENUM("Type", Domain, type, guest_type_names),
        KEY("Memory", K_SIZE, Domain, memory),
        KEY("VCPUs", K_UINT, Domain, vcpus),
        KEY("Disk", K_SIZE, Domain, disk),
        KEY("Swap", K_SIZE, Domain, swap),
        KEY("VolumeGroup", K_STRING, Domain, volume_group),
        KEY("Bridge", K_STRV_WS, Domain, bridges),
        KEY("MAC", K_STRV_WS, Domain, macs),
        KEY("Address", K_STRING, Domain, address),
        KEY("Gateway", K_STRING, Domain, gateway),
        KEY("DNS", K_STRV_WS, Domain, dns),
        KEY_ENUM("Filesystem", Domain, filesystem, fs_names),
        KEY("Autostart", K_BOOL, Domain, autostart),
        KEY("Overlay", K_STRING, Domain, overlay),
        KEY("Packages", K_STRV_WS, Domain, packages),
};

static const KeyDef bridge_keys[] = {
        KEY("Interface", K_STRING, Bridge, interface),
        KEY("Address", K_STRING, Bridge, address),
        KEY("Gateway", K_STRING, Bridge, gateway),
        KEY("DNS", K_STRV_WS, Bridge, dns),
};

static const KeyDef seat_keys[] = {
        KEY("Card", K_STRING, Seat, card),
        KEY("Input", K_STRV_LINE, Seat, inputs),
        KEY("Audio", K_STRING, Seat, audio),
        KEY("Application", K_STRING, Seat, application),
        KEY("User", K_STRING, Seat, user),
        KEY("Memory", K_SIZE, Seat, memory),
};

#define SECTION(k, n, tbl, ex) { .kind = (k), .naming = (n), .keys = (tbl), .n_keys = ELEMENTSOF(tbl), .example = (ex) }

const SectionDef section_defs[_SECTION_MAX] = {
        [SECTION_DISTRIBUTION] = SECTION("Distribution", NAME_NONE, distribution_keys, NULL),
        [SECTION_PACKAGES] = SECTION("Packages", NAME_NONE, packages_keys, NULL),
        [SECTION_IMAGE] = SECTION("Image", NAME_NONE, image_keys, NULL),
        [SECTION_HOST] = SECTION("Host", NAME_NONE, host_keys, NULL),
        [SECTION_NETWORK] = SECTION("Network", NAME_NONE, network_keys, NULL),
        [SECTION_XEN] = SECTION("Xen", NAME_NONE, xen_keys, NULL),
        [SECTION_DISK] = SECTION("Disk", NAME_ONE, disk_keys, "[Disk system]"),
        [SECTION_PARTITION] = SECTION("Partition", NAME_PATH, partition_keys, "[Partition system/root]"),
        [SECTION_VOLUME_GROUP] = SECTION("VolumeGroup", NAME_ONE, volume_group_keys, "[VolumeGroup vg0]"),
        [SECTION_VOLUME] = SECTION("Volume", NAME_PATH, volume_keys, "[Volume vg0/data]"),
        [SECTION_DOMAIN] = SECTION("Domain", NAME_ONE, domain_keys, "[Domain tethys]"),
        [SECTION_BRIDGE] = SECTION("Bridge", NAME_ONE, bridge_keys, "[Bridge wan]"),
        [SECTION_SEAT] = SECTION("Seat", NAME_ONE, seat_keys, "[Seat seat1]"),
};

_Static_assert(ELEMENTSOF(disk_keys) <= PROFILE_MAX_KEYS, "too many keys");
_Static_assert(ELEMENTSOF(domain_keys) <= PROFILE_MAX_KEYS, "too many keys");

int key_index(const SectionDef *def, const char *name) {
        for (size_t i = 0; i < def->n_keys; i++)
                if (streq(def->keys[i].name, name))
                        return (int) i;
        return -1;
}

/* ---- errors -------------------------------------------------------------- */

void profile_error(ParseState *s, Loc loc, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *msg = xvasprintf(fmt, ap);
        va_end(ap);
        /* A message never carries a control character of the input to the terminal. */
        for (char *c = msg; *c; c++)
                if ((unsigned char) *c < 0x20 || *c == 0x7f)
                        *c = '?';
        if (loc.line > 0)
                strv_consume(s->errors, xasprintf("%s:%u: %s", loc.file, loc.line, msg));
        else
                strv_consume(s->errors, xasprintf("%s: %s", loc.file, msg));
}

/* The closest of names[] to word, or NULL when none is close. */
static const char *nearest(const char *word, const char *(*name_at)(const void *, size_t), const void *table, size_t n) {
        const char *best = NULL;
        size_t best_d = SIZE_MAX;
        for (size_t i = 0; i < n; i++) {
                const char *c = name_at(table, i);
                size_t d = edit_distance(word, c);
                if (d < best_d) {
                        best_d = d;
                        best = c;
                }
        }
        size_t len = strlen(word);
        size_t limit = len <= 4 ? 1 : len <= 8 ? 2 : 3;
        return best_d <= limit ? best : NULL;
}

static const char *key_name_at(const void *t, size_t i) {
        return ((const KeyDef *) t)[i].name;
}

static const char *section_name_at(const void *t, size_t i) {
        return ((const SectionDef *) t)[i].kind;
}

static const char *enum_name_at(const void *t, size_t i) {
        return ((const char *const *) t)[i];
}

/* "keep, format or ignore" */
static char *enum_list(const char *const *names) {
        size_t n = 0;
        while (names[n])
                n++;
        _cleanup_free_ char *head = NULL;
        _cleanup_strv_free_ char **l = xcalloc(1, sizeof(char *));
        for (size_t i = 0; i + 1 < n; i++)
                strv_push(&l, names[i]);
        head = strv_join(l, ", ");
        return n > 1 ? xasprintf("%s or %s", head, names[n - 1]) : xstrdup(names[0]);
}

/* ---- sections ------------------------------------------------------------ */

static void head_init(SectionHead *h, const char *name, const char *parent, Loc loc) {
        h->name = name ? xstrdup(name) : NULL;
        h->parent = parent ? xstrdup(parent) : NULL;
        h->loc = loc;
}

void profile_init_defaults(Profile *p) {
        p->distribution.suite = xstrdup("trixie");
        p->distribution.mirror = xstrdup("");
        p->distribution.keyring = xstrdup("");
        p->distribution.components = strv_split_ws("main");
        p->distribution.architecture = xstrdup("amd64");
        p->packages.install = xcalloc(1, sizeof(char *));
        p->image.label = xstrdup("HYPERION");
        p->image.compression = COMP_ZSTD;
        p->image.source_date_epoch = xstrdup("");
        p->host.hostname = xstrdup("");
        p->host.domain = xstrdup("");
        p->host.locale = xstrdup("C.UTF-8");
        p->host.keymap = xstrdup("us");
        p->host.timezone = xstrdup("Etc/UTC");
        p->host.root_authorized_keys = xcalloc(1, sizeof(char *));
        p->host.root_password_hash = xstrdup("");
        p->network.bridge = xstrdup("xenbr0");
        p->network.interface = xstrdup("auto");
        p->network.address = xstrdup("dhcp");
        p->network.gateway = xstrdup("");
        p->network.dns = xcalloc(1, sizeof(char *));
        p->xen.dom0_memory = 1024 * MiB;
        p->xen.dom0_vcpus = 0;
        p->xen.ballooning = false;
        p->xen.default_entry = true;
        p->host.keep_identity = true;
        p->xen.command_line = xstrdup("");
        p->xen.dom0_command_line = xstrdup("");
}

static bool valid_name(const char *s) {
        if (isempty(s) || strlen(s) > 64)
                return false;
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", s[0]))
                return false;
        return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == strlen(s);
}

/* Find a named section of a kind in the profile's arrays. */
static SectionHead *find_named(Profile *p, SectionKind kind, const char *parent, const char *name) {
        SectionHead **arr = NULL;
        size_t n = 0;
        switch (kind) {
        case SECTION_DISK: arr = (SectionHead **) p->disks; n = p->n_disks; break;
        case SECTION_PARTITION: arr = (SectionHead **) p->partitions; n = p->n_partitions; break;
        case SECTION_VOLUME_GROUP: arr = (SectionHead **) p->volume_groups; n = p->n_volume_groups; break;
        case SECTION_VOLUME: arr = (SectionHead **) p->volumes; n = p->n_volumes; break;
        case SECTION_DOMAIN: arr = (SectionHead **) p->domains; n = p->n_domains; break;
        case SECTION_BRIDGE: arr = (SectionHead **) p->bridges; n = p->n_bridges; break;
        case SECTION_SEAT: arr = (SectionHead **) p->seats; n = p->n_seats; break;
        default: return NULL;
        }
        for (size_t i = 0; i < n; i++)
                if (streq(arr[i]->name, name) && (!parent || streq(arr[i]->parent, parent)))
                        return arr[i];
        return NULL;
}

#define APPEND(arr, n, item)                                                 \
        do {                                                                 \
                (arr) = xrealloc((arr), ((n) + 1) * sizeof(*(arr)));         \
                (arr)[(n)++] = (item);                                       \
        } while (0)

static SectionHead *new_named(Profile *p, SectionKind kind, const char *parent, const char *name, Loc loc) {
        switch (kind) {
        case SECTION_DISK: {
                Disk *d = xcalloc(1, sizeof *d);
                head_init(&d->head, name, NULL, loc);
                d->match_size_tolerance = 100;
                d->use = DISK_KEEP;
                d->table = TABLE_GPT;
                d->match_model = xstrdup("");
                d->match_serial = xstrdup("");
                d->match_wwn = xstrdup("");
                d->match_by_id = xstrdup("");
                d->mount = xstrdup("");
                d->mount_options = xstrdup("defaults");
                d->mount_partition = 1;
                APPEND(p->disks, p->n_disks, d);
                return &d->head;
        }
        case SECTION_PARTITION: {
                Partition *x = xcalloc(1, sizeof *x);
                head_init(&x->head, name, parent, loc);
                x->type = PART_LINUX;
                x->format = FS_AUTO;
                x->label = xstrdup("");
                x->mount = xstrdup("");
                x->mount_options = xstrdup("defaults");
                x->volume_group = xstrdup("");
                APPEND(p->partitions, p->n_partitions, x);
                return &x->head;
        }
        case SECTION_VOLUME_GROUP: {
                VolumeGroup *v = xcalloc(1, sizeof *v);
                head_init(&v->head, name, NULL, loc);
                v->extent_size = 4 * MiB;
                APPEND(p->volume_groups, p->n_volume_groups, v);
                return &v->head;
        }
        case SECTION_VOLUME: {
                Volume *v = xcalloc(1, sizeof *v);
                head_init(&v->head, name, parent, loc);
                v->format = FS_EXT4;
                v->label = xstrdup("");
                v->mount = xstrdup("");
                v->mount_options = xstrdup("defaults");
                APPEND(p->volumes, p->n_volumes, v);
                return &v->head;
        }
        case SECTION_DOMAIN: {
                Domain *d = xcalloc(1, sizeof *d);
                head_init(&d->head, name, NULL, loc);
                d->type = GUEST_PVH;
                d->vcpus = 1;
                d->volume_group = xstrdup("");
                d->bridges = xcalloc(1, sizeof(char *));
                d->macs = xcalloc(1, sizeof(char *));
                d->address = xstrdup("dhcp");
                d->gateway = xstrdup("");
                d->dns = xcalloc(1, sizeof(char *));
                d->filesystem = FS_EXT4;
                d->autostart = true;
                d->overlay = xstrdup("");
                d->packages = xcalloc(1, sizeof(char *));
                APPEND(p->domains, p->n_domains, d);
                return &d->head;
        }
        case SECTION_BRIDGE: {
                Bridge *b = xcalloc(1, sizeof *b);
                head_init(&b->head, name, NULL, loc);
                b->interface = xstrdup("auto");
                b->address = xstrdup("none");
                b->gateway = xstrdup("");
                b->dns = xcalloc(1, sizeof(char *));
                APPEND(p->bridges, p->n_bridges, b);
                return &b->head;
        }
        case SECTION_SEAT: {
                Seat *t = xcalloc(1, sizeof *t);
                head_init(&t->head, name, NULL, loc);
                /* Card= has no default: a seat names its card, or "auto". */
                t->card = xstrdup("");
                t->inputs = xcalloc(1, sizeof(char *));
                t->audio = xstrdup("auto");
                t->application = xstrdup("kodi");
                t->user = xstrdup("");
                t->memory = SEAT_MEMORY_DEFAULT;
                APPEND(p->seats, p->n_seats, t);
                return &t->head;
        }
        default:
                return NULL;
        }
}

SectionHead *singleton(Profile *p, SectionKind kind) {
        switch (kind) {
        case SECTION_DISTRIBUTION: return &p->distribution.head;
        case SECTION_PACKAGES: return &p->packages.head;
        case SECTION_IMAGE: return &p->image.head;
        case SECTION_HOST: return &p->host.head;
        case SECTION_NETWORK: return &p->network.head;
        case SECTION_XEN: return &p->xen.head;
        default: return NULL;
        }
}

/* A "[...]" line: find or create its section, or report why not. */
static void open_section(ParseState *s, const char *text, Loc loc) {
        s->cur = NULL;
        s->cur_def = NULL;
        s->cur_skip = true;

        _cleanup_free_ char *t = xstrdup(text);
        strstrip(t);
        char *sp = t + strcspn(t, " \t");
        char *name = NULL;
        if (*sp) {
                *sp = 0;
                name = strstrip(sp + 1);
        }
        int kind = -1;
        for (size_t i = 0; i < _SECTION_MAX; i++)
                if (streq(section_defs[i].kind, t))
                        kind = (int) i;
        if (kind < 0) {
                const char *n = nearest(t, section_name_at, section_defs, _SECTION_MAX);
                if (n)
                        profile_error(s, loc, "unknown section [%s] (did you mean [%s]?)", text, n);
                else
                        profile_error(s, loc, "unknown section [%s]", text);
                return;
        }
        const SectionDef *def = &section_defs[kind];
        SectionHead *h = NULL;

        if (def->naming == NAME_NONE) {
                if (name) {
                        profile_error(s, loc, "section [%s] takes no name, found [%s %s]", def->kind, def->kind, name);
                        return;
                }
                h = singleton(s->p, (SectionKind) kind);
                if (h->loc.line == 0)
                        h->loc = loc;
        } else {
                if (isempty(name)) {
                        profile_error(s, loc, "section [%s] needs a name, as in %s", def->kind, def->example);
                        return;
                }
                _cleanup_free_ char *parent = NULL;
                const char *leaf = name;
                if (def->naming == NAME_PATH) {
                        char *slash = strchr(name, '/');
                        if (!slash) {
                                profile_error(s, loc, "section [%s %s] needs %s, as in %s", def->kind, name,
                                              kind == SECTION_PARTITION ? "DISK/NAME" : "GROUP/NAME", def->example);
                                return;
                        }
                        parent = xstrndup(name, (size_t) (slash - name));
                        leaf = slash + 1;
                        if (!valid_name(parent)) {
                                profile_error(s, loc, "invalid name '%s' in [%s %s] (use letters, digits, '_', '.' and '-')",
                                              parent, def->kind, name);
                                return;
                        }
                }
                if (!valid_name(leaf)) {
                        profile_error(s, loc, "invalid name '%s' in [%s %s] (use letters, digits, '_', '.' and '-')",
                                      leaf, def->kind, name);
                        return;
                }
                SectionHead *old = find_named(s->p, (SectionKind) kind, parent, leaf);
                if (old) {
                        profile_error(s, loc, "duplicate section [%s %s] (first at %s:%u)", def->kind, name,
                                      old->loc.file, old->loc.line);
                        return;
                }
                h = new_named(s->p, (SectionKind) kind, parent, leaf, loc);
        }
        s->cur = h;
        s->cur_def = def;
        s->cur_kind = (SectionKind) kind;
        s->cur_skip = false;
}

/* ---- values -------------------------------------------------------------- */

static int parse_bool(const char *v, bool *ret) {
        static const char *const yes[] = { "yes", "true", "on", "1" }, *const no[] = { "no", "false", "off", "0" };
        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (streq(v, yes[i])) {
                        *ret = true;
                        return 0;
                }
                if (streq(v, no[i])) {
                        *ret = false;
                        return 0;
                }
        }
        return -EINVAL;
}

static int parse_uint(const char *v, unsigned *ret) {
        if (isempty(v) || strspn(v, "0123456789") != strlen(v) || strlen(v) > 9)
                return -EINVAL;
        *ret = (unsigned) strtoul(v, NULL, 10);
        return 0;
}

/* "1%", "0.5%", "2.25%": in basis points. */
static int parse_percent(const char *v, unsigned *ret) {
        size_t n = strlen(v);
        if (n < 2 || v[n - 1] != '%')
                return -EINVAL;
        unsigned whole = 0, frac = 0, digits = 0;
        const char *p = v;
        for (; *p >= '0' && *p <= '9'; p++) {
                whole = whole * 10 + (unsigned) (*p - '0');
                if (whole > 100)
                        return -ERANGE;
        }
        if (p == v)
                return -EINVAL;
        if (*p == '.') {
                for (p++; *p >= '0' && *p <= '9'; p++) {
                        if (++digits > 2)
                                return -EINVAL;
                        frac = frac * 10 + (unsigned) (*p - '0');
                }
                if (digits == 0)
                        return -EINVAL;
                if (digits == 1)
                        frac *= 10;
        }
        if (*p != '%' || p[1])
                return -EINVAL;
        *ret = whole * 100 + frac;
        return *ret > 10000 ? -ERANGE : 0;
}

static void assign_value(ParseState *s, const KeyDef *k, void *field, const char *value, Loc loc) {
        switch (k->type) {
        case K_STRING:
                free(*(char **) field);
                *(char **) field = xstrdup(value);
                return;
        case K_STRV_WS: {
                char ***l = field;
                if (isempty(value)) {
                        strv_free(*l);
                        *l = xcalloc(1, sizeof(char *));
                        return;
                }
                _cleanup_strv_free_ char **add = strv_split_ws(value);
                for (char **i = add; *i; i++)
                        strv_push(l, *i);
                return;
        }
        case K_STRV_LINE: {
                char ***l = field;
                if (isempty(value)) {
                        strv_free(*l);
                        *l = xcalloc(1, sizeof(char *));
                } else
                        strv_push(l, value);
                return;
        }
        case K_SIZE_UNSET:
                if (isempty(value)) {
                        *(uint64_t *) field = 0;
                        return;
                }
                __attribute__((fallthrough));
        case K_SIZE:
        case K_SIZE_DECIMAL: {
                uint64_t v;
                if (parse_size(value, &v) < 0 || v == 0) {
                        profile_error(s, loc, "invalid size '%s' for %s= (expected a number and a unit, as in 256M, 15G or 1TB)",
                                      value, k->name);
                        return;
                }
                *(uint64_t *) field = v;
                return;
        }
        case K_SIZE_REST: {
                SizeOrRest *sr = field;
                if (parse_size_or_rest(value, &sr->bytes, &sr->rest) < 0 || (!sr->rest && sr->bytes == 0)) {
                        *sr = (SizeOrRest) {};
                        profile_error(s, loc, "invalid size '%s' for %s= (expected a number and a unit, as in 256M or 15G, or 'rest')",
                                      value, k->name);
                }
                return;
        }
        case K_BOOL:
                if (parse_bool(value, field) < 0)
                        profile_error(s, loc, "invalid boolean '%s' for %s= (expected yes or no)", value, k->name);
                return;
        case K_UINT:
                if (parse_uint(value, field) < 0)
                        profile_error(s, loc, "invalid number '%s' for %s= (expected a whole number, as in 2)", value, k->name);
                return;
        case K_PERCENT:
                if (parse_percent(value, field) < 0)
                        profile_error(s, loc, "invalid percentage '%s' for %s= (expected 0%% to 100%%, as in 1%%)", value, k->name);
                return;
        case K_ENUM: {
                for (int i = 0; k->names[i]; i++)
                        if (streq(k->names[i], value)) {
                                *(int *) field = i;
                                return;
                        }
                _cleanup_free_ char *list = enum_list(k->names);
                size_t n = 0;
                while (k->names[n])
                        n++;
                const char *near = nearest(value, enum_name_at, k->names, n);
                if (near)
                        profile_error(s, loc, "invalid value '%s' for %s= (did you mean '%s'? expected %s)", value, k->name, near, list);
                else
                        profile_error(s, loc, "invalid value '%s' for %s= (expected %s)", value, k->name, list);
                return;
        }
        case K_REJECT:
                profile_error(s, loc, "clear-text passwords are not accepted in a profile: remove %s= and give RootPasswordHash= "
                              "(a hash from 'mkpasswd -m yescrypt') or RootAuthorizedKeys=", k->name);
                return;
        }
}

static int handler(void *user, const char *section, const char *name, const char *value) {
        ParseState *s = user;
        (void) section; /* we track sections ourselves, with their line numbers */
        Loc loc = { s->file, s->line };

        if (s->line_bad)
                return 1;
        if (!s->cur_def) {
                if (!s->cur_skip)
                        profile_error(s, loc, "key '%s' is outside of any section (put it under a [Section] line)", name);
                return 1;
        }
        if (s->cur_skip)
                return 1;
        int i = key_index(s->cur_def, name);
        if (i < 0) {
                const char *n = nearest(name, key_name_at, s->cur_def->keys, s->cur_def->n_keys);
                const char *sec = s->cur_def->kind;
                _cleanup_free_ char *full = s->cur->parent ? xasprintf("%s %s/%s", sec, s->cur->parent, s->cur->name)
                                           : s->cur->name  ? xasprintf("%s %s", sec, s->cur->name)
                                                           : xstrdup(sec);
                if (n)
                        profile_error(s, loc, "unknown key '%s' in [%s] (did you mean '%s'?)", name, full, n);
                else
                        profile_error(s, loc, "unknown key '%s' in [%s]", name, full);
                return 1;
        }
        const KeyDef *k = &s->cur_def->keys[i];
        /* The first assignment of a list replaces its default; later ones add. */
        if (s->cur->key_loc[i].line == 0 && (k->type == K_STRV_WS || k->type == K_STRV_LINE))
                assign_value(s, k, (char *) s->cur + k->offset, "", loc);
        s->cur->key_loc[i] = loc;
        assign_value(s, k, (char *) s->cur + k->offset, value, loc);
        return 1;
}

/*
 * inih reads lines through us: we count them, and we check each one in the
 * systemd style before inih splits it, so that every message has its line
 * and nothing is accepted that systemd would refuse (inline comments,
 * "Key: value", continuation lines).
 */
static char *reader(char *str, int num, void *stream) {
        ParseState *s = stream;
        if (s->pos >= s->len)
                return NULL;
        const char *start = s->text + s->pos;
        const char *nl = memchr(start, '\n', s->len - s->pos);
        size_t n = nl ? (size_t) (nl - start) + 1 : s->len - s->pos;
        s->pos += n;
        s->line++;
        s->line_bad = false;
        Loc loc = { s->file, s->line };

        _cleanup_free_ char *line = xstrndup(start, n);
        if (memchr(start, 0, n)) {
                profile_error(s, loc, "the file holds a NUL byte: a profile is text");
                s->line_bad = true;
                str[0] = '\n';
                str[1] = 0;
                return str;
        }
        if ((size_t) num < n + 1) {
                profile_error(s, loc, "line too long (at most %d characters)", num - 2);
                s->line_bad = true;
                str[0] = '\n';
                str[1] = 0;
                return str;
        }
        memcpy(str, start, n);
        str[n] = 0;

        char *t = strstrip(line);
        /* UTF-8 byte order mark on the first line: inih skips it. */
        if (s->line == 1 && startswith(t, "\xEF\xBB\xBF"))
                t += 3;
        if (!*t || *t == '#' || *t == ';')
                return str;
        if (*t == '[') {
                size_t m = strlen(t);
                if (t[m - 1] != ']') {
                        profile_error(s, loc, "malformed section line '%s' (expected [Section] or [Section NAME])", t);
                        s->line_bad = true;
                        s->cur = NULL;
                        s->cur_def = NULL;
                        s->cur_skip = true;
                        str[0] = '\n';
                        str[1] = 0;
                        return str;
                }
                t[m - 1] = 0;
                open_section(s, t + 1, loc);
                return str;
        }
        char *eq = strchr(t, '=');
        if (!eq || eq == t || strcspn(t, ":") < (size_t) (eq - t)) {
                profile_error(s, loc, "syntax error in '%s' (expected Key=Value)", t);
                s->line_bad = true;
                str[0] = '\n';
                str[1] = 0;
        }
        return str;
}

static void parse_text(ParseState *s, const char *file, const char *text, size_t len) {
        s->file = file;
        s->text = text;
        s->len = len;
        s->pos = 0;
        s->line = 0;
        s->cur = NULL;
        s->cur_def = NULL;
        s->cur_skip = false;
        /* Systemd's rules, not Python's: no inline comments, no indented
         * continuation lines; lines up to 8 KiB (long SSH keys). */
        ini_allow_multiline = false;
        ini_allow_inline_comments = false;
        ini_use_stack = false;
        ini_allow_realloc = false;
        ini_initial_alloc = 8192;
        ini_max_line = 8192;
        ini_stop_on_first_error = false;
        int r = ini_parse_stream(reader, s, handler, s);
        if (r == -2)
                oom();
        /* Lines inih refuses are refused by reader() first; anything else is a bug. */
        if (r > 0 && !(*s->errors)[0])
                profile_error(s, (Loc) { file, (unsigned) r }, "syntax error");
}

/* ---- loading ------------------------------------------------------------- */

static int conf_filter(const struct dirent *d) {
        return endswith(d->d_name, ".conf") && !streq(d->d_name, "profile.conf") && d->d_name[0] != '.';
}

static char *dir_basename(const char *dir) {
        _cleanup_free_ char *t = xstrdup(dir);
        size_t n = strlen(t);
        while (n > 1 && t[n - 1] == '/')
                t[--n] = 0;
        const char *b = strrchr(t, '/');
        return xstrdup(b ? b + 1 : t);
}

static Profile *profile_new(const char *dir) {
        Profile *p = xcalloc(1, sizeof *p);
        _cleanup_free_ char *d = xstrdup(dir);
        size_t n = strlen(d);
        while (n > 1 && d[n - 1] == '/')
                d[--n] = 0;
        p->dir = TAKE_PTR(d);
        p->name = dir_basename(dir);
        p->files = xcalloc(1, sizeof(char *));
        profile_init_defaults(p);
        return p;
}

static int finish(ParseState *s, Profile **ret) {
        _cleanup_(profile_freep) Profile *p = s->p;
        /* Cross-section checks only make sense on sections that parsed. */
        if (!(*s->errors)[0])
                profile_validate(s);
        if ((*s->errors)[0])
                return -EINVAL;
        *ret = TAKE_PTR(p);
        return 0;
}

int profile_load_strings(const char *dir, char *const *names, char *const *texts, Profile **ret, char ***errors) {
        *errors = xcalloc(1, sizeof(char *));
        ParseState s = { .p = profile_new(dir), .errors = errors };
        for (size_t i = 0; names[i]; i++) {
                char *f = path_join(s.p->dir, names[i]);
                strv_consume(&s.p->files, f);
                parse_text(&s, f, texts[i], strlen(texts[i]));
        }
        return finish(&s, ret);
}

int profile_load(const char *dir, Profile **ret, char ***errors) {
        *errors = xcalloc(1, sizeof(char *));
        ParseState s = { .p = profile_new(dir), .errors = errors };

        _cleanup_strv_free_ char **names = xcalloc(1, sizeof(char *));
        strv_push(&names, "profile.conf");
        struct dirent **list = NULL;
        int n = scandir(s.p->dir, &list, conf_filter, alphasort);
        if (n < 0) {
                int r = -errno;
                strv_consume(errors, xasprintf("%s: cannot read the profile folder: %s", s.p->dir, strerror(-r)));
                profile_free(s.p);
                return r;
        }
        for (int i = 0; i < n; i++) {
                strv_push(&names, list[i]->d_name);
                free(list[i]);
        }
        free(list);

        for (char **name = names; *name; name++) {
                char *f = path_join(s.p->dir, *name);
                strv_consume(&s.p->files, f);
                _cleanup_free_ char *text = NULL;
                size_t len;
                /* A regular file of a sane size: a link to /dev/zero or a FIFO is
                 * refused at once, never read forever. */
                struct stat st;
                int r = stat(f, &st) < 0 ? -errno : !S_ISREG(st.st_mode) ? -EINVAL : st.st_size > PROFILE_MAX_FILE ? -EFBIG : 0;
                if (r == -EINVAL || r == -EFBIG) {
                        strv_consume(errors, r == -EINVAL ? xasprintf("%s: not a regular file: a profile is made of plain files", f)
                                                          : xasprintf("%s: %lld bytes, more than the %u a profile file may have", f,
                                                                      (long long) st.st_size, PROFILE_MAX_FILE));
                        profile_free(s.p);
                        return r;
                }
                if (r == 0)
                        r = read_full_file(f, &text, &len);
                if (r < 0) {
                        strv_consume(errors, xasprintf("%s: cannot read: %s", f, strerror(-r)));
                        profile_free(s.p);
                        return r;
                }
                parse_text(&s, f, text, len);
        }
        return finish(&s, ret);
}

int profile_load_or_complain(const char *dir, Profile **ret) {
        _cleanup_strv_free_ char **errors = NULL;
        int r = profile_load(dir, ret, &errors);
        for (char **e = errors; e && *e; e++)
                fprintf(stderr, "%s\n", *e);
        if (r < 0) {
                size_t n = strv_length(errors);
                log_error("profile '%s' is not valid: %zu error%s", dir, n, n == 1 ? "" : "s");
        }
        return r;
}

/* ---- freeing ------------------------------------------------------------- */

static void head_release(SectionHead *h, const SectionDef *def) {
        for (size_t i = 0; i < def->n_keys; i++) {
                void *field = (char *) h + def->keys[i].offset;
                switch (def->keys[i].type) {
                case K_STRING:
                case K_REJECT:
                        free(*(char **) field);
                        break;
                case K_STRV_WS:
                case K_STRV_LINE:
                        strv_free(*(char ***) field);
                        break;
                default:
                        break;
                }
        }
        free(h->name);
        free(h->parent);
}

#define FREE_ARRAY(arr, n, kind)                                             \
        do {                                                                 \
                for (size_t _i = 0; _i < (n); _i++) {                        \
                        head_release(&(arr)[_i]->head, &section_defs[kind]); \
                        free((arr)[_i]);                                     \
                }                                                            \
                free(arr);                                                   \
        } while (0)

void profile_free(Profile *p) {
        if (!p)
                return;
        for (SectionKind k = 0; k < _SECTION_MAX; k++) {
                SectionHead *h = singleton(p, k);
                if (h)
                        head_release(h, &section_defs[k]);
        }
        FREE_ARRAY(p->disks, p->n_disks, SECTION_DISK);
        FREE_ARRAY(p->partitions, p->n_partitions, SECTION_PARTITION);
        FREE_ARRAY(p->volume_groups, p->n_volume_groups, SECTION_VOLUME_GROUP);
        FREE_ARRAY(p->volumes, p->n_volumes, SECTION_VOLUME);
        FREE_ARRAY(p->domains, p->n_domains, SECTION_DOMAIN);
        FREE_ARRAY(p->bridges, p->n_bridges, SECTION_BRIDGE);
        FREE_ARRAY(p->seats, p->n_seats, SECTION_SEAT);
        strv_free(p->files);
        free(p->dir);
        free(p->name);
        free(p);
}

/* ---- lookups ------------------------------------------------------------- */

Disk *profile_find_disk(const Profile *p, const char *name) {
        return (Disk *) find_named((Profile *) p, SECTION_DISK, NULL, name);
}

VolumeGroup *profile_find_volume_group(const Profile *p, const char *name) {
        return (VolumeGroup *) find_named((Profile *) p, SECTION_VOLUME_GROUP, NULL, name);
}

Domain *profile_find_domain(const Profile *p, const char *name) {
        return (Domain *) find_named((Profile *) p, SECTION_DOMAIN, NULL, name);
}

Bridge *profile_find_bridge(const Profile *p, const char *name) {
        return (Bridge *) find_named((Profile *) p, SECTION_BRIDGE, NULL, name);
}

Seat *profile_find_seat(const Profile *p, const char *name) {
        return (Seat *) find_named((Profile *) p, SECTION_SEAT, NULL, name);
}

char *domain_nics(const Domain *d) {
        _cleanup_strv_free_ char **l = xcalloc(1, sizeof(char *));
        for (size_t i = 0; d->bridges[i]; i++)
                strv_consume(&l, xasprintf("%s (%s)", d->bridges[i], d->macs[i] ? d->macs[i] : "?"));
        return strv_join(l, ", ");
}

bool profile_has_bridge(const Profile *p, const char *name) {
        return streq(p->network.bridge, name) || profile_find_bridge(p, name);
}
