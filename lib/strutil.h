/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * strutil.h: strings and string vectors.
 *
 * A strv is a NULL-terminated array of malloc'd strings (systemd's strv):
 * strv_push() appends, strv_free() (macro.h) releases.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

/* asprintf() that aborts on out-of-memory. */
char *xasprintf(const char *fmt, ...) _printf_(1, 2);
char *xvasprintf(const char *fmt, va_list ap) _printf_(1, 0);

size_t strv_length(char *const *l);
/* Append a copy of s. */
void strv_push(char ***l, const char *s);
/* Append s itself: the vector takes ownership. */
void strv_consume(char ***l, char *s);
bool strv_contains(char *const *l, const char *s);
char **strv_copy(char *const *l);
/* Split on runs of white space; never returns NULL. */
char **strv_split_ws(const char *s);
/* Split into lines, without empty ones; never returns NULL. */
char **strv_split_lines(const char *s);
/* Join with sep between items; "" for an empty vector. */
char *strv_join(char *const *l, const char *sep);
void strv_sort(char **l);

/* "a/b" from a and b, with exactly one slash between them. */
char *path_join(const char *a, const char *b);

bool startswith(const char *s, const char *prefix);
bool endswith(const char *s, const char *suffix);

/* Strip leading and trailing white space in place; returns s. */
char *strstrip(char *s);

/* Text from outside (a guest's console) made safe to print on a terminal,
 * in place; returns s. Valid UTF-8 other than controls is kept; C0
 * controls and DEL become spaces, C1 controls (U+0080-U+009F: U+009B is
 * CSI on the Linux console) and bytes that are not valid UTF-8 become '?'. */
char *str_terminal_safe(char *s);

/* Levenshtein distance, case-insensitive (for "did you mean"). */
size_t edit_distance(const char *a, const char *b);

/* Quote one argument for display in a log line, the way a shell would
 * read it back. Only for messages: programs are never run through a shell. */
char *shell_quote(const char *arg);
char *argv_to_display(char *const *argv);

/* Read a whole file into a NUL-terminated buffer. Returns 0 or -errno. */
int read_full_file(const char *path, char **ret, size_t *ret_size);
/* The text of dir/name (a sysfs attribute), white space stripped; "" when
 * it cannot be read. */
char *read_attribute(const char *dir, const char *name);
/* Write text to root/rel atomically, logging an error that names the file. */
int write_file_under(const char *root, const char *rel, const char *text, int mode);
/* Write data to path atomically (temporary file, fsync, rename). */
int write_file_atomic(const char *path, const void *data, size_t size, int mode);
