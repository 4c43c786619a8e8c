/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lvm.h: physical volumes, volume groups and logical volumes, through
 * liblvm2cmd (LVM's own command library, in this process). Every device an
 * LVM command writes to passes the write guard first.
 *
 * Offline mode (no device-mapper: image-file tests on a kernel without it)
 * writes the metadata only: --driverloaded n, volumes created inactive and
 * unzeroed.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct Lvm {
        void *handle;
        bool offline;
} Lvm;

int lvm_open(Lvm *l, bool offline);
void lvm_close(Lvm *l);
/* One LVM command from an argv ("pvcreate", "--yes", "/dev/sdc1"). Arguments
 * with white space or quotes are refused: liblvm2cmd takes a command line. */
int lvm_run(Lvm *l, char *const *argv);

int lvm_pvcreate(Lvm *l, const char *device);
int lvm_vgcreate(Lvm *l, const char *vg, uint64_t extent_size, char *const *pvs);
int lvm_lvcreate(Lvm *l, const char *vg, const char *lv, uint64_t size);
