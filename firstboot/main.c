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
#include "plan.h"
#include "probe.h"
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

/* Load the profile and print every problem. */
static int load_profile(Profile **ret) {
        _cleanup_strv_free_ char **errors = NULL;
        int r = profile_load(arg_profile, ret, &errors);
        for (char **e = errors; e && *e; e++)
                fprintf(stderr, "%s\n", *e);
        if (r < 0)
                log_error("profile '%s' is not valid", arg_profile);
        return r;
}

/* Is hyperion.install=unattended on the kernel command line? */
static bool unattended(void) {
        _cleanup_free_ char *cmdline = NULL;
        if (read_full_file("/proc/cmdline", &cmdline, NULL) < 0)
                return false;
        _cleanup_strv_free_ char **words = strv_split_ws(cmdline);
        return strv_contains(words, "hyperion.install=unattended");
}

/* Probe, match and plan; the plan, or every reason there is none. */
static int make_plan(const Profile *p, Inventory *inv, Plan **ret) {
        int r = arg_disks ? probe_paths(arg_disks, inv) : probe_system(inv);
        if (r < 0)
                return r;
        PlanOptions o = { .wipe = arg_wipe, .unattended = unattended() };
        _cleanup_strv_free_ char **errors = NULL;
        r = plan_make(p, inv, &o, ret, &errors);
        for (char **e = errors; e && *e; e++)
                log_error("%s", *e);
        if (r < 0)
                log_error("nothing was written: fix the profile or the disks and run again");
        return r;
}

static int cmd_plan(void) {
        _cleanup_(profile_freep) Profile *p = NULL;
        if (load_profile(&p) < 0)
                return 1;
        Inventory inv = {};
        _cleanup_(plan_freep) Plan *plan = NULL;
        int r = make_plan(p, &inv, &plan);
        if (r == 0) {
                plan_print(plan, stdout);
                printf("\nThis was a dry run: nothing was written. 'hyperion-firstboot install' applies it.\n");
        }
        inventory_release(&inv);
        return r < 0 ? 1 : 0;
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
        if (optind + 1 < argc) {
                log_error("unexpected argument '%s' (see --help)", argv[optind + 1]);
                strv_free(arg_disks);
                return 2;
        }
        int status;
        if (streq(cmd, "plan"))
                status = cmd_plan();
        else if (streq(cmd, "install") || streq(cmd, "status") || streq(cmd, "guests")) {
                log_error("command '%s' is not implemented yet in this version", cmd);
                status = 1;
        } else {
                log_error("unknown command '%s' (see --help)", cmd);
                status = 2;
        }
        strv_free(arg_disks);
        return status;
}
