/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * run.h: the one way hyperion runs another program.
 *
 * An argv vector, never a shell string: fork(), optionally chroot() and
 * chdir(), execvp(), wait. The command is logged, quoted, at debug level
 * (at info level in dry-run, where nothing is executed). Standard input is
 * /dev/null unless asked otherwise, so that no program waits for a prompt.
 *
 *         r = RUN(NULL, "mkfs.ext4", "-q", "-L", label, device);
 *
 * run() returns the exit status (0 success, 1..255, or 128+signal) or a
 * negative errno when the program could not be started; run_ok() turns a
 * non-zero status into an error naming the command and returns 0 or a
 * negative errno.
 */
#pragma once

#include <stdbool.h>

typedef struct RunOptions {
        const char *root;       /* chroot into this folder before exec */
        const char *cwd;        /* working folder (inside root when set) */
        char *const *env;       /* extra "NAME=value" entries, NULL-terminated */
        bool clear_env;         /* start from PATH and LC_ALL=C.UTF-8 only */
        char **capture;         /* when set: standard output into *capture */
        char **capture_err;     /* when set: standard error into *capture_err */
        bool inherit_stdin;     /* stdin from the caller instead of /dev/null */
        bool quiet;             /* standard output to /dev/null (unless debug) */
        bool dry_run;           /* log "would run", execute nothing, return 0 */
        /* When set: each line of standard output goes to on_line (for
         * progress), instead of the terminal. */
        void (*on_line)(const char *line, void *userdata);
        void *userdata;
} RunOptions;

/* The pid of the program run() is waiting for, or 0: a signal handler may
 * forward SIGTERM to it. */
extern volatile int run_current_child;

int run(char *const *argv, const RunOptions *opts);
int run_ok(char *const *argv, const RunOptions *opts);

#define RUN(opts, ...) run_ok((char *const *) (const char *const[]) { __VA_ARGS__, NULL }, (opts))
