/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lvmmeta.h: what an LVM physical volume says of its volume group, read
 * from the disk (its label, then the newest metadata text of its metadata
 * area), with no LVM tool and no device-mapper: the group's name, its
 * extent size, and its logical volumes with their sizes and where their
 * first extents lie. The probe reads it for every physical volume, so that
 * a reinstall can reuse a group and its volumes, and see the ones the
 * profile no longer names. Read-only.
 */
#pragma once

#include <stdint.h>
#include <stddef.h>

typedef struct LvmVolume {
        char *name;
        uint64_t size;      /* bytes: its extents times the extent size */
        char *pv;           /* its first segment's physical volume ("pv0") */
        uint64_t pv_extent; /* and the first extent there */
} LvmVolume;

typedef struct LvmMeta {
        char *vg;
        uint64_t extent_size; /* bytes */
        char *pv;             /* this physical volume's name in the metadata ("pv0") */
        uint64_t pe_start;    /* bytes from the start of this physical volume to its first extent */
        LvmVolume *lvs;
        size_t n_lvs;
} LvmMeta;

/* The physical volume at offset (size bytes, 0: unknown) of fd: 0 and *ret;
 * -ENOENT when it holds no LVM label; -EBADMSG when its metadata does not
 * read. */
int lvm_meta_read(int fd, uint64_t offset, uint64_t size, LvmMeta *ret);
/* The metadata text of a volume group ("vg0 { ... }"); pv_uuid (without
 * dashes, or NULL) picks this physical volume's entry. */
int lvm_meta_parse(const char *text, const char *pv_uuid, LvmMeta *ret);
void lvm_meta_done(LvmMeta *m);
const LvmVolume *lvm_meta_find(const LvmMeta *m, const char *lv);
