/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * profile-internal.h: what profile.c, profile-validate.c and
 * profile-print.c share: the key tables and the parser's state.
 */
#pragma once

#include <stddef.h>

#include "profile.h"

typedef enum SectionKind {
        SECTION_DISTRIBUTION,
        SECTION_PACKAGES,
        SECTION_IMAGE,
        SECTION_HOST,
        SECTION_NETWORK,
        SECTION_XEN,
        SECTION_DISK,
        SECTION_PARTITION,
        SECTION_VOLUME_GROUP,
        SECTION_VOLUME,
        SECTION_DOMAIN,
        SECTION_BRIDGE,
        SECTION_SEAT,
        _SECTION_MAX,
} SectionKind;

typedef enum KeyType {
        K_STRING,       /* char * */
        K_STRV_WS,      /* char **: each assignment adds words; empty resets */
        K_STRV_LINE,    /* char **: each assignment adds one item; empty resets */
        K_SIZE,         /* uint64_t, binary by default, printed binary */
        K_SIZE_UNSET,   /* the same, and empty: 0, not set (printed empty) */
        K_SIZE_DECIMAL, /* uint64_t, printed in decimal units (disk labels) */
        K_SIZE_REST,    /* SizeOrRest */
        K_BOOL,         /* bool */
        K_UINT,         /* unsigned */
        K_PERCENT,      /* unsigned, basis points */
        K_ENUM,         /* an int-sized enum, from names[] */
        K_REJECT,       /* a key we know only to refuse it with a reason */
} KeyType;

typedef struct KeyDef {
        const char *name;
        KeyType type;
        size_t offset;
        const char *const *names;
} KeyDef;

typedef enum Naming { NAME_NONE, NAME_ONE, NAME_PATH } Naming;

typedef struct SectionDef {
        const char *kind;
        Naming naming;
        const KeyDef *keys;
        size_t n_keys;
        const char *example;
} SectionDef;

extern const SectionDef section_defs[_SECTION_MAX];

typedef struct ParseState {
        Profile *p;
        char ***errors;
        /* the file being read */
        const char *file;
        const char *text;
        size_t len, pos;
        unsigned line;
        bool line_bad;
        /* the section we are in */
        SectionHead *cur;
        const SectionDef *cur_def;
        SectionKind cur_kind;
        bool cur_skip;
} ParseState;

void profile_error(ParseState *s, Loc loc, const char *fmt, ...) _printf_(3, 4);
int key_index(const SectionDef *def, const char *name);
SectionHead *singleton(Profile *p, SectionKind kind);
void profile_init_defaults(Profile *p);
void profile_validate(ParseState *s);
