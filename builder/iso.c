/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "build.h"
#include "log.h"
#include <errno.h>
int stage_iso(Build *b) {
        (void) b;
        return log_error_errno(ENOSYS, "the iso stage is being written");
}
