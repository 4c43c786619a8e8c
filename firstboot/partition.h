/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * partition.h: partition tables, written with libparted, exactly as planned
 * (starts and sizes to the sector, GPT names and types), and read back to
 * tell whether a disk already holds the planned table (a resumed install).
 */
#pragma once

#include <stdbool.h>

#include "guard.h"
#include "plan.h"

/* Write pd's table to its disk (block device or image file). Guarded. */
int partition_write(const Guard *g, const PlanDisk *pd, const char *what);
/* The device node of partition n of a block device: sda3, nvme0n1p3. */
char *partition_node(const char *disk, unsigned n);
