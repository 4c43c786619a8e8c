/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "medium.h"

#include <time.h>

#include "strutil.h"

static char *date_as(int64_t epoch, const char *fmt) {
        time_t t = (time_t) epoch;
        struct tm tm;
        gmtime_r(&t, &tm);
        char buf[64];
        strftime(buf, sizeof buf, fmt, &tm);
        return xstrdup(buf);
}

char *medium_iso_date(int64_t epoch) {
        return date_as(epoch, "%Y%m%d%H%M%S00");
}

char *medium_iso_uuid(int64_t epoch) {
        return date_as(epoch, "%Y-%m-%d-%H-%M-%S-00");
}
