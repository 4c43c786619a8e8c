/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "probe.h"
#include "lvmmeta.h"

#include <blkid.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "medium.h"
#include "macro.h"
#include "run.h"
#include "size.h"
#include "strutil.h"

static void blkid_free_probep(blkid_probe *p) {
        if (*p)
                blkid_free_probe(*p);
}

static void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

/* A property of udev's database entry of a device ("E:KEY=value" lines). */
static char *udev_property(const char *db, const char *key) {
        if (!db)
                return NULL;
        size_t k = strlen(key);
        for (const char *l = db; *l;) {
                if (startswith(l, "E:") && strneq(l + 2, key, k) && l[2 + k] == '=') {
                        const char *v = l + 3 + k;
                        return xstrndup(v, strcspn(v, "\n"));
                }
                const char *nl = strchr(l, '\n');
                if (!nl)
                        break;
                l = nl + 1;
        }
        return NULL;
}

/* udev encodes some characters as \xNN (ID_MODEL_ENC). */
static char *udev_decode(const char *s) {
        char *r = xmalloc(strlen(s) + 1), *q = r;
        for (const char *p = s; *p; p++) {
                if (p[0] == '\\' && p[1] == 'x' && isxdigit((unsigned char) p[2]) && isxdigit((unsigned char) p[3])) {
                        char hex[3] = { p[2], p[3], 0 };
                        *q++ = (char) strtoul(hex, NULL, 16);
                        p += 3;
                } else
                        *q++ = *p;
        }
        *q = 0;
        return strstrip(r);
}

/* Replace *field with value unless value is empty (which is freed). */
static void set_str(char **field, char *value) {
        if (isempty(value)) {
                free(value);
                return;
        }
        free(*field);
        *field = value;
}

/* The names under /dev/disk/by-id/ that point at devpath, sorted. */
static char **by_id_links(const char *devpath) {
        char **l = xcalloc(1, sizeof(char *));
        _cleanup_(closedirp) DIR *d = opendir("/dev/disk/by-id");
        if (!d)
                return l;
        char want[PATH_MAX];
        if (!realpath(devpath, want))
                return l;
        struct dirent *e;
        while ((e = readdir(d))) {
                if (e->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *p = path_join("/dev/disk/by-id", e->d_name);
                char got[PATH_MAX];
                if (realpath(p, got) && streq(got, want))
                        strv_push(&l, e->d_name);
        }
        strv_sort(l);
        return l;
}

void disk_init(ProbedDisk *d, const char *path, const char *name) {
        *d = (ProbedDisk) {
                .path = xstrdup(path),
                .name = xstrdup(name),
                .sector_size = 512,
                .model = xstrdup(""),
                .serial = xstrdup(""),
                .wwn = xstrdup(""),
                .by_id = xcalloc(1, sizeof(char *)),
                .table = xstrdup(""),
                .in_use = xcalloc(1, sizeof(char *)),
        };
}

void disk_done(ProbedDisk *d) {
        free(d->path);
        free(d->name);
        free(d->model);
        free(d->serial);
        free(d->wwn);
        strv_free(d->by_id);
        free(d->table);
        for (size_t i = 0; i < d->n_parts; i++) {
                free(d->parts[i].fstype);
                free(d->parts[i].label);
                free(d->parts[i].uuid);
                free(d->parts[i].vg);
                lvm_meta_done(&d->parts[i].lvm);
        }
        lvm_meta_done(&d->lvm);
        free(d->vg);
        free(d->iso_label);
        free(d->iso_uuid);
        free(d->parts);
        free(d->fstype);
        free(d->label);
        free(d->uuid);
        strv_free(d->in_use);
}

void inventory_release(Inventory *inv) {
        for (size_t i = 0; i < inv->n_disks; i++)
                disk_done(&inv->disks[i]);
        free(inv->disks);
        for (size_t i = 0; i < inv->n_nics; i++) {
                free(inv->nics[i].name);
                free(inv->nics[i].mac);
        }
        free(inv->nics);
        free(inv->root_image);
        free(inv->root_image_id);
        free(inv->guest_archive);
        seat_devices_done(&inv->seat_devices);
        *inv = (Inventory) {};
}

ProbedNic *inventory_add_nic(Inventory *inv, const char *name, const char *mac, bool wireless) {
        inv->nics = xrealloc(inv->nics, (inv->n_nics + 1) * sizeof(ProbedNic));
        ProbedNic *n = &inv->nics[inv->n_nics++];
        *n = (ProbedNic) { .name = xstrdup(name), .mac = xstrdup(mac), .wireless = wireless };
        return n;
}

ProbedDisk *inventory_add(Inventory *inv) {
        inv->disks = xrealloc(inv->disks, (inv->n_disks + 1) * sizeof(ProbedDisk));
        ProbedDisk *d = &inv->disks[inv->n_disks++];
        *d = (ProbedDisk) {};
        return d;
}

static uint64_t probe_memory(void) {
        _cleanup_free_ char *t = NULL;
        if (read_full_file("/proc/meminfo", &t, NULL) < 0)
                return 0;
        const char *m = strstr(t, "MemTotal:");
        return m ? strtoull(m + 9, NULL, 10) * 1024 : 0;
}

static const char *blkid_value(blkid_probe pr, const char *name) {
        const char *v = NULL;
        return blkid_probe_lookup_value(pr, name, &v, NULL) == 0 ? v : NULL;
}

static char *dup_or_null(const char *s) {
        return s ? xstrdup(s) : NULL;
}

/* The filesystem or other signature in a range of the disk, if any. */
static void probe_signature(int fd, uint64_t offset, uint64_t size, char **fstype, char **label, char **uuid) {
        _cleanup_(blkid_free_probep) blkid_probe pr = blkid_new_probe();
        if (!pr)
                oom();
        if (blkid_probe_set_device(pr, fd, (blkid_loff_t) offset, (blkid_loff_t) size) < 0)
                return;
        blkid_probe_enable_superblocks(pr, 1);
        blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_LABEL | BLKID_SUBLKS_UUID);
        blkid_probe_enable_partitions(pr, 0);
        if (blkid_do_safeprobe(pr) != 0)
                return;
        *fstype = dup_or_null(blkid_value(pr, "TYPE"));
        *label = dup_or_null(blkid_value(pr, "LABEL"));
        if (uuid)
                *uuid = dup_or_null(blkid_value(pr, "UUID"));
}

/* ---- LVM: which volume group a physical volume belongs to ------------------ */

/* An ext2/3/4 superblock at offset: the bytes in use (its counts, as of
 * its last write), or 0. */
static uint64_t ext4_used(int fd, uint64_t offset) {
        uint8_t sb[1024];
        if (pread(fd, sb, sizeof sb, (off_t) (offset + 1024)) != (ssize_t) sizeof sb || sb[0x38] != 0x53 || sb[0x39] != 0xef)
                return 0;
#define LE32(o) ((uint64_t) sb[o] | (uint64_t) sb[(o) + 1] << 8 | (uint64_t) sb[(o) + 2] << 16 | (uint64_t) sb[(o) + 3] << 24)
        uint64_t blocks = LE32(0x04), free_blocks = LE32(0x0c), log = LE32(0x18);
        if (LE32(0x60) & 0x80) { /* INCOMPAT_64BIT */
                blocks |= LE32(0x150) << 32;
                free_blocks |= LE32(0x158) << 32;
        }
#undef LE32
        if (log > 6 || free_blocks > blocks)
                return 0;
        return (blocks - free_blocks) << (10 + log);
}

char *lvm_vg_name_at(int fd, uint64_t offset, uint64_t size) {
        LvmMeta m;
        if (lvm_meta_read(fd, offset, size, &m) < 0)
                return NULL;
        char *name = TAKE_PTR(m.vg);
        lvm_meta_done(&m);
        return name;
}

int probe_contents(ProbedDisk *d, int fd) {
        _cleanup_(blkid_free_probep) blkid_probe pr = blkid_new_probe();
        if (!pr)
                oom();
        if (blkid_probe_set_device(pr, fd, 0, 0) < 0)
                return log_error_errno(EIO, "cannot probe '%s' with libblkid", d->path);
        blkid_probe_enable_partitions(pr, 1);
        blkid_probe_set_partitions_flags(pr, BLKID_PARTS_ENTRY_DETAILS);
        blkid_probe_enable_superblocks(pr, 1);
        blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_LABEL | BLKID_SUBLKS_UUID);
        int r = blkid_do_safeprobe(pr);
        if (r < 0) {
                /* Several signatures that contradict each other: that is data too. */
                d->ambiguous = true;
                return 0;
        }
        if (r == 1)
                return 0; /* nothing at all */

        const char *pt = blkid_value(pr, "PTTYPE");
        /* A hybrid ISO is a partition table and an iso9660 filesystem at once. */
        const char *type = blkid_value(pr, "TYPE");
        if (pt && type && streq(type, "iso9660")) {
                d->iso_label = dup_or_null(blkid_value(pr, "LABEL"));
                d->iso_uuid = dup_or_null(blkid_value(pr, "UUID"));
        }
        if (!pt) {
                d->fstype = dup_or_null(blkid_value(pr, "TYPE"));
                d->label = dup_or_null(blkid_value(pr, "LABEL"));
                d->uuid = dup_or_null(blkid_value(pr, "UUID"));
                if (d->fstype && streq(d->fstype, "LVM2_member"))
                        if (lvm_meta_read(fd, 0, d->size, &d->lvm) == 0)
                                d->vg = xstrdup(d->lvm.vg);
                return 0;
        }
        set_str(&d->table, xstrdup(pt));
        blkid_partlist ls = blkid_probe_get_partitions(pr);
        int n = ls ? blkid_partlist_numof_partitions(ls) : 0;
        for (int i = 0; i < n; i++) {
                blkid_partition part = blkid_partlist_get_partition(ls, i);
                d->parts = xrealloc(d->parts, (d->n_parts + 1) * sizeof(ProbedPart));
                ProbedPart *x = &d->parts[d->n_parts++];
                *x = (ProbedPart) {
                        .number = (unsigned) blkid_partition_get_partno(part),
                        /* libblkid counts in 512-byte sectors whatever the device's. */
                        .start = (uint64_t) blkid_partition_get_start(part) * 512,
                        .size = (uint64_t) blkid_partition_get_size(part) * 512,
                };
                probe_signature(fd, x->start, x->size, &x->fstype, &x->label, &x->uuid);
                if (x->fstype && (streq(x->fstype, "ext4") || streq(x->fstype, "ext3") || streq(x->fstype, "ext2")))
                        x->fs_used = ext4_used(fd, x->start);
                if (x->fstype && streq(x->fstype, "LVM2_member"))
                        if (lvm_meta_read(fd, x->start, x->size, &x->lvm) == 0)
                                x->vg = xstrdup(x->lvm.vg);
        }
        return 0;
}

/* Size and sector size of an open block device or regular file. */
static int probe_size(ProbedDisk *d, int fd) {
        struct stat st;
        if (fstat(fd, &st) < 0)
                return log_error_errno(errno, "cannot stat '%s': %m", d->path);
        if (S_ISREG(st.st_mode)) {
                d->is_file = true;
                d->size = (uint64_t) st.st_size;
                return 0;
        }
        if (!S_ISBLK(st.st_mode))
                return log_error_errno(ENOTBLK, "'%s' is neither a block device nor an image file", d->path);
        if (ioctl(fd, BLKGETSIZE64, &d->size) < 0)
                return log_error_errno(errno, "cannot read the size of '%s': %m", d->path);
        int ss = 0;
        if (ioctl(fd, BLKSSZGET, &ss) == 0 && ss > 0)
                d->sector_size = (unsigned) ss;
        return 0;
}

/* ---- the machine ----------------------------------------------------------- */

void probe_identity(ProbedDisk *disk, const char *devno) {
        _cleanup_free_ char *sys = xasprintf("/sys/dev/block/%s", devno);
        set_str(&disk->model, read_attribute(sys, "device/model"));
        set_str(&disk->serial, read_attribute(sys, "device/serial"));
        set_str(&disk->wwn, read_attribute(sys, "device/wwid"));
        /* udev knows the ATA serial and WWN, which sysfs does not show. */
        _cleanup_free_ char *dbpath = xasprintf("/run/udev/data/b%s", devno), *db = NULL;
        if (read_full_file(dbpath, &db, NULL) == 0) {
                _cleanup_free_ char *model = udev_property(db, "ID_MODEL_ENC");
                if (model)
                        set_str(&disk->model, udev_decode(model));
                set_str(&disk->serial, udev_property(db, "ID_SERIAL_SHORT"));
                char *wwn = udev_property(db, "ID_WWN_WITH_EXTENSION");
                set_str(&disk->wwn, wwn ? wwn : udev_property(db, "ID_WWN"));
        }
        strv_free(disk->by_id);
        disk->by_id = by_id_links(disk->path);
}

/* "M:m" of the whole disk a block device M:m belongs to (itself when whole). */
static char *whole_disk(unsigned maj, unsigned min) {
        _cleanup_free_ char *sys = xasprintf("/sys/dev/block/%u:%u", maj, min);
        _cleanup_free_ char *part = path_join(sys, "partition");
        if (access(part, F_OK) == 0)
                return read_attribute(sys, "../dev");
        return xasprintf("%u:%u", maj, min);
}

static char *whole_disk_of_devno(dev_t d) {
        return whole_disk(major(d), minor(d));
}

/* The whole disk a loop device's backing file lives on, or the loop itself. */
static char *under_loop(unsigned maj, unsigned min) {
        _cleanup_free_ char *sys = xasprintf("/sys/dev/block/%u:%u", maj, min);
        _cleanup_free_ char *backing = read_attribute(sys, "loop/backing_file");
        struct stat st;
        if (!isempty(backing) && stat(backing, &st) == 0)
                return whole_disk_of_devno(st.st_dev);
        return whole_disk(maj, min);
}

/* The disks ("M:m") the live system runs from: the one mounted as its
 * medium, or, for an ISO file loop-mounted from another disk (live-boot's
 * findiso=), the disk that holds the file. */
static char **mounted_media(void) {
        char **l = xcalloc(1, sizeof(char *));
        _cleanup_free_ char *mi = NULL;
        if (read_full_file("/proc/self/mountinfo", &mi, NULL) < 0)
                return l;
        _cleanup_strv_free_ char **lines = strv_split_lines(mi);
        for (char **line = lines; *line; line++) {
                unsigned maj, min;
                char mp[512];
                if (sscanf(*line, "%*u %*u %u:%u %*s %511s", &maj, &min, mp) != 3)
                        continue;
                if (!streq(mp, "/run/live/medium") && !streq(mp, "/lib/live/mount/medium") && !streq(mp, "/run/live/findiso"))
                        continue;
                strv_consume(&l, under_loop(maj, min));
        }
        return l;
}

/* What the builder wrote of the ISO this system is part of. */
static void medium_identity(char **label, char **uuid) {
        const char *path = getenv("HYPERION_MEDIUM_IDENTITY");
        _cleanup_free_ char *text = NULL;
        *label = *uuid = NULL;
        if (read_full_file(isempty(path) ? MEDIUM_IDENTITY_FILE : path, &text, NULL) < 0)
                return;
        _cleanup_strv_free_ char **lines = strv_split_lines(text);
        for (char **l = lines; *l; l++) {
                if (startswith(*l, "LABEL="))
                        *label = xstrdup(*l + 6);
                else if (startswith(*l, "UUID="))
                        *uuid = xstrdup(*l + 5);
        }
}

static bool same_iso(const char *fstype, const char *label, const char *uuid, const char *want_label, const char *want_uuid) {
        return fstype && streq(fstype, "iso9660") && label && uuid && streq(label, want_label) && streq(uuid, want_uuid);
}

/* Does the disk hold this very ISO (burnt onto it, or in a partition)? */
static bool holds_this_iso(const ProbedDisk *d, const char *label, const char *uuid) {
        if (!label || !uuid)
                return false;
        if (same_iso("iso9660", d->iso_label, d->iso_uuid, label, uuid) || same_iso(d->fstype, d->label, d->uuid, label, uuid))
                return true;
        for (size_t i = 0; i < d->n_parts; i++)
                if (same_iso(d->parts[i].fstype, d->parts[i].label, d->parts[i].uuid, label, uuid))
                        return true;
        return false;
}

/* What uses the block device whole (M:m) or its partitions now: mounts,
 * swap, device-mapper holders (active LVM volumes). For an image file, the
 * loop devices over it. */
static void probe_in_use(ProbedDisk *d, char *const *loops_over_it) {
        _cleanup_strv_free_ char **mine = xcalloc(1, sizeof(char *));
        if (!d->is_file)
                strv_consume(&mine, xasprintf("%u:%u", major(d->devno), minor(d->devno)));
        for (char *const *l = loops_over_it; l && *l; l++)
                strv_push(&mine, *l);
        _cleanup_free_ char *mi = NULL;
        if (read_full_file("/proc/self/mountinfo", &mi, NULL) == 0) {
                _cleanup_strv_free_ char **lines = strv_split_lines(mi);
                for (char **line = lines; *line; line++) {
                        unsigned maj, min;
                        char mp[512];
                        if (sscanf(*line, "%*u %*u %u:%u %*s %511s", &maj, &min, mp) != 3 || maj == 0)
                                continue;
                        _cleanup_free_ char *w = whole_disk(maj, min);
                        if (strv_contains(mine, w))
                                strv_consume(&d->in_use, xasprintf("%u:%u is mounted at %s", maj, min, mp));
                }
        }
        _cleanup_free_ char *swaps = NULL;
        if (read_full_file("/proc/swaps", &swaps, NULL) == 0) {
                _cleanup_strv_free_ char **lines = strv_split_lines(swaps);
                for (char **line = lines + (lines[0] ? 1 : 0); *line; line++) {
                        _cleanup_strv_free_ char **w = strv_split_ws(*line);
                        struct stat st;
                        if (!w[0] || stat(w[0], &st) < 0 || !S_ISBLK(st.st_mode))
                                continue;
                        _cleanup_free_ char *whole = whole_disk_of_devno(st.st_rdev);
                        if (strv_contains(mine, whole))
                                strv_consume(&d->in_use, xasprintf("%s is swap in use", w[0]));
                }
        }
        /* holders: /sys/dev/block/M:m/holders and each partition's */
        for (char **m = mine; *m; m++) {
                _cleanup_free_ char *sys = xasprintf("/sys/dev/block/%s", *m);
                _cleanup_strv_free_ char **dirs = xcalloc(1, sizeof(char *));
                strv_consume(&dirs, path_join(sys, "holders"));
                _cleanup_(closedirp) DIR *dd = opendir(sys);
                struct dirent *e;
                while (dd && (e = readdir(dd))) {
                        _cleanup_free_ char *sub = path_join(sys, e->d_name), *part = path_join(sub, "partition");
                        if (e->d_name[0] != '.' && access(part, F_OK) == 0)
                                strv_consume(&dirs, path_join(sub, "holders"));
                }
                for (char **h = dirs; *h; h++) {
                        _cleanup_(closedirp) DIR *hd = opendir(*h);
                        while (hd && (e = readdir(hd))) {
                                if (e->d_name[0] == '.')
                                        continue;
                                _cleanup_free_ char *dmdir = xasprintf("/sys/block/%s/dm", e->d_name);
                                _cleanup_free_ char *name = read_attribute(dmdir, "name");
                                strv_consume(&d->in_use, isempty(name) ? xasprintf("%s holds it", e->d_name)
                                                                       : xasprintf("%s (%s) is active on it", e->d_name, name));
                        }
                }
        }
}

/* Loop devices ("M:m") whose backing file is the file of st. */
static char **loops_over(const struct stat *st) {
        char **l = xcalloc(1, sizeof(char *));
        _cleanup_(closedirp) DIR *d = opendir("/sys/block");
        struct dirent *e;
        while (d && (e = readdir(d))) {
                if (!startswith(e->d_name, "loop"))
                        continue;
                _cleanup_free_ char *sys = path_join("/sys/block", e->d_name);
                _cleanup_free_ char *backing = read_attribute(sys, "loop/backing_file");
                struct stat bs;
                if (!isempty(backing) && stat(backing, &bs) == 0 && bs.st_dev == st->st_dev && bs.st_ino == st->st_ino)
                        strv_consume(&l, read_attribute(sys, "dev"));
        }
        return l;
}

const ProbedNic *nic_choose(const Inventory *inv, const char *spec, const ProbedNic *const *taken, size_t n_taken) {
        bool is_mac = strlen(spec) == 17 && spec[2] == ':';
        for (size_t i = 0; i < inv->n_nics; i++) {
                const ProbedNic *c = &inv->nics[i];
                bool busy = false;
                for (size_t j = 0; j < n_taken; j++)
                        busy |= taken[j] == c;
                if (streq(spec, "auto") ? !c->wireless && !busy
                    : is_mac        ? c->mac && strcasecmp(c->mac, spec) == 0
                                    : streq(c->name, spec))
                        return c;
        }
        return NULL;
}

/* Physical network cards: a device behind them that is not Xen's (the
 * guests' vifN.M on dom0 have a xen-backend device); by name. */
static void probe_nics(Inventory *inv) {
        struct dirent **list = NULL;
        int n = scandir("/sys/class/net", &list, NULL, alphasort);
        for (int i = 0; i < n; i++) {
                const char *name = list[i]->d_name;
                _cleanup_free_ char *dir = path_join("/sys/class/net", name);
                _cleanup_free_ char *dev = path_join(dir, "device"), *wl = path_join(dir, "wireless"), *phy = path_join(dir, "phy80211");
                _cleanup_free_ char *subsys = path_join(dev, "subsystem"), *target = NULL;
                char buf[PATH_MAX];
                ssize_t k = readlink(subsys, buf, sizeof buf - 1);
                if (k > 0) {
                        buf[k] = 0;
                        target = xstrdup(buf);
                }
                bool xen = target && endswith(target, "/xen-backend");
                if (name[0] != '.' && access(dev, F_OK) == 0 && !xen) {
                        _cleanup_free_ char *mac = read_attribute(dir, "address");
                        inventory_add_nic(inv, name, mac, access(wl, F_OK) == 0 || access(phy, F_OK) == 0);
                }
                free(list[i]);
        }
        free(list);
}

void probe_network(Inventory *inv) {
        probe_nics(inv);
}

char *live_medium_file(const char *env_var, const char *rel) {
        /* Where live-boot mounts the medium it booted from (trixie, bookworm). */
        static const char *const live_media[] = { "/run/live/medium", "/lib/live/mount/medium", NULL };
        const char *env = getenv(env_var);
        if (!isempty(env))
                return access(env, R_OK) == 0 ? xstrdup(env) : NULL;
        for (size_t i = 0; live_media[i]; i++) {
                _cleanup_free_ char *p = path_join(live_media[i], rel);
                if (access(p, R_OK) == 0)
                        return TAKE_PTR(p);
        }
        return NULL;
}

/* Everything but the disks, read once. */
static void probe_machine(Inventory *inv) {
        inv->memory = probe_memory();
        probe_nics(inv);
        inv->efi = access("/sys/firmware/efi", F_OK) == 0;
        _cleanup_free_ char *misc = NULL;
        inv->device_mapper = read_full_file("/proc/misc", &misc, NULL) == 0 && strstr(misc, " device-mapper\n");
        inv->root_image = live_medium_file("HYPERION_ROOT_IMAGE", MEDIUM_ROOT_IMAGE);
        _cleanup_free_ char *sumfile = live_medium_file("HYPERION_ROOT_IMAGE_SHA256", MEDIUM_ROOT_IMAGE_SHA256), *sum = NULL;
        if (sumfile && read_full_file(sumfile, &sum, NULL) == 0 && strlen(sum) >= 64)
                inv->root_image_id = xstrndup(sum, 64);
        inv->guest_archive = live_medium_file("HYPERION_GUEST_ARCHIVE", MEDIUM_GUEST_ARCHIVE);
        const char *sysfs = getenv("HYPERION_SYSFS");
        seat_devices_probe(sysfs && *sysfs ? sysfs : "/sys", &inv->seat_devices);
        if (getrandom(&inv->seed, sizeof inv->seed, 0) != (ssize_t) sizeof inv->seed)
                inv->seed = (uint64_t) time(NULL) ^ ((uint64_t) getpid() << 32);
}

static bool skip_block_device(const char *name) {
        static const char *const prefixes[] = { "loop", "ram", "zram", "dm-", "md", "sr", "fd", "nbd", "zd" };
        for (size_t i = 0; i < ELEMENTSOF(prefixes); i++)
                if (startswith(name, prefixes[i]))
                        return true;
        return false;
}

int probe_system(Inventory *inv) {
        *inv = (Inventory) {};
        /* Serials and by-id names come from udev: let it finish with the
         * disks, and load the graphics cards' drivers (the seats'), first. */
        (void) run((char *[]) { "udevadm", "settle", "--timeout=60", NULL }, &(RunOptions) { .quiet = true });
        probe_machine(inv);
        _cleanup_(closedirp) DIR *d = opendir("/sys/block");
        if (!d)
                return log_error_errno(errno, "cannot list /sys/block: %m");
        _cleanup_strv_free_ char **media = mounted_media();
        _cleanup_free_ char *iso_label = NULL, *iso_uuid = NULL;
        medium_identity(&iso_label, &iso_uuid);
        _cleanup_strv_free_ char **names = xcalloc(1, sizeof(char *));
        struct dirent *e;
        while ((e = readdir(d)))
                if (e->d_name[0] != '.' && !skip_block_device(e->d_name))
                        strv_push(&names, e->d_name);
        strv_sort(names);

        for (char **n = names; *n; n++) {
                _cleanup_free_ char *sys = path_join("/sys/block", *n);
                _cleanup_free_ char *devpath = path_join("/dev", *n);
                _cleanup_free_ char *sectors = read_attribute(sys, "size");
                if (strtoull(sectors, NULL, 10) == 0)
                        continue; /* an empty card reader or drive */

                ProbedDisk *disk = inventory_add(inv);
                disk_init(disk, devpath, *n);
                _cleanup_free_ char *removable = read_attribute(sys, "removable"), *rot = read_attribute(sys, "queue/rotational");
                _cleanup_free_ char *devno = read_attribute(sys, "dev");
                unsigned ma = 0, mi = 0;
                if (sscanf(devno, "%u:%u", &ma, &mi) == 2)
                        disk->devno = makedev(ma, mi);
                disk->removable = streq(removable, "1");
                disk->rotational = streq(rot, "1");
                disk->boot_medium = strv_contains(media, devno);
                probe_identity(disk, devno);

                _cleanup_close_ int fd = open(devpath, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
                if (fd < 0) {
                        log_warning_errno(errno, "cannot open '%s' to read what it holds: %m", devpath);
                        disk->ambiguous = true; /* unknown counts as data */
                        disk->size = strtoull(sectors, NULL, 10) * 512;
                        continue;
                }
                int r = probe_size(disk, fd);
                if (r < 0)
                        return r;
                r = probe_contents(disk, fd);
                if (r < 0)
                        return r;
                disk->boot_medium |= holds_this_iso(disk, iso_label, iso_uuid);
                probe_in_use(disk, NULL);
        }
        return 0;
}

int probe_paths(char *const *paths, Inventory *inv) {
        *inv = (Inventory) {};
        probe_machine(inv);
        _cleanup_free_ char *iso_label = NULL, *iso_uuid = NULL;
        medium_identity(&iso_label, &iso_uuid);
        for (char *const *p = paths; p && *p; p++) {
                const char *b = strrchr(*p, '/');
                ProbedDisk *disk = inventory_add(inv);
                disk_init(disk, *p, b ? b + 1 : *p);
                _cleanup_close_ int fd = open(*p, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
                if (fd < 0)
                        return log_error_errno(errno, "cannot open '%s': %m", *p);
                int r = probe_size(disk, fd);
                if (r < 0)
                        return r;
                struct stat st;
                if (fstat(fd, &st) < 0)
                        return log_error_errno(errno, "cannot stat '%s': %m", *p);
                if (disk->is_file) {
                        disk->devno = st.st_dev;
                        disk->ino = st.st_ino;
                        set_str(&disk->model, xstrdup("image file"));
                } else {
                        disk->devno = st.st_rdev;
                        _cleanup_free_ char *devno = xasprintf("%u:%u", major(st.st_rdev), minor(st.st_rdev));
                        probe_identity(disk, devno);
                }
                r = probe_contents(disk, fd);
                if (r < 0)
                        return r;
                disk->boot_medium |= holds_this_iso(disk, iso_label, iso_uuid);
                _cleanup_strv_free_ char **loops = disk->is_file ? loops_over(&st) : NULL;
                probe_in_use(disk, loops);
        }
        return 0;
}

bool disk_has_data(const ProbedDisk *d) {
        return !isempty(d->table) || d->fstype || d->ambiguous;
}

static char *signature_text(const char *fstype, const char *label) {
        if (!fstype)
                return xstrdup("no signature");
        return label ? xasprintf("%s '%s'", fstype, label) : xstrdup(fstype);
}

char *disk_contents(const ProbedDisk *d) {
        if (d->ambiguous)
                return xstrdup("ambiguous signatures");
        if (d->fstype)
                return signature_text(d->fstype, d->label);
        if (isempty(d->table))
                return xstrdup("blank");
        _cleanup_strv_free_ char **l = xcalloc(1, sizeof(char *));
        for (size_t i = 0; i < d->n_parts; i++) {
                char sz[SIZE_BUF];
                _cleanup_free_ char *sig = signature_text(d->parts[i].fstype, d->parts[i].label);
                strv_consume(&l, xasprintf("%u: %s %s", d->parts[i].number, format_size_human(sz, d->parts[i].size), sig));
        }
        _cleanup_free_ char *j = strv_join(l, ", ");
        return xasprintf("%s%s%s", d->table, d->n_parts ? ": " : " (no partitions)", j);
}

char *disk_describe(const ProbedDisk *d) {
        char sz[SIZE_BUF];
        _cleanup_free_ char *what = disk_contents(d);
        return xasprintf("%-12s %8s  %s%s%s%s%s  holds: %s", d->path, format_size_human_decimal(sz, d->size),
                         isempty(d->model) ? "(no model)" : d->model, isempty(d->serial) ? "" : "  serial ", d->serial,
                         d->removable ? "  removable" : "", d->boot_medium ? "  (boot medium)" : "", what);
}
