/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * inventory.h (tests only): a machine's disks described in an INI file, so
 * that plans can be tested without any disk. See tests/data/plans/README.
 */
#pragma once

#include "probe.h"

typedef struct InventoryOptions {
        char *profile; /* relative to the source tree; default profiles/hyperion */
        bool wipe, unattended;
        char **previous; /* Previous= lines: an installed system's layout (a reinstall) */
} InventoryOptions;

int inventory_load(const char *path, Inventory *inv, InventoryOptions *opts);
