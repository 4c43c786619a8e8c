/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * log.h: messages to stderr, and progress of long work.
 *
 * Levels follow syslog: debug < info < notice < warning < error. The level
 * comes from log_set_level() (the programs' -v/-q flags) or from the
 * environment variable HYPERION_LOG_LEVEL (debug, info, notice, warning,
 * error). The _errno variants set errno to the error first, so "%m"
 * prints its text, and return -abs(error), so a caller can write
 *
 *         return log_error_errno(r, "cannot open '%s': %m", path);
 *
 * Messages are lowercase, without a final full stop, the subject in quotes.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "macro.h"

enum {
        LOG_LEVEL_DEBUG,
        LOG_LEVEL_INFO,
        LOG_LEVEL_NOTICE,
        LOG_LEVEL_WARNING,
        LOG_LEVEL_ERROR,
};

void log_set_level(int level);
int log_get_level(void);
/* Parse "debug", "info", ... ; returns the level or -EINVAL. */
int log_level_from_string(const char *s);
/* Read HYPERION_LOG_LEVEL; unknown values are ignored with a warning. */
void log_parse_environment(void);
/* The program name printed in front of errors ("hyperion-build"). */
void log_set_program(const char *name);
/* Also copy every message (at any level) to this stream, e.g. a build log. */
void log_set_file(FILE *f);
/* Never print s (a password in a URL): every message shows "***" instead. */
void log_add_secret(const char *s);

int log_internal(int level, int error, const char *fmt, ...) _printf_(3, 4);
int log_internalv(int level, int error, const char *fmt, va_list ap) _printf_(3, 0);

#define log_debug(...) log_internal(LOG_LEVEL_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_internal(LOG_LEVEL_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_internal(LOG_LEVEL_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_internal(LOG_LEVEL_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_internal(LOG_LEVEL_ERROR, 0, __VA_ARGS__)
#define log_debug_errno(e, ...) log_internal(LOG_LEVEL_DEBUG, (e), __VA_ARGS__)
#define log_info_errno(e, ...) log_internal(LOG_LEVEL_INFO, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_internal(LOG_LEVEL_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...) log_internal(LOG_LEVEL_ERROR, (e), __VA_ARGS__)

/* Monotonic clock in microseconds. */
uint64_t now_usec(void);
/* "1m 23.4s", "850ms": into buf of at least 32 bytes. */
const char *format_duration(char *buf, size_t n, uint64_t usec);

/*
 * Progress of one long step. On a terminal the line is redrawn in place
 * ("[squash]  42%  1m 03s  usr/lib/..."); elsewhere a plain line is printed
 * at most every 10% so that logs stay readable.
 */
typedef struct Progress {
        char *stage;
        uint64_t start;
        int last_percent;
        uint64_t last_draw;
        bool tty;
} Progress;

void progress_begin(Progress *p, const char *stage);
/* Plain lines only, never redrawn in place (two stages run side by side). */
void log_set_plain_progress(bool plain);
/* percent < 0: unknown (a spinner of elapsed time only). */
void progress_update(Progress *p, int percent, const char *detail);
void progress_end(Progress *p);
/* A progress bar's line ending in " 42%" (mksquashfs, unsquashfs): the number. */
bool progress_percent_of_line(const char *line, int *ret);
