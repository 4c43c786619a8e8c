/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * profile-print.c: the normalised profile. Driven by the same key tables
 * as the parser, so that a key cannot be parsed and forgotten here: every
 * key of every section is printed, defaults included, in table order.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "profile-internal.h"
#include "size.h"
#include "strutil.h"

static void print_key(FILE *f, const KeyDef *k, const void *field) {
        char buf[SIZE_BUF];
        switch (k->type) {
        case K_STRING:
                fprintf(f, "%s=%s\n", k->name, strempty(*(char *const *) field));
                return;
        case K_STRV_WS: {
                _cleanup_free_ char *j = strv_join(*(char **const *) field, " ");
                fprintf(f, "%s=%s\n", k->name, j);
                return;
        }
        case K_STRV_LINE: {
                char **l = *(char **const *) field;
                if (!l || !l[0])
                        fprintf(f, "%s=\n", k->name);
                for (; l && *l; l++)
                        fprintf(f, "%s=%s\n", k->name, *l);
                return;
        }
        case K_SIZE:
        case K_SIZE_UNSET: {
                uint64_t v = *(const uint64_t *) field;
                fprintf(f, "%s=%s\n", k->name, v ? format_size(buf, v) : "");
                return;
        }
        case K_SIZE_DECIMAL: {
                uint64_t v = *(const uint64_t *) field;
                fprintf(f, "%s=%s\n", k->name, v ? format_size_decimal(buf, v) : "");
                return;
        }
        case K_SIZE_REST: {
                const SizeOrRest *sr = field;
                fprintf(f, "%s=%s\n", k->name, sr->rest ? "rest" : sr->bytes ? format_size(buf, sr->bytes) : "");
                return;
        }
        case K_BOOL:
                fprintf(f, "%s=%s\n", k->name, yes_no(*(const bool *) field));
                return;
        case K_UINT:
                fprintf(f, "%s=%u\n", k->name, *(const unsigned *) field);
                return;
        case K_PERCENT: {
                unsigned v = *(const unsigned *) field;
                if (v % 100)
                        fprintf(f, "%s=%u.%02u%%\n", k->name, v / 100, v % 100);
                else
                        fprintf(f, "%s=%u%%\n", k->name, v / 100);
                return;
        }
        case K_ENUM:
                fprintf(f, "%s=%s\n", k->name, k->names[*(const int *) field]);
                return;
        case K_REJECT:
                return;
        }
}

static void print_section(FILE *f, SectionKind kind, const SectionHead *h) {
        const SectionDef *def = &section_defs[kind];
        if (h->parent)
                fprintf(f, "\n[%s %s/%s]\n", def->kind, h->parent, h->name);
        else if (h->name)
                fprintf(f, "\n[%s %s]\n", def->kind, h->name);
        else
                fprintf(f, "\n[%s]\n", def->kind);
        for (size_t i = 0; i < def->n_keys; i++)
                print_key(f, &def->keys[i], (const char *) h + def->keys[i].offset);
}

#define PRINT_ARRAY(f, kind, arr, n)                                    \
        do {                                                            \
                for (size_t _i = 0; _i < (n); _i++)                     \
                        print_section((f), (kind), &(arr)[_i]->head);   \
        } while (0)

void profile_print(const Profile *p, FILE *f) {
        fprintf(f, "# profile '%s', normalised: every key, defaults filled in\n", p->name);
        fprintf(f, "# read from:");
        for (char **i = p->files; *i; i++) {
                const char *b = strrchr(*i, '/');
                fprintf(f, " %s", b ? b + 1 : *i);
        }
        fprintf(f, "\n# Mirror= empty: the mirror named by the build machine's apt sources\n");
        fprintf(f, "# SourceDateEpoch= empty: the date of the mirror's Release file\n");

        for (SectionKind k = 0; k < _SECTION_MAX; k++) {
                const SectionHead *h = singleton((Profile *) p, k);
                if (h)
                        print_section(f, k, h);
        }
        PRINT_ARRAY(f, SECTION_DISK, p->disks, p->n_disks);
        PRINT_ARRAY(f, SECTION_PARTITION, p->partitions, p->n_partitions);
        PRINT_ARRAY(f, SECTION_VOLUME_GROUP, p->volume_groups, p->n_volume_groups);
        PRINT_ARRAY(f, SECTION_VOLUME, p->volumes, p->n_volumes);
        PRINT_ARRAY(f, SECTION_BRIDGE, p->bridges, p->n_bridges);
        PRINT_ARRAY(f, SECTION_DOMAIN, p->domains, p->n_domains);
        PRINT_ARRAY(f, SECTION_SEAT, p->seats, p->n_seats);
}
