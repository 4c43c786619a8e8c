/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "strutil.h"

static int max_level = LOG_LEVEL_INFO;
static const char *program = "hyperion";
static FILE *log_file;

static const char *const level_names[] = {
        [LOG_LEVEL_DEBUG] = "debug",
        [LOG_LEVEL_INFO] = "info",
        [LOG_LEVEL_NOTICE] = "notice",
        [LOG_LEVEL_WARNING] = "warning",
        [LOG_LEVEL_ERROR] = "error",
};

void log_set_level(int level) {
        max_level = level;
}

int log_get_level(void) {
        return max_level;
}

int log_level_from_string(const char *s) {
        for (size_t i = 0; i < ELEMENTSOF(level_names); i++)
                if (strcasecmp(s, level_names[i]) == 0)
                        return (int) i;
        return -EINVAL;
}

void log_parse_environment(void) {
        const char *e = getenv("HYPERION_LOG_LEVEL");
        if (isempty(e))
                return;
        int l = log_level_from_string(e);
        if (l < 0)
                log_warning("ignoring HYPERION_LOG_LEVEL='%s' (expected debug, info, notice, warning or error)", e);
        else
                max_level = l;
}

void log_set_program(const char *name) {
        program = name;
}

void log_set_file(FILE *f) {
        log_file = f;
}

static char **secrets;

void log_add_secret(const char *s) {
        if (isempty(s))
                return;
        if (!secrets)
                secrets = xcalloc(1, sizeof(char *));
        strv_push(&secrets, s);
}

/* msg with every secret replaced by "***" (it takes msg). */
static char *redact(char *msg) {
        for (char **s = secrets; s && *s; s++) {
                size_t n = strlen(*s);
                for (char *at = strstr(msg, *s); at; at = strstr(msg, *s)) {
                        char *m = xasprintf("%.*s***%s", (int) (at - msg), msg, at + n);
                        free(msg);
                        msg = m;
                }
        }
        return msg;
}

int log_internalv(int level, int error, const char *fmt, va_list ap) {
        int saved = errno;
        if (error < 0)
                error = -error;

        if (level >= max_level || log_file) {
                /* Format once; %m needs errno set to the error. */
                errno = error;
                char *msg = redact(xvasprintf(fmt, ap));
                if (level >= max_level) {
                        if (level >= LOG_LEVEL_WARNING)
                                fprintf(stderr, "%s: %s%s\n", program,
                                        level == LOG_LEVEL_ERROR ? "error: " : "warning: ", msg);
                        else
                                fprintf(stderr, "%s\n", msg);
                }
                if (log_file) {
                        fprintf(log_file, "<%s> %s\n", level_names[level], msg);
                        fflush(log_file);
                }
                free(msg);
        }
        errno = saved;
        return -error;
}

int log_internal(int level, int error, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int r = log_internalv(level, error, fmt, ap);
        va_end(ap);
        return r;
}

uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

const char *format_duration(char *buf, size_t n, uint64_t usec) {
        uint64_t ms = usec / 1000;
        if (ms < 1000)
                snprintf(buf, n, "%ums", (unsigned) ms);
        else if (ms < 60000)
                snprintf(buf, n, "%u.%us", (unsigned) (ms / 1000), (unsigned) (ms % 1000 / 100));
        else
                snprintf(buf, n, "%um %02us", (unsigned) (ms / 60000), (unsigned) (ms % 60000 / 1000));
        return buf;
}

static bool plain_progress;

void log_set_plain_progress(bool plain) {
        plain_progress = plain;
}

void progress_begin(Progress *p, const char *stage) {
        *p = (Progress) {
                .stage = xstrdup(stage),
                .start = now_usec(),
                .last_percent = -1,
                .tty = !plain_progress && isatty(STDERR_FILENO) && max_level <= LOG_LEVEL_INFO,
        };
}

void progress_update(Progress *p, int percent, const char *detail) {
        uint64_t t = now_usec();
        char d[32];
        format_duration(d, sizeof d, t - p->start);
        if (p->tty) {
                if (t - p->last_draw < 100000 && percent == p->last_percent)
                        return;
                if (percent >= 0)
                        fprintf(stderr, "\r\033[K[%s] %3d%%  %s  %.50s", p->stage, percent, d, strempty(detail));
                else
                        fprintf(stderr, "\r\033[K[%s] %s  %.50s", p->stage, d, strempty(detail));
                fflush(stderr);
                p->last_draw = t;
                p->last_percent = percent;
                return;
        }
        /* Not a terminal: a plain line at each tenth, or every 30 s. */
        bool step = percent >= 0 ? percent / 10 != p->last_percent / 10 : t - p->last_draw >= 30000000;
        if (!step)
                return;
        if (percent >= 0)
                log_info("[%s] %d%% %s", p->stage, percent, d);
        else
                log_info("[%s] %s", p->stage, d);
        p->last_percent = percent;
        p->last_draw = t;
}

void progress_end(Progress *p) {
        if (p->tty && p->last_draw)
                fputs("\r\033[K", stderr);
        free(p->stage);
        p->stage = NULL;
}

bool progress_percent_of_line(const char *line, int *ret) {
        const char *pct = strrchr(line, '%');
        if (!pct || pct == line || pct[1] != 0)
                return false;
        const char *q = pct;
        while (q > line && q[-1] >= '0' && q[-1] <= '9')
                q--;
        if (q == pct)
                return false;
        *ret = atoi(q);
        return true;
}
