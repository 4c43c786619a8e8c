/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hyperion-build: a profile in, a bootable hybrid installer ISO out.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "macro.h"
#include "profile.h"
#include "strutil.h"

#ifndef HYPERION_VERSION
#define HYPERION_VERSION "0"
#endif
#ifndef HYPERION_DATADIR
#define HYPERION_DATADIR "/usr/share/hyperion"
#endif

static const char *arg_profile = HYPERION_DATADIR "/profiles/hyperion";
static bool arg_check;

static void help(void) {
        printf("Usage: hyperion-build [OPTIONS]\n"
               "\n"
               "Turn a profile (a folder of INI files, see hyperion-profile(5)) and its\n"
               "overlay into a Debian-based hybrid ISO that installs the host it describes.\n"
               "\n"
               "Options:\n"
               "  -p, --profile DIR    the profile folder (default: %s)\n"
               "      --check          validate the profile, print it normalised (every\n"
               "                       default filled in) and exit; builds nothing\n"
               "  -v, --verbose        show debug messages and every command run\n"
               "  -q, --quiet          show only warnings and errors\n"
               "  -h, --help           show this help and exit\n"
               "      --version        show the version and exit\n"
               "\n"
               "Exit status: 0 success, 1 invalid profile or failed build, 2 bad usage.\n"
               "See hyperion-build(8).\n",
               HYPERION_DATADIR "/profiles/hyperion");
}

static int parse_argv(int argc, char **argv) {
        enum { ARG_CHECK = 0x100, ARG_VERSION };
        static const struct option options[] = {
                { "profile", required_argument, NULL, 'p' },
                { "check", no_argument, NULL, ARG_CHECK },
                { "verbose", no_argument, NULL, 'v' },
                { "quiet", no_argument, NULL, 'q' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {},
        };
        int c;
        while ((c = getopt_long(argc, argv, "p:vqh", options, NULL)) >= 0)
                switch (c) {
                case 'p': arg_profile = optarg; break;
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
        log_error("building an ISO is not implemented yet: only --check works in this version");
        return 1;
}
