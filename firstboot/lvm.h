/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lvm.h: physical volumes, volume groups and logical volumes, through
 * liblvm2cmd (LVM's own command library, in this process). Every device an
 * LVM command writes to passes the write guard first (lvcreate writes its
 * metadata, and wipes signatures, on every physical volume of the group).
 *
 * Offline mode (no device-mapper: image-file tests on a kernel without it)
 * writes the metadata only: --driverloaded n, volumes created inactive and
 * unzeroed.
 *
 * What a step already did is read back (lvm_lv_size), so that a step cut
 * between LVM's write and its journal entry is recognised when run again.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "guard.h"

typedef struct Lvm {
        void *handle;
        bool offline;
        const Guard *guard;
} Lvm;

int lvm_open(Lvm *l, const Guard *g, bool offline);
void lvm_close(Lvm *l);
/* argv as one liblvm2cmd command line; *out gets what it printed (reports). */
int lvm_run(Lvm *l, char *const *argv, char **out);

int lvm_pvcreate(Lvm *l, const char *device, const char *what);
int lvm_vgcreate(Lvm *l, const char *vg, uint64_t extent_size, char *const *pvs, const char *what);
/* pvs: the group's physical volumes, which lvcreate writes to. */
int lvm_lvcreate(Lvm *l, const char *vg, char *const *pvs, const char *lv, uint64_t size, const char *what);
/* VG/LV extended to size bytes (a reinstall's grown volume). */
int lvm_lvextend(Lvm *l, const char *vg, char *const *pvs, const char *lv, uint64_t size, const char *what);
/* The size of VG/LV in bytes: 1, or 0 when there is no such volume. */
int lvm_lv_size(Lvm *l, const char *vg, const char *lv, uint64_t *size);
/* Volumes of VG activated / deactivated (vgchange -a). */
int lvm_activate(Lvm *l, const char *vg, bool on);
