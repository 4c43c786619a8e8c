/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hyperion-firstboot: installs the host a profile describes, from the live
 * ISO; on the first Xen boot, creates the guests.
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

#define DEFAULT_PROFILE "/etc/hyperion/profile"

static const char *arg_profile = DEFAULT_PROFILE;
static char **arg_disks;
static bool arg_yes, arg_wipe;

static void help(void) {
        printf("Usage: hyperion-firstboot [OPTIONS] COMMAND\n"
               "\n"
               "Install the host a profile describes, touching only the disks it must.\n"
               "\n"
               "Commands:\n"
               "  plan                 probe the disks, match them to the profile, print the\n"
               "                       plan; writes nothing\n"
               "  install              the same plan, then ask for the host name and apply it\n"
               "  status               print what the install journal says was done\n"
               "  guests               create the guests through libxenlight (first Xen boot)\n"
               "\n"
               "Options:\n"
               "  -p, --profile DIR    the profile folder (default: %s)\n"
               "  -d, --disk PATH      use this block device or image file instead of probing;\n"
               "                       repeat for each disk\n"
               "  -y, --yes            do not ask for confirmation (install)\n"
               "      --wipe           allow formatting a disk that holds partitions or data\n"
               "  -v, --verbose        show debug messages and every command run\n"
               "  -q, --quiet          show only warnings and errors\n"
               "  -h, --help           show this help and exit\n"
               "      --version        show the version and exit\n"
               "\n"
               "The kernel option hyperion.install=unattended makes 'install' run without\n"
               "a question. See hyperion-firstboot(8).\n",
               DEFAULT_PROFILE);
}

static int parse_argv(int argc, char **argv) {
        enum { ARG_WIPE = 0x100, ARG_VERSION };
        static const struct option options[] = {
                { "profile", required_argument, NULL, 'p' },
                { "disk", required_argument, NULL, 'd' },
                { "yes", no_argument, NULL, 'y' },
                { "wipe", no_argument, NULL, ARG_WIPE },
                { "verbose", no_argument, NULL, 'v' },
                { "quiet", no_argument, NULL, 'q' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {},
        };
        int c;
        while ((c = getopt_long(argc, argv, "p:d:yvqh", options, NULL)) >= 0)
                switch (c) {
                case 'p': arg_profile = optarg; break;
                case 'd': strv_push(&arg_disks, optarg); break;
                case 'y': arg_yes = true; break;
                case ARG_WIPE: arg_wipe = true; break;
                case 'v': log_set_level(LOG_LEVEL_DEBUG); break;
                case 'q': log_set_level(LOG_LEVEL_WARNING); break;
                case 'h': help(); return 0;
                case ARG_VERSION: printf("hyperion-firstboot %s\n", HYPERION_VERSION); return 0;
                default: return -EINVAL;
                }
        return 1;
}

int main(int argc, char **argv) {
        log_set_program("hyperion-firstboot");
        log_parse_environment();
        int r = parse_argv(argc, argv);
        if (r <= 0) {
                strv_free(arg_disks);
                return r < 0 ? 2 : 0;
        }
        if (optind >= argc) {
                log_error("no command given (see --help)");
                strv_free(arg_disks);
                return 2;
        }
        const char *cmd = argv[optind];
        static const char *const commands[] = { "plan", "install", "status", "guests" };
        bool known = false;
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                known |= streq(cmd, commands[i]);
        strv_free(arg_disks);
        if (!known) {
                log_error("unknown command '%s' (see --help)", cmd);
                return 2;
        }
        log_error("command '%s' is not implemented yet in this version", cmd);
        return 1;
}
