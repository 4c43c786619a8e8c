/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "size.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "macro.h"

struct unit {
        const char *suffix;
        uint64_t factor;
};

/* Longest suffixes first so that "MiB" is not read as "M" + junk. */
static const struct unit units[] = {
        { "KiB", KiB }, { "MiB", MiB }, { "GiB", GiB }, { "TiB", TiB }, { "PiB", TiB * 1024 },
        { "kB", 1000 }, { "KB", 1000 }, { "MB", 1000000 }, { "GB", 1000000000 },
        { "TB", UINT64_C(1000000000000) }, { "PB", UINT64_C(1000000000000000) },
        { "K", KiB }, { "M", MiB }, { "G", GiB }, { "T", TiB }, { "P", TiB * 1024 },
        { "B", 1 }, { "", 1 },
};

int parse_size(const char *s, uint64_t *ret) {
        if (!s)
                return -EINVAL;
        while (isspace((unsigned char) *s))
                s++;
        if (!isdigit((unsigned char) *s))
                return -EINVAL;

        uint64_t whole = 0;
        const char *p = s;
        for (; isdigit((unsigned char) *p); p++) {
                if (whole > (UINT64_MAX - 9) / 10)
                        return -ERANGE;
                whole = whole * 10 + (uint64_t) (*p - '0');
        }
        /* Up to 9 fraction digits, as numerator/denominator. */
        uint64_t num = 0, den = 1;
        if (*p == '.') {
                p++;
                if (!isdigit((unsigned char) *p))
                        return -EINVAL;
                for (; isdigit((unsigned char) *p); p++) {
                        if (den >= UINT64_C(1000000000))
                                return -EINVAL;
                        num = num * 10 + (uint64_t) (*p - '0');
                        den *= 10;
                }
        }
        const char *suffix = p;
        size_t n = strlen(suffix);
        while (n > 0 && isspace((unsigned char) suffix[n - 1]))
                n--;

        for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                const struct unit *u = &units[i];
                if (strlen(u->suffix) != n || strncasecmp(suffix, u->suffix, n) != 0)
                        continue;
                if (whole > UINT64_MAX / u->factor)
                        return -ERANGE;
                uint64_t v = whole * u->factor;
                if (num) {
                        /* num/den * factor must be a whole number of bytes. */
                        if (u->factor % den != 0 && (num * (u->factor % den)) % den != 0)
                                return -EINVAL;
                        uint64_t frac = (u->factor / den) * num + (u->factor % den) * num / den;
                        if (v > UINT64_MAX - frac)
                                return -ERANGE;
                        v += frac;
                }
                *ret = v;
                return 0;
        }
        return -EINVAL;
}

int parse_size_or_rest(const char *s, uint64_t *ret, bool *rest) {
        if (s && strcasecmp(s, "rest") == 0) {
                *ret = 0;
                *rest = true;
                return 0;
        }
        *rest = false;
        return parse_size(s, ret);
}

static const char *format_exact(char buf[static SIZE_BUF], uint64_t v, uint64_t base, const char *const *names) {
        if (v == 0) {
                snprintf(buf, SIZE_BUF, "0");
                return buf;
        }
        uint64_t f = 1;
        int best = -1;
        for (int i = 0; i < 5; i++) {
                if (i > 0)
                        f *= base;
                if (v % f == 0)
                        best = i;
        }
        f = 1;
        for (int i = 0; i < best; i++)
                f *= base;
        snprintf(buf, SIZE_BUF, "%" PRIu64 "%s", v / f, names[best]);
        return buf;
}

const char *format_size(char buf[static SIZE_BUF], uint64_t v) {
        static const char *const names[] = { "", "K", "M", "G", "T" };
        return format_exact(buf, v, 1024, names);
}

const char *format_size_decimal(char buf[static SIZE_BUF], uint64_t v) {
        static const char *const names[] = { "", "kB", "MB", "GB", "TB" };
        return format_exact(buf, v, 1000, names);
}

static const char *format_human(char buf[static SIZE_BUF], uint64_t v, uint64_t base, const char *const *names) {
        int i = 0;
        uint64_t f = 1;
        while (i < 4 && v / f >= base) {
                f *= base;
                i++;
        }
        /* One decimal, rounded; drop ".0". */
        uint64_t tenths = (v % f * 10 + f / 2) / f + v / f * 10;
        if (i == 0 || tenths % 10 == 0)
                snprintf(buf, SIZE_BUF, "%" PRIu64 "%s", tenths / 10, names[i]);
        else
                snprintf(buf, SIZE_BUF, "%" PRIu64 ".%" PRIu64 "%s", tenths / 10, tenths % 10, names[i]);
        return buf;
}

const char *format_size_human(char buf[static SIZE_BUF], uint64_t v) {
        static const char *const names[] = { "B", "K", "M", "G", "T" };
        return format_human(buf, v, 1024, names);
}

const char *format_size_human_decimal(char buf[static SIZE_BUF], uint64_t v) {
        static const char *const names[] = { "B", "kB", "MB", "GB", "TB" };
        return format_human(buf, v, 1000, names);
}
