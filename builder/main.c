/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hyperion-build: a profile in, a bootable hybrid installer ISO out.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "build.h"
#include "log.h"
#include "macro.h"
#include "mirror.h"
#include "profile.h"
#include "strutil.h"

#ifndef HYPERION_VERSION
#define HYPERION_VERSION "0"
#endif
#ifndef HYPERION_DATADIR
#define HYPERION_DATADIR "/usr/share/hyperion"
#endif

static const char *arg_profile = HYPERION_DATADIR "/profiles/hyperion";
static const char *arg_output = "hyperion.iso";
static const char *arg_cache = "/var/cache/hyperion";
static const char *arg_work;
static const char *arg_source;
static const char *arg_overlays;
static long long arg_epoch;
static bool arg_check, arg_keep_work;

static void help(void) {
        printf("Usage: hyperion-build [OPTIONS]\n"
               "\n"
               "Turn a profile (a folder of INI files, see hyperion-profile(5)) and its\n"
               "overlay into a Debian-based hybrid ISO that installs the host it describes.\n"
               "\n"
               "Options:\n"
               "  -p, --profile DIR    the profile folder (default: %s)\n"
               "  -o, --output FILE    the ISO to write (default: hyperion.iso); FILE.sha256,\n"
               "                       FILE.manifest and FILE.log are written beside it\n"
               "      --cache DIR      cached stages (default: /var/cache/hyperion)\n"
               "      --work DIR       scratch folder, emptied first (default: FILE.work)\n"
               "      --keep-work      keep the scratch folder after the build\n"
               "      --source DIR     the hyperion source tree, for its Debian packages\n"
               "                       (default: %s/source)\n"
               "      --overlays DIR   the overlay laid over the root (default: the folder\n"
               "                       overlays/NAME beside the profile's folder, NAME the\n"
               "                       profile's name)\n"
               "      --source-date-epoch N\n"
               "                       date every file N (seconds since 1970); default:\n"
               "                       the profile's SourceDateEpoch=, else the date of the\n"
               "                       mirror's Release file\n"
               "      --check          validate the profile, print it normalised (every\n"
               "                       default filled in) and exit; builds nothing\n"
               "  -v, --verbose        show debug messages and every command run\n"
               "  -q, --quiet          show only warnings and errors\n"
               "  -h, --help           show this help and exit\n"
               "      --version        show the version and exit\n"
               "\n"
               "Exit status: 0 success, 1 invalid profile or failed build, 2 bad usage.\n"
               "See hyperion-build(8).\n",
               HYPERION_DATADIR "/profiles/hyperion", HYPERION_DATADIR);
}

static int parse_argv(int argc, char **argv) {
        enum { ARG_CHECK = 0x100, ARG_VERSION, ARG_CACHE, ARG_WORK, ARG_KEEP_WORK, ARG_SOURCE, ARG_OVERLAYS, ARG_EPOCH };
        static const struct option options[] = {
                { "profile", required_argument, NULL, 'p' },
                { "output", required_argument, NULL, 'o' },
                { "cache", required_argument, NULL, ARG_CACHE },
                { "work", required_argument, NULL, ARG_WORK },
                { "keep-work", no_argument, NULL, ARG_KEEP_WORK },
                { "source", required_argument, NULL, ARG_SOURCE },
                { "overlays", required_argument, NULL, ARG_OVERLAYS },
                { "source-date-epoch", required_argument, NULL, ARG_EPOCH },
                { "check", no_argument, NULL, ARG_CHECK },
                { "verbose", no_argument, NULL, 'v' },
                { "quiet", no_argument, NULL, 'q' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {},
        };
        int c;
        char *end;
        while ((c = getopt_long(argc, argv, "p:o:vqh", options, NULL)) >= 0)
                switch (c) {
                case 'p': arg_profile = optarg; break;
                case 'o': arg_output = optarg; break;
                case ARG_CACHE: arg_cache = optarg; break;
                case ARG_WORK: arg_work = optarg; break;
                case ARG_KEEP_WORK: arg_keep_work = true; break;
                case ARG_SOURCE: arg_source = optarg; break;
                case ARG_OVERLAYS: arg_overlays = optarg; break;
                case ARG_EPOCH:
                        errno = 0;
                        arg_epoch = strtoll(optarg, &end, 10);
                        if (errno || *end || arg_epoch <= 0) {
                                log_error("invalid --source-date-epoch '%s' (seconds since 1970, as 'date +%%s' prints)", optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_CHECK: arg_check = true; break;
                case 'v': log_set_level(LOG_LEVEL_DEBUG); break;
                case 'q': log_set_level(LOG_LEVEL_WARNING); break;
                case 'h': help(); return 0;
                case ARG_VERSION: printf("hyperion-build %s\n", HYPERION_VERSION); return 0;
                default: return -EINVAL;
                }
        if (optind < argc) {
                log_error("unexpected argument '%s' (see --help)", argv[optind]);
                return -EINVAL;
        }
        return 1;
}

/* Load the profile and print every problem; 0 or -EINVAL. */
static int load_profile(const char *dir, Profile **ret) {
        _cleanup_strv_free_ char **errors = NULL;
        int r = profile_load(dir, ret, &errors);
        for (char **e = errors; e && *e; e++)
                fprintf(stderr, "%s\n", *e);
        if (r < 0)
                log_error("profile '%s' is not valid: %zu error%s", dir, strv_length(errors),
                          strv_length(errors) == 1 ? "" : "s");
        return r;
}

int main(int argc, char **argv) {
        /* Files we make get the same modes whatever the caller's umask. */
        umask(022);
        log_set_program("hyperion-build");
        log_parse_environment();
        int r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? 2 : 0;

        _cleanup_(profile_freep) Profile *p = NULL;
        if (load_profile(arg_profile, &p) < 0)
                return 1;
        if (arg_check) {
                profile_print(p, stdout);
                return fflush(stdout) == 0 ? 0 : 1;
        }

        Build b = {
                .profile = p,
                .output = xstrdup(arg_output),
                .cache = xstrdup(arg_cache),
                .work = arg_work ? xstrdup(arg_work) : xasprintf("%s.work", arg_output),
                .source = xstrdup(arg_source ? arg_source : HYPERION_DATADIR "/source"),
                .keep_work = arg_keep_work,
                .source_date_epoch = arg_epoch,
        };
        if (arg_overlays)
                b.overlays = xstrdup(arg_overlays);
        else {
                /* profiles/NAME -> overlays/NAME */
                _cleanup_free_ char *rel = xasprintf("%s/../../overlays/%s", p->dir, p->name);
                b.overlays = realpath(rel, NULL);
        }
        r = 0;
        if (!isempty(p->distribution.mirror))
                b.mirror = xstrdup(p->distribution.mirror);
        else
                r = mirror_from_apt_sources("/", &b.mirror);
        if (r >= 0)
                r = build_run(&b);
        build_release(&b);
        return r < 0 ? 1 : 0;
}
