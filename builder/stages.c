/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * stages.c: run the stages in order, time them, stop cleanly on a signal,
 * and leave nothing mounted, whatever happens.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include "bootstrap.h"
#include "build.h"
#include "log.h"
#include "mount-util.h"
#include "run.h"
#include "sha256.h"
#include "strutil.h"
#include "suite.h"

/* The hyperion packages and the guest root need only the bootstrap: they
 * are built beside the live system's packages (other cores, other
 * downloads), and waited for where the packages are installed. */
const Stage build_stages[] = {
        { .name = "bootstrap", .run = stage_bootstrap },
        { .name = "firstboot", .run = stage_firstboot, .aside = true },
        { .name = "guest", .run = stage_guest, .aside = true },
        { .name = "packages", .run = stage_packages },
        { .name = "install", .run = stage_install, .join = true },
        { .name = "overlays", .run = stage_overlays },
        { .name = "customise", .run = stage_customise },
        { .name = "clean", .run = stage_clean },
        { .name = "squash", .run = stage_squash },
        { .name = "iso", .run = stage_iso },
        { .name = NULL },
};

volatile int build_interrupted;

/* The stages running aside, by process. */
typedef struct Aside {
        const Stage *stage;
        pid_t pid;
} Aside;
static Aside asides[4];
static size_t n_asides;

static void on_signal(int sig) {
        build_interrupted = sig;
        /* The program we wait for stops too; a terminal's Ctrl-C reaches it already. */
        if (run_current_child > 0 && sig != SIGINT)
                kill(run_current_child, SIGTERM);
        for (size_t i = 0; i < n_asides; i++)
                if (asides[i].pid > 0 && sig != SIGINT)
                        kill(asides[i].pid, SIGTERM);
}

int build_check_interrupted(void) {
        if (build_interrupted)
                return log_error_errno(EINTR, "interrupted by signal %d (%s)", build_interrupted, strsignal(build_interrupted));
        return 0;
}

const char *build_keyring(const Build *b) {
        return isempty(b->profile->distribution.keyring) ? DEBIAN_KEYRING : b->profile->distribution.keyring;
}

char *cache_path(const Build *b, const char *name, const char *key, const char *suffix) {
        return xasprintf("%s/%s-%.16s%s", b->cache, name, key, suffix);
}

static int mkdir_p(const char *path, mode_t mode) {
        _cleanup_free_ char *p = xstrdup(path);
        for (char *s = p + 1; *s; s++)
                if (*s == '/') {
                        *s = 0;
                        if (mkdir(p, mode) < 0 && errno != EEXIST)
                                return -errno;
                        *s = '/';
                }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

static int prepare_folders(Build *b) {
        /* Root's only: what is restored from it goes into every image. */
        int r = mkdir_p(b->cache, 0700);
        if (r < 0 || chmod(b->cache, 0700) < 0)
                return log_error_errno(r < 0 ? r : -errno, "cannot create the cache folder '%s': %m", b->cache);
        /* A build killed hard may have left mounts: take them away first. */
        struct stat st;
        if (stat(b->work, &st) == 0) {
                umount_below(b->work);
                _cleanup_strv_free_ char **left = mounts_below(b->work);
                if (left[0])
                        return log_error_errno(EBUSY, "'%s' is still mounted from an earlier build; unmount it first", left[0]);
                r = RUN(NULL, "rm", "-rf", "--one-file-system", b->work);
                if (r < 0)
                        return log_error_errno(r, "cannot empty the work folder '%s'", b->work);
        }
        r = mkdir_p(b->work, 0755);
        if (r < 0)
                return log_error_errno(r, "cannot create the work folder '%s': %m", b->work);
        b->root = path_join(b->work, "root");
        b->debs = path_join(b->work, "debs");
        if (mkdir(b->root, 0755) < 0 || mkdir(b->debs, 0755) < 0)
                return log_error_errno(errno, "cannot create folders in '%s': %m", b->work);
        /* The log goes beside the ISO: FILE.iso.log. */
        _cleanup_free_ char *logp = xasprintf("%s.log", b->output);
        b->log = fopen(logp, "we");
        if (!b->log)
                return log_error_errno(errno, "cannot write the build log '%s': %m", logp);
        log_set_file(b->log);
        return 0;
}

/* The mirror's state, and the date every file gets: before anything else. */
static int resolve_inputs(Build *b) {
        const Distribution *d = &b->profile->distribution;
        int r = release_fetch(b->mirror, d->suite, build_keyring(b), b->work, &b->release);
        if (r < 0)
                return r;
        const char *from = "--source-date-epoch";
        if (b->source_date_epoch <= 0 && !isempty(b->profile->image.source_date_epoch)) {
                b->source_date_epoch = strtoll(b->profile->image.source_date_epoch, NULL, 10);
                from = "the profile";
        }
        if (b->source_date_epoch <= 0) {
                b->source_date_epoch = b->release.date;
                from = "the mirror's Release file";
        }
        set_source_date_epoch(b->source_date_epoch);
        if ((r = sha256_file("/proc/self/exe", b->code_sha256)) < 0)
                return log_error_errno(r, "cannot read this program (/proc/self/exe) for the cache keys: %m");
        char when[64];
        time_t t = (time_t) b->source_date_epoch;
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", gmtime(&t));
        log_info("%s %s from %s (Release sha256 %.16s)", d->suite, d->architecture, b->mirror, b->release.sha256);
        log_info("SOURCE_DATE_EPOCH=%lld (%s), from %s", (long long) b->source_date_epoch, when, from);
        /* The suite's own word on the profile, before anything is built. */
        return suite_check(b);
}

/* One stage, timed, and nothing of it left mounted. */
static int run_stage(Build *b, const Stage *s) {
        log_info("==> %s", s->name);
        uint64_t t = now_usec();
        int r = s->run(b);
        umount_below(b->work);
        char d[32];
        format_duration(d, sizeof d, now_usec() - t);
        if (r < 0) {
                if (!build_interrupted)
                        log_error("stage '%s' failed after %s; the whole log is %s.log", s->name, d, b->output);
                else
                        build_check_interrupted();
                return r;
        }
        log_info("<== %s done in %s", s->name, d);
        return 0;
}

/* Is / a mount point of its own (not so in a plain chroot)? An aside
 * stage's mounts are kept out of the others' by making / private in a
 * mount namespace of its own, which needs that. */
bool root_is_mount_point(void) {
        _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
        char line[4096];
        while (f && fgets(line, sizeof line, f)) {
                /* ID PARENT MAJ:MIN ROOT MOUNTPOINT ... */
                char mp[4096];
                if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1 && streq(mp, "/"))
                        return true;
        }
        return false;
}

static int start_aside(Build *b, const Stage *s) {
        static int isolated = -1;
        if (isolated < 0) {
                isolated = root_is_mount_point();
                if (!isolated)
                        log_info("/ is not a mount point here (a chroot?): the stages run one after the other");
        }
        if (n_asides >= ELEMENTSOF(asides) || !isolated)
                return run_stage(b, s);
        fflush(stdout);
        fflush(stderr);
        if (b->log)
                fflush(b->log);
        /* Two progress lines cannot share one terminal line. */
        log_set_plain_progress(true);
        pid_t pid = fork();
        if (pid < 0)
                return log_error_errno(errno, "cannot start the stage '%s': %m", s->name);
        if (pid == 0) {
                n_asides = 0;
                run_current_child = 0;
                /* Its mounts are its own: the parent's clean-up never sees
                 * them, and they go when it ends, however it ends. */
                if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || unshare(CLONE_NEWNS) < 0 ||
                    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                        log_error_errno(errno, "cannot give the stage '%s' a mount namespace: %m", s->name);
                        _exit(EXIT_FAILURE);
                }
                int r = run_stage(b, s);
                fflush(stdout);
                fflush(stderr);
                _exit(r < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
        }
        log_debug("stage '%s' runs beside the next ones (process %d)", s->name, (int) pid);
        asides[n_asides++] = (Aside) { s, pid };
        return 0;
}

/* Every stage run aside, waited for; kill: stop them first (a failure). */
static int join_asides(bool kill_them) {
        int ret = 0;
        for (size_t i = 0; i < n_asides; i++) {
                Aside *a = &asides[i];
                if (kill_them)
                        kill(a->pid, SIGTERM);
                uint64_t t = now_usec();
                int st = 0;
                for (;;) {
                        if (waitpid(a->pid, &st, 0) == a->pid)
                                break;
                        if (errno != EINTR) {
                                st = -1;
                                break;
                        }
                        /* A signal: the handler told it to stop; wait on. */
                }
                char d[32];
                format_duration(d, sizeof d, now_usec() - t);
                if (!kill_them && (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0))
                        ret = log_error_errno(build_interrupted ? EINTR : EIO, "stage '%s', run beside the others, did not finish",
                                              a->stage->name);
                else if (!kill_them)
                        log_info("(stage '%s' joined: waited %s for it)", a->stage->name, d);
                a->pid = 0;
        }
        n_asides = 0;
        log_set_plain_progress(false);
        return ret;
}

int build_run(Build *b) {
        if (geteuid() != 0)
                return log_error_errno(EPERM, "hyperion-build must run as root (mmdebstrap, chroot and mounts need it)");

        struct sigaction sa = { .sa_handler = on_signal };
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);

        int r = prepare_folders(b);
        if (r < 0)
                return r;
        r = resolve_inputs(b);
        if (r < 0)
                return r;

        uint64_t total = now_usec();
        char d[32];
        for (const Stage *s = build_stages; s->name && r >= 0; s++) {
                r = build_check_interrupted();
                if (r < 0)
                        break;
                if (s->join && (r = join_asides(false)) < 0)
                        break;
                r = s->aside ? start_aside(b, s) : run_stage(b, s);
        }
        /* A stage that failed stops the ones beside it. */
        if (n_asides > 0)
                (void) join_asides(true);
        umount_below(b->work);
        format_duration(d, sizeof d, now_usec() - total);
        if (r >= 0)
                log_info("built %s in %s", b->output, d);
        return r;
}

void build_release(Build *b) {
        if (b->log) {
                log_set_file(NULL);
                fclose(b->log);
        }
        if (b->work && !b->keep_work) {
                _cleanup_strv_free_ char **left = mounts_below(b->work);
                if (!left[0])
                        (void) RUN(NULL, "rm", "-rf", "--one-file-system", b->work);
        }
        free(b->source);
        free(b->overlays);
        free(b->output);
        free(b->work);
        free(b->cache);
        free(b->mirror);
        free(b->root);
        free(b->debs);
        strv_free(b->deb_files);
        strv_free(b->deb_depends);
        free(b->kernel_version);
        free(b->squashfs);
        release_done(&b->release);
}
