/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "strutil.h"

extern char **environ;

volatile int run_current_child;

static char **build_env(const RunOptions *o) {
        char **e = xcalloc(1, sizeof(char *));
        if (o->clear_env) {
                strv_push(&e, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
                strv_push(&e, "LC_ALL=C.UTF-8");
        } else
                for (char **i = environ; *i; i++)
                        strv_push(&e, *i);
        for (char *const *i = o->env; i && *i; i++) {
                const char *eq = strchr(*i, '=');
                size_t k = eq ? (size_t) (eq - *i) + 1 : strlen(*i);
                /* An extra entry replaces one of the same name. */
                for (char **j = e; *j; j++)
                        if (strneq(*j, *i, k) && (*j)[k - 1] == '=') {
                                free(*j);
                                *j = xstrdup(*i);
                                goto next;
                        }
                strv_push(&e, *i);
        next:;
        }
        return e;
}

_noreturn_ static void child(char *const *argv, const RunOptions *o, char **envp, int out_fd, int err_fd) {
        /* Restore default signal handling the parent may have changed. */
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);

        if (!o->inherit_stdin) {
                int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (fd < 0 || dup2(fd, STDIN_FILENO) < 0)
                        _exit(127);
        }
        if (out_fd >= 0 && dup2(out_fd, STDOUT_FILENO) < 0)
                _exit(127);
        if (err_fd >= 0 && dup2(err_fd, STDERR_FILENO) < 0)
                _exit(127);
        if (o->root) {
                if (chroot(o->root) < 0) {
                        fprintf(stderr, "cannot chroot to '%s': %m\n", o->root);
                        _exit(127);
                }
                if (chdir("/") < 0)
                        _exit(127);
        }
        if (o->cwd && chdir(o->cwd) < 0) {
                fprintf(stderr, "cannot change to '%s': %m\n", o->cwd);
                _exit(127);
        }
        environ = envp;
        execvp(argv[0], argv);
        fprintf(stderr, "cannot run '%s': %m\n", argv[0]);
        _exit(errno == ENOENT ? 127 : 126);
}

/* Hand complete lines of buf[0..*size) to on_line; keep the unfinished rest. */
static void feed_lines(char *buf, size_t *size, const RunOptions *o, bool all) {
        size_t start = 0;
        for (size_t i = 0; i < *size; i++)
                if (buf[i] == '\n' || buf[i] == '\r') {
                        buf[i] = 0;
                        if (i > start)
                                o->on_line(buf + start, o->userdata);
                        start = i + 1;
                }
        if (all && start < *size) {
                buf[*size] = 0;
                o->on_line(buf + start, o->userdata);
                start = *size;
        }
        memmove(buf, buf + start, *size - start);
        *size -= start;
        buf[*size] = 0;
}

/* Read what the child writes on up to two pipes until both are closed. */
static int drain(int fds[2], char *bufs[2], size_t sizes[2], size_t allocated[2], const RunOptions *o) {
        for (;;) {
                struct pollfd p[2];
                nfds_t n = 0;
                int idx[2];
                for (int i = 0; i < 2; i++)
                        if (fds[i] >= 0) {
                                p[n] = (struct pollfd) { .fd = fds[i], .events = POLLIN };
                                idx[n++] = i;
                        }
                if (n == 0)
                        return 0;
                if (poll(p, n, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                for (nfds_t k = 0; k < n; k++) {
                        if (!(p[k].revents & (POLLIN | POLLHUP | POLLERR)))
                                continue;
                        int i = idx[k];
                        GROW(bufs[i], allocated[i], sizes[i] + 65536 + 1);
                        ssize_t r = read(fds[i], bufs[i] + sizes[i], allocated[i] - sizes[i] - 1);
                        if (r < 0 && errno == EINTR)
                                continue;
                        if (r <= 0) {
                                close(fds[i]);
                                fds[i] = -1;
                                if (i == 0 && o->on_line)
                                        feed_lines(bufs[0], &sizes[0], o, true);
                                continue;
                        }
                        sizes[i] += (size_t) r;
                        bufs[i][sizes[i]] = 0;
                        if (i == 0 && o->on_line)
                                feed_lines(bufs[0], &sizes[0], o, false);
                }
        }
}

int run(char *const *argv, const RunOptions *opts) {
        static const RunOptions none = {};
        const RunOptions *o = opts ?: &none;

        if (!argv || !argv[0])
                return -EINVAL;

        _cleanup_free_ char *display = argv_to_display(argv);
        if (o->dry_run) {
                log_info("would run: %s%s%s", o->root ? "(in " : "", o->root ? o->root : "", o->root ? ") " : "");
                log_info("  %s", display);
                if (o->capture)
                        *o->capture = xstrdup("");
                if (o->capture_err)
                        *o->capture_err = xstrdup("");
                return 0;
        }
        log_debug("running%s%s: %s", o->root ? " in " : "", o->root ? o->root : "", display);

        int out[2] = { -1, -1 }, err[2] = { -1, -1 };
        _cleanup_close_ int null_fd = -1;
        bool want_out = o->capture || o->on_line;
        if (want_out && pipe2(out, O_CLOEXEC) < 0)
                return log_error_errno(errno, "cannot create a pipe: %m");
        if (o->capture_err && pipe2(err, O_CLOEXEC) < 0) {
                int r = -errno;
                if (out[0] >= 0) {
                        close(out[0]);
                        close(out[1]);
                }
                return log_error_errno(r, "cannot create a pipe: %m");
        }
        if (!want_out && o->quiet && log_get_level() > LOG_LEVEL_DEBUG) {
                null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
                if (null_fd < 0)
                        return -errno;
        }

        _cleanup_strv_free_ char **envp = build_env(o);
        fflush(stdout);
        fflush(stderr);
        pid_t pid = fork();
        if (pid < 0) {
                int r = -errno;
                for (int i = 0; i < 2; i++) {
                        if (out[i] >= 0)
                                close(out[i]);
                        if (err[i] >= 0)
                                close(err[i]);
                }
                return log_error_errno(r, "cannot fork: %m");
        }
        if (pid == 0)
                child(argv, o, envp, out[1] >= 0 ? out[1] : null_fd, err[1]);

        if (out[1] >= 0)
                close(out[1]);
        if (err[1] >= 0)
                close(err[1]);

        run_current_child = pid;
        uint64_t started = now_usec();
        int fds[2] = { out[0], err[0] };
        char *bufs[2] = {};
        size_t sizes[2] = {}, allocated[2] = {};
        int r = drain(fds, bufs, sizes, allocated, o);

        int status = 0;
        struct rusage ru = {};
        while (wait4(pid, &status, 0, &ru) < 0)
                if (errno != EINTR) {
                        r = -errno;
                        break;
                }
        run_current_child = 0;
        /* What the long runs cost, in the log: wall time and the processor
         * time of the program and its children, which show where a build spends. */
        uint64_t wall = now_usec() - started;
        if (wall >= 1000000) {
                uint64_t cpu = (uint64_t) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
                               (uint64_t) (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
                char w[32], c[32];
                log_debug("ran %s (cpu %s)%s%s: %.120s", format_duration(w, sizeof w, wall), format_duration(c, sizeof c, cpu),
                          o->root ? " in " : "", o->root ? o->root : "", display);
        }
        if (r < 0) {
                free(bufs[0]);
                free(bufs[1]);
                return r;
        }
        if (o->capture && !o->on_line)
                *o->capture = bufs[0] ?: xstrdup("");
        else
                free(bufs[0]);
        if (o->capture_err)
                *o->capture_err = bufs[1] ?: xstrdup("");
        else
                free(bufs[1]);

        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return 255;
}

int run_ok(char *const *argv, const RunOptions *opts) {
        int r = run(argv, opts);
        if (r < 0)
                return log_error_errno(r, "cannot run '%s': %m", argv[0]);
        if (r == 127)
                return log_error_errno(ENOENT, "'%s' is not installed or not in PATH (exit status 127)", argv[0]);
        if (r > 128 && r < 128 + 65)
                return log_error_errno(EINTR, "'%s' was killed by signal %d", argv[0], r - 128);
        if (r > 0) {
                _cleanup_free_ char *display = argv_to_display(argv);
                /* What the program said was captured: show it, or the error has no cause. */
                if (opts && opts->capture_err && !isempty(*opts->capture_err))
                        log_error("%s", strstrip(*opts->capture_err));
                return log_error_errno(EIO, "'%s' failed with exit status %d: %s", argv[0], r, display);
        }
        return 0;
}
