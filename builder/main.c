/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hyperion-build: a profile in, a bootable hybrid installer ISO out.
 */
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "build.h"
#include "log.h"
#include "macro.h"
#include "mirror.h"
#include "run.h"
#include "profile.h"
#include "strutil.h"
#include "verify.h"

#ifndef HYPERION_VERSION
#define HYPERION_VERSION "0"
#endif
#ifndef HYPERION_DATADIR
#define HYPERION_DATADIR "/usr/share/hyperion"
#endif

static const char *arg_profile;
static const char *arg_output = "hyperion.iso";
static const char *arg_cache = "/var/cache/hyperion";
static bool arg_cache_set;
static const char *arg_work;
static const char *arg_source;
static const char *arg_overlays;
static long long arg_epoch;
static const char *arg_verify;
static char **arg_compare;
static bool arg_check, arg_keep_work, arg_print_mirror;

/* The source tree this program was built in (TREE/build/hyperion-build),
 * or NULL when it was installed: then DATADIR has the profiles and the
 * source parts. */
static char *own_tree(void) {
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n <= 0)
                return NULL;
        exe[n] = 0;
        for (int up = 0; up < 2; up++) {
                char *slash = strrchr(exe, '/');
                if (!slash)
                        return NULL;
                *slash = 0;
        }
        _cleanup_free_ char *marker = path_join(exe, "firstboot/main.c"), *control = path_join(exe, "debian/control");
        return access(marker, F_OK) == 0 && access(control, F_OK) == 0 ? xstrdup(exe) : NULL;
}

static void help(void) {
        printf("Usage: hyperion-build [OPTIONS]\n"
               "\n"
               "Turn a profile (a folder of INI files, see hyperion-profile(5)) and its\n"
               "overlay into a Debian-based hybrid ISO that installs the host it describes.\n"
               "\n"
               "Options:\n"
               "  -p, --profile DIR    the profile folder (default: profiles/hyperion of the\n"
               "                       source tree this program was built in, else\n"
               "                       %s)\n"
               "  -o, --output FILE    the ISO to write (default: hyperion.iso); FILE.sha256,\n"
               "                       FILE.manifest and FILE.log are written beside it\n"
               "      --cache DIR      cached stages (default: /var/cache/hyperion)\n"
               "      --work DIR       scratch folder, emptied first (default: FILE.work)\n"
               "      --keep-work      keep the scratch folder after the build\n"
               "      --source DIR     the hyperion source tree, for its Debian packages\n"
               "                       (default: the tree this program was built in, else\n"
               "                       %s/source)\n"
               "      --overlays DIR   the overlay laid over the root (default: the folder\n"
               "                       overlays/NAME beside the profile's folder, NAME the\n"
               "                       profile's name)\n"
               "      --source-date-epoch N\n"
               "                       date every file N (seconds since 1970); default:\n"
               "                       the profile's SourceDateEpoch=, else the date of the\n"
               "                       mirror's Release file\n"
               "      --print-mirror   print the Debian mirror the build would use (the\n"
               "                       profile's Mirror=, else this machine's apt sources')\n"
               "                       and exit\n"
               "      --check          validate the profile, print it normalised (every\n"
               "                       default filled in) and exit; builds nothing\n"
               "      --verify FILE    rebuild FILE (an ISO) from the inputs its manifest\n"
               "                       records, in a temporary place, and say 'identical'\n"
               "                       or list the files that differ\n"
               "      --compare A B    compare two ISOs, down to the files of their root\n"
               "                       images; 'identical', or what differs\n"
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
        enum { ARG_CHECK = 0x100, ARG_PRINT_MIRROR, ARG_VERSION, ARG_CACHE, ARG_WORK, ARG_KEEP_WORK, ARG_SOURCE, ARG_OVERLAYS, ARG_EPOCH, ARG_VERIFY, ARG_COMPARE };
        static const struct option options[] = {
                { "profile", required_argument, NULL, 'p' },
                { "output", required_argument, NULL, 'o' },
                { "cache", required_argument, NULL, ARG_CACHE },
                { "work", required_argument, NULL, ARG_WORK },
                { "keep-work", no_argument, NULL, ARG_KEEP_WORK },
                { "source", required_argument, NULL, ARG_SOURCE },
                { "overlays", required_argument, NULL, ARG_OVERLAYS },
                { "source-date-epoch", required_argument, NULL, ARG_EPOCH },
                { "verify", required_argument, NULL, ARG_VERIFY },
                { "compare", no_argument, NULL, ARG_COMPARE },
                { "check", no_argument, NULL, ARG_CHECK },
                { "print-mirror", no_argument, NULL, ARG_PRINT_MIRROR },
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
                case ARG_CACHE: arg_cache = optarg; arg_cache_set = true; break;
                case ARG_WORK: arg_work = optarg; break;
                case ARG_KEEP_WORK: arg_keep_work = true; break;
                case ARG_SOURCE: arg_source = optarg; break;
                case ARG_OVERLAYS: arg_overlays = optarg; break;
                case ARG_VERIFY: arg_verify = optarg; break;
                case ARG_COMPARE: arg_compare = argv; break;
                case ARG_EPOCH:
                        errno = 0;
                        arg_epoch = strtoll(optarg, &end, 10);
                        if (errno || *end || arg_epoch <= 0) {
                                log_error("invalid --source-date-epoch '%s' (seconds since 1970, as 'date +%%s' prints)", optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_CHECK: arg_check = true; break;
                case ARG_PRINT_MIRROR: arg_print_mirror = true; break;
                case 'v': log_set_level(LOG_LEVEL_DEBUG); break;
                case 'q': log_set_level(LOG_LEVEL_WARNING); break;
                case 'h': help(); return 0;
                case ARG_VERSION: printf("hyperion-build %s\n", HYPERION_VERSION); return 0;
                default: return -EINVAL;
                }
        if (arg_compare) {
                if (argc - optind != 2) {
                        log_error("--compare takes two ISOs (see --help)");
                        return -EINVAL;
                }
                arg_compare = argv + optind;
                return 1;
        }
        if (optind < argc) {
                log_error("unexpected argument '%s' (see --help)", argv[optind]);
                return -EINVAL;
        }
        return 1;
}

int main(int argc, char **argv) {
        /* Files we make get the same modes whatever the caller's umask. */
        umask(022);
        log_set_program("hyperion-build");
        log_parse_environment();
        int r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? 2 : 0;

        if (arg_compare) {
                char tmpl[] = "/var/tmp/hyperion-compare.XXXXXX";
                if (!mkdtemp(tmpl))
                        return log_error_errno(errno, "cannot make a temporary folder: %m"), 1;
                r = iso_compare(arg_compare[0], arg_compare[1], tmpl);
                (void) RUN(NULL, "rm", "-rf", "--one-file-system", tmpl);
                return r == 0 ? 0 : 1;
        }

        /* Run from a source tree (build/hyperion-build), that tree's profile
         * and parts; installed, the shared ones. */
        _cleanup_free_ char *tree = own_tree();
        _cleanup_free_ char *default_profile = tree ? path_join(tree, "profiles/hyperion") : xstrdup(HYPERION_DATADIR "/profiles/hyperion");
        _cleanup_free_ char *default_source = tree ? xstrdup(tree) : xstrdup(HYPERION_DATADIR "/source");
        _cleanup_(profile_freep) Profile *p = NULL;
        if (profile_load_or_complain(arg_profile ? arg_profile : default_profile, &p) < 0)
                return 1;
        if (p->n_seats)
                log_info("the profile has %zu seat%s of dom0: Kodi, cage and Mesa go into the image", p->n_seats, p->n_seats == 1 ? "" : "s");
        if (arg_print_mirror) {
                _cleanup_free_ char *m = NULL;
                if (!isempty(p->distribution.mirror))
                        m = xstrdup(p->distribution.mirror);
                else if (mirror_from_apt_sources("/", &m) < 0)
                        return 1;
                _cleanup_free_ char *shown = mirror_without_credentials(m, NULL);
                printf("%s\n", shown);
                return fflush(stdout) == 0 ? 0 : 1;
        }
        if (arg_check) {
                profile_print(p, stdout);
                return fflush(stdout) == 0 ? 0 : 1;
        }

        /* --verify: the same build, from the manifest's inputs, elsewhere. */
        _cleanup_free_ char *verify_dir = NULL, *verify_mirror = NULL;
        if (arg_verify) {
                _cleanup_free_ char *manifest = xasprintf("%s.manifest", arg_verify);
                int64_t epoch;
                if (manifest_read(manifest, &verify_mirror, &epoch) < 0)
                        return 1;
                char tmpl[] = "/var/tmp/hyperion-verify.XXXXXX";
                if (!mkdtemp(tmpl))
                        return log_error_errno(errno, "cannot make a temporary folder: %m"), 1;
                verify_dir = xstrdup(tmpl);
                arg_epoch = epoch;
                log_info("rebuilding %s in %s (SOURCE_DATE_EPOCH=%lld)", arg_verify, verify_dir, (long long) epoch);
        }
        _cleanup_free_ char *verify_out = verify_dir ? path_join(verify_dir, "rebuilt.iso") : NULL;
        /* A rebuild from the cache that made the ISO proves little: an empty
         * one unless --cache names one. */
        _cleanup_free_ char *verify_cache = verify_dir && !arg_cache_set ? path_join(verify_dir, "cache") : NULL;

        Build b = {
                .profile = p,
                .output = xstrdup(verify_out ? verify_out : arg_output),
                .cache = xstrdup(verify_cache ? verify_cache : arg_cache),
                .work = arg_work ? xstrdup(arg_work) : xasprintf("%s.work", arg_output),
                .source = xstrdup(arg_source ? arg_source : default_source),
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
        if (verify_mirror)      /* the mirror the ISO was built from */
                b.mirror = xstrdup(verify_mirror);
        else if (!isempty(p->distribution.mirror))
                b.mirror = xstrdup(p->distribution.mirror);
        else
                r = mirror_from_apt_sources("/", &b.mirror);
        /* Credentials in the mirror's URL never show. */
        _cleanup_free_ char *userinfo = NULL, *clean = b.mirror ? mirror_without_credentials(b.mirror, &userinfo) : NULL;
        if (userinfo) {
                log_add_secret(userinfo);
                const char *colon = strchr(userinfo, ':');
                if (colon && colon[1])
                        log_add_secret(colon + 1);
        }
        if (r >= 0)
                r = build_run(&b);
        build_release(&b);
        if (r >= 0 && verify_dir) {
                _cleanup_free_ char *cmp = path_join(verify_dir, "compare");
                r = iso_compare(arg_verify, verify_out, cmp);
                if (r == 0)
                        (void) RUN(NULL, "rm", "-rf", "--one-file-system", verify_dir);
                else if (r > 0)
                        log_error("%s is not reproduced: the rebuild and what differs are in %s", arg_verify, verify_dir);
                return r == 0 ? 0 : 1;
        }
        return r < 0 ? 1 : 0;
}
