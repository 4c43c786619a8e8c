/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "inventory.h"

#include <errno.h>
#include <ini.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "size.h"
#include "strutil.h"

typedef struct State {
        Inventory *inv;
        InventoryOptions *opts;
        ProbedDisk *cur;
        char *cur_section;
        int error;
} State;

static bool yes(const char *v) {
        return streq(v, "yes");
}

static uint64_t size_or_die(State *s, const char *v) {
        uint64_t r = 0;
        if (parse_size(v, &r) < 0)
                s->error = -EINVAL;
        return r;
}

static char *field(const char *v) {
        return streq(v, "-") ? NULL : xstrdup(v);
}

static int handler(void *user, const char *section, const char *name, const char *value) {
        State *s = user;
        if (streq(section, "Machine")) {
                if (streq(name, "Memory"))
                        s->inv->memory = size_or_die(s, value);
                return 1;
        }
        if (streq(section, "Options")) {
                if (streq(name, "Profile")) {
                        free(s->opts->profile);
                        s->opts->profile = xstrdup(value);
                } else if (streq(name, "Wipe"))
                        s->opts->wipe = yes(value);
                else if (streq(name, "Unattended"))
                        s->opts->unattended = yes(value);
                return 1;
        }
        if (!startswith(section, "Disk "))
                return 0;
        if (!s->cur_section || !streq(s->cur_section, section)) {
                free(s->cur_section);
                s->cur_section = xstrdup(section);
                s->cur = inventory_add(s->inv);
                _cleanup_free_ char *path = xasprintf("/dev/%s", section + 5);
                disk_init(s->cur, path, section + 5);
        }
        ProbedDisk *d = s->cur;
        if (streq(name, "Size"))
                d->size = size_or_die(s, value);
        else if (streq(name, "SectorSize"))
                d->sector_size = (unsigned) atoi(value);
        else if (streq(name, "Model")) {
                free(d->model);
                d->model = xstrdup(value);
        } else if (streq(name, "Serial")) {
                free(d->serial);
                d->serial = xstrdup(value);
        } else if (streq(name, "WWN")) {
                free(d->wwn);
                d->wwn = xstrdup(value);
        } else if (streq(name, "ById")) {
                strv_free(d->by_id);
                d->by_id = strv_split_ws(value);
        } else if (streq(name, "Removable"))
                d->removable = yes(value);
        else if (streq(name, "BootMedium"))
                d->boot_medium = yes(value);
        else if (streq(name, "Table")) {
                free(d->table);
                d->table = xstrdup(value);
        } else if (streq(name, "FsType"))
                d->fstype = field(value);
        else if (streq(name, "Partition")) {
                /* NUMBER START SIZE FSTYPE LABEL UUID, '-' for none */
                _cleanup_strv_free_ char **w = strv_split_ws(value);
                if (strv_length(w) != 6)
                        return 0;
                d->parts = xrealloc(d->parts, (d->n_parts + 1) * sizeof(ProbedPart));
                d->parts[d->n_parts++] = (ProbedPart) {
                        .number = (unsigned) atoi(w[0]),
                        .start = size_or_die(s, w[1]),
                        .size = size_or_die(s, w[2]),
                        .fstype = field(w[3]),
                        .label = field(w[4]),
                        .uuid = field(w[5]),
                };
        } else
                return 0;
        return 1;
}

int inventory_load(const char *path, Inventory *inv, InventoryOptions *opts) {
        *inv = (Inventory) {};
        *opts = (InventoryOptions) { .profile = xstrdup("profiles/hyperion") };
        State s = { .inv = inv, .opts = opts };
        int r = ini_parse(path, handler, &s);
        free(s.cur_section);
        if (r != 0)
                return log_error_errno(EINVAL, "%s:%d: cannot read this inventory line", path, r);
        return s.error;
}
