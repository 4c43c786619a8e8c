/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "partition.h"

#include <ctype.h>
#include <errno.h>
#include <parted/parted.h>
#include <string.h>

#include "guard.h"
#include "log.h"
#include "strutil.h"

static void ped_device_destroyp(PedDevice **d) {
        if (*d)
                ped_device_destroy(*d);
}

static void ped_disk_destroyp(PedDisk **d) {
        if (*d)
                ped_disk_destroy(*d);
}

static void ped_constraint_destroyp(PedConstraint **c) {
        if (*c)
                ped_constraint_destroy(*c);
}

/* libparted reports problems through exceptions: keep its message, answer
 * "cancel" (or "ignore" where that is the only safe way on), never ask. */
static char *last_exception;

static PedExceptionOption exception_handler(PedException *ex) {
        free(last_exception);
        last_exception = xstrdup(strempty(ex->message));
        log_debug("libparted: %s", last_exception);
        if (ex->type <= PED_EXCEPTION_WARNING && (ex->options & PED_EXCEPTION_IGNORE))
                return PED_EXCEPTION_IGNORE;
        if (ex->options & PED_EXCEPTION_CANCEL)
                return PED_EXCEPTION_CANCEL;
        return PED_EXCEPTION_UNHANDLED;
}

static int parted_error(const char *what, const char *path) {
        return log_error_errno(EIO, "%s '%s': %s", what, path, last_exception ? last_exception : "libparted failed");
}

char *partition_node(const char *disk, unsigned n) {
        size_t l = strlen(disk);
        /* A name ending in a digit takes a 'p' before the number. */
        return l && isdigit((unsigned char) disk[l - 1]) ? xasprintf("%sp%u", disk, n) : xasprintf("%s%u", disk, n);
}

static const char *fs_name(const Partition *p) {
        switch (p->format) {
        case FS_EXT4: return "ext4";
        case FS_VFAT: return "fat32";
        case FS_SWAP: return "linux-swap(v1)";
        default: return NULL;
        }
}

static int set_flags(PedPartition *part, const Partition *p, const char *path) {
        PedPartitionFlag flag;
        switch (p->type) {
        case PART_ESP: flag = PED_PARTITION_ESP; break;
        case PART_LVM: flag = PED_PARTITION_LVM; break;
        case PART_SWAP: flag = PED_PARTITION_SWAP; break;
        case PART_BIOS_GRUB: flag = PED_PARTITION_BIOS_GRUB; break;
        default: return 0;
        }
        if (!ped_partition_is_flag_available(part, flag)) {
                /* msdos: an ESP is "boot", and swap comes from the filesystem type */
                if (p->type == PART_ESP && ped_partition_is_flag_available(part, PED_PARTITION_BOOT))
                        flag = PED_PARTITION_BOOT;
                else if (p->type == PART_SWAP)
                        return 0;
                else
                        return log_error_errno(EINVAL, "the partition table of '%s' cannot mark a partition %s", path,
                                               part_type_to_string(p->type));
        }
        if (!ped_partition_set_flag(part, flag, 1))
                return parted_error("cannot set the type of a partition of", path);
        return 0;
}

int partition_write(const Guard *g, const PlanDisk *pd, const char *what) {
        const char *path = pd->dev->path;
        _cleanup_free_ char *w = xasprintf("%s: libparted", what);
        int r = guard_write(g, path, w);
        if (r < 0)
                return r;
        ped_exception_set_handler(exception_handler);
        _cleanup_(ped_device_destroyp) PedDevice *dev = ped_device_get(path);
        if (!dev)
                return parted_error("cannot open", path);
        const char *type = pd->disk->table == TABLE_GPT ? "gpt" : "msdos";
        _cleanup_(ped_disk_destroyp) PedDisk *disk = ped_disk_new_fresh(dev, ped_disk_type_get(type));
        if (!disk)
                return parted_error("cannot make a partition table on", path);
        long long ss = dev->sector_size;
        for (size_t i = 0; i < pd->n_parts; i++) {
                const PlanPartition *x = &pd->parts[i];
                PedSector start = (PedSector) (x->start / (uint64_t) ss);
                PedSector end = (PedSector) ((x->start + x->size) / (uint64_t) ss) - 1;
                const char *fs = fs_name(x->part);
                PedPartition *part = ped_partition_new(disk, PED_PARTITION_NORMAL, fs ? ped_file_system_type_get(fs) : NULL,
                                                       start, end);
                if (!part)
                        return parted_error("cannot make a partition on", path);
                /* Exactly where the plan says: no moving for alignment, no rounding. */
                _cleanup_(ped_constraint_destroyp) PedConstraint *c = ped_constraint_exact(&part->geom);
                if (!ped_disk_add_partition(disk, part, c)) {
                        ped_partition_destroy(part);
                        return parted_error("cannot add a partition to", path);
                }
                if (ped_disk_is_flag_available(disk, PED_DISK_CYLINDER_ALIGNMENT))
                        ped_disk_set_flag(disk, PED_DISK_CYLINDER_ALIGNMENT, 0);
                if (ped_disk_type_check_feature(disk->type, PED_DISK_TYPE_PARTITION_NAME) &&
                    !ped_partition_set_name(part, x->part->head.name))
                        return parted_error("cannot name a partition of", path);
                r = set_flags(part, x->part, path);
                if (r < 0)
                        return r;
        }
        if (!ped_disk_commit_to_dev(disk))
                return parted_error("cannot write the partition table of", path);
        /* A block device: the kernel learns of the new partitions. */
        if (dev->type != PED_DEVICE_FILE && !ped_disk_commit_to_os(disk))
                return parted_error("the kernel did not take the new partition table of", path);
        log_info("%s: new %s table, %zu partition%s", path, type, pd->n_parts, pd->n_parts == 1 ? "" : "s");
        return 0;
}
