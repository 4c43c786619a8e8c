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
#include <termios.h>
#include <unistd.h>

#include "apply.h"
#include "change.h"
#include "guests.h"
#include "journal.h"
#include "report.h"
#include "partition.h"
#include "log.h"
#include "macro.h"
#include "plan.h"
#include "refresh.h"
#include "run.h"
#include "target.h"
#include "probe.h"
#include "profile.h"
#include "strutil.h"

#ifndef HYPERION_VERSION
#define HYPERION_VERSION "0"
#endif

#define DEFAULT_PROFILE "/etc/hyperion/profile"

static const char *arg_profile = DEFAULT_PROFILE;
static char **arg_disks;
static bool arg_yes, arg_wipe, arg_live, arg_start_over, arg_purge;
static const char *arg_host;
static const char *arg_output;
static const char *arg_root = "/run/hyperion/target";
static unsigned arg_wait = REPORT_WAIT_DEFAULT;

static void help(void) {
        printf("Usage: hyperion-firstboot [OPTIONS] COMMAND\n"
               "\n"
               "Install the host a profile describes, touching only the disks it must.\n"
               "\n"
               "Commands:\n"
               "  plan                 probe the disks, match them to the profile, print the\n"
               "                       plan; writes nothing. On an installed host: what\n"
               "                       differs between the profile and the host, as changes\n"
               "  install              the same plan, then ask for the host name and apply it\n"
               "  apply                on an installed host: the changes 'plan' shows, after\n"
               "                       the host name is typed (guests added, changed,\n"
               "                       retired; bridges added)\n"
               "  host                 print what the installed host has, as 'plan' sees it\n"
               "  refresh-archive      on an installed host: make its guest archive again\n"
               "                       from its mirror with mmdebstrap, so that the guests\n"
               "                       made after it get today's packages (%s)\n"
               "  status               print what the install journal says was done\n"
               "  guests [NAME...]     create each guest that starts at boot and does not\n"
               "                       run, through libxenlight; link it into /etc/xen/auto\n"
               "                       (hyperion-guests.service, on every Xen boot)\n"
               "  report               wait for the kept filesystems and each guest's system,\n"
               "                       then say what is up: dom0's memory, each guest's state,\n"
               "                       swap, address, failed units (hyperion-report.service)\n"
               "\n"
               "Options:\n"
               "  -p, --profile DIR    the profile folder (default: %s)\n"
               "  -d, --disk PATH      use this block device or image file instead of probing;\n"
               "                       repeat for each disk\n"
               "  -y, --yes            do not ask for confirmation (install)\n"
               "      --wipe           allow formatting a disk that holds partitions or data\n"
               "      --purge          apply: a retired guest's volumes are wiped and removed\n"
               "                       (by default they are kept)\n"
               "      --output FILE    refresh-archive: write the archive there instead\n"
               "      --host DIR       plan: compare the profile with the host described in\n"
               "                       DIR (DIR/host, DIR/xen/NAME.cfg) instead of this one\n"
               "      --start-over     begin again over an unfinished install of another plan\n"
               "                       (another profile, ISO or disks), or format what the\n"
               "                       profile preserves where no installed hyperion is\n"
               "                       found; implies --wipe\n"
               "      --root DIR       where the new system is mounted while it is installed\n"
               "                       (default: /run/hyperion/target)\n"
               "      --wait SECONDS   how long 'report' waits for what it reports on\n"
               "                       (default: %u)\n"
               "      --live           run as the live system's installer unit: reboot when\n"
               "                       an unattended install is done\n"
               "  -v, --verbose        show debug messages and every command run\n"
               "  -q, --quiet          show only warnings and errors\n"
               "  -h, --help           show this help and exit\n"
               "      --version        show the version and exit\n"
               "\n"
               "The kernel option hyperion.install=unattended makes 'install' run without\n"
               "a question. See hyperion-firstboot(8).\n",
               GUEST_ARCHIVE_HOST, DEFAULT_PROFILE, REPORT_WAIT_DEFAULT);
}

static int parse_argv(int argc, char **argv) {
        enum { ARG_WIPE = 0x100, ARG_VERSION, ARG_ROOT, ARG_LIVE, ARG_WAIT, ARG_START_OVER, ARG_PURGE, ARG_HOST, ARG_OUTPUT };
        static const struct option options[] = {
                { "profile", required_argument, NULL, 'p' },
                { "disk", required_argument, NULL, 'd' },
                { "yes", no_argument, NULL, 'y' },
                { "wipe", no_argument, NULL, ARG_WIPE },
                { "start-over", no_argument, NULL, ARG_START_OVER },
                { "purge", no_argument, NULL, ARG_PURGE },
                { "host", required_argument, NULL, ARG_HOST },
                { "output", required_argument, NULL, ARG_OUTPUT },
                { "root", required_argument, NULL, ARG_ROOT },
                { "live", no_argument, NULL, ARG_LIVE },
                { "wait", required_argument, NULL, ARG_WAIT },
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
                case ARG_START_OVER: arg_start_over = true; break;
                case ARG_PURGE: arg_purge = true; break;
                case ARG_HOST: arg_host = optarg; break;
                case ARG_OUTPUT: arg_output = optarg; break;
                case ARG_ROOT: arg_root = optarg; break;
                case ARG_LIVE: arg_live = true; break;
                case ARG_WAIT: {
                        char *end;
                        unsigned long v = strtoul(optarg, &end, 10);
                        if (end == optarg || *end || v == 0 || v > 86400) {
                                log_error("--wait takes a number of seconds from 1 to 86400, not '%s'", optarg);
                                return -EINVAL;
                        }
                        arg_wait = (unsigned) v;
                        break;
                }
                case 'v': log_set_level(LOG_LEVEL_DEBUG); break;
                case 'q': log_set_level(LOG_LEVEL_WARNING); break;
                case 'h': help(); return 0;
                case ARG_VERSION: printf("hyperion-firstboot %s\n", HYPERION_VERSION); return 0;
                default: return -EINVAL;
                }
        return 1;
}

static int load_profile(Profile **ret) {
        return profile_load_or_complain(arg_profile, ret);
}

/* Is hyperion.install=unattended on the kernel command line? */
static bool unattended(void) {
        _cleanup_free_ char *cmdline = NULL;
        if (read_full_file("/proc/cmdline", &cmdline, NULL) < 0)
                return false;
        _cleanup_strv_free_ char **words = strv_split_ws(cmdline);
        return strv_contains(words, "hyperion.install=unattended");
}

/* The journal on the ext4 at start (size bytes) of a disk, read without
 * mounting anything (debugfs reads; it never writes here), or NULL. */
static char *read_journal_at(const ProbedDisk *d, unsigned number, uint64_t start, uint64_t size) {
        _cleanup_free_ char *dev = NULL, *loop = NULL;
        if (d->is_file) {
                _cleanup_free_ char *o = xasprintf("%llu", (unsigned long long) start);
                _cleanup_free_ char *sz = xasprintf("%llu", (unsigned long long) size);
                RunOptions ro = { .capture = &loop };
                if (run_ok((char *[]) { "losetup", "--find", "--show", "--read-only", "--offset", o, "--sizelimit", sz, d->path, NULL },
                           &ro) < 0)
                        return NULL;
                dev = xstrdup(strstrip(loop));
        } else
                dev = partition_node(d->path, number);
        _cleanup_free_ char *out = NULL, *err = NULL;
        RunOptions o = { .capture = &out, .capture_err = &err };
        int r = run((char *[]) { "debugfs", "-R", "cat /" JOURNAL_PATH, dev, NULL }, &o);
        if (loop)
                (void) run((char *[]) { "losetup", "--detach", dev, NULL }, NULL);
        if (r != 0 || isempty(out))
                return NULL;
        return TAKE_PTR(out);
}

/* The journal an earlier run left on the disks: on the planned root
 * partition, else on any ext4 of a disk the profile formats (the install
 * it stamps may have had another layout). */
static char *read_disk_journal(const Plan *plan) {
        size_t ri, rj;
        if (plan_find_mount(plan, "/", &ri, &rj) && plan_disk_matches(&plan->disks[ri])) {
                const PlanDisk *pd = &plan->disks[ri];
                char *text = read_journal_at(pd->dev, pd->parts[rj].number, pd->parts[rj].start, pd->parts[rj].size);
                if (text)
                        return text;
        }
        for (size_t i = 0; i < plan->n_disks; i++) {
                const PlanDisk *pd = &plan->disks[i];
                if (pd->disk->use != DISK_FORMAT || !pd->dev)
                        continue;
                for (size_t k = 0; k < pd->dev->n_parts; k++) {
                        const ProbedPart *x = &pd->dev->parts[k];
                        char *text = streq(strempty(x->fstype), "ext4") ? read_journal_at(pd->dev, x->number, x->start, x->size) : NULL;
                        if (text)
                                return text;
                }
        }
        return NULL;
}

/* Probe, match and plan; the plan, or every reason there is none. An
 * install that an earlier run of the same plan began (its journal on the
 * planned root, with the same identity) carries on without --wipe, with
 * the same UUIDs; one of another plan is refused (--start-over begins
 * again). */
static int make_plan(const Profile *p, Inventory *inv, Plan **ret, Journal *resumed) {
        int r = arg_disks ? probe_paths(arg_disks, inv) : probe_system(inv);
        if (r < 0)
                return r;
        PlanOptions o = { .wipe = arg_wipe || arg_start_over, .start_over = arg_start_over, .unattended = unattended() };
        _cleanup_strv_free_ char **errors = NULL, **ignored = NULL, **resumable = xcalloc(1, sizeof(char *));
        _cleanup_(plan_freep) Plan *layout = NULL;
        PlanOptions all = { .wipe = true, .layout_only = true };
        _cleanup_free_ char *text = plan_make(p, inv, &all, &layout, &ignored) == 0 ? read_disk_journal(layout) : NULL;
        _cleanup_strv_free_ char **found = NULL;
        Journal j = {};
        if (!text && !arg_start_over && layout && (found = plan_found_layout(layout))) {
                /* No journal, yet the profile's own table with what it
                 * preserves in place: a reinstall cut while it formatted the
                 * root. Reinstalled again from what the disks hold, keeping
                 * it; what it formats needs --wipe, as nothing proves the
                 * disks are this hyperion's (plan.c). */
                log_info("no install journal on the disks, but they hold this profile's partition table and what it preserves: "
                         "a reinstall cut while it formatted the root; planned again from the disks");
                o.previous = found;
                o.previous_found = true;
                o.previous_derived = true;
        }
        if (text && !arg_start_over) {
                int jr = journal_parse(text, &j);
                if (journal_finished(&j) && jr == 0 && j.layout[0]) {
                        /* An installed hyperion: this is a reinstall. */
                        log_debug("the disks hold a finished install (identity %.16s): a reinstall", j.identity);
                        o.previous = j.layout;
                        o.previous_found = true;
                } else if (journal_finished(&j))
                        log_debug("the disks hold a finished install of an older hyperion (no layout): data like any other");
                else if (jr == 0 && j.previous[0]) {
                        /* An interrupted reinstall: the same reinstall, planned
                         * from the layout it started from, carries on. */
                        o.previous = j.previous;
                        PlanOptions again = { .wipe = true, .layout_only = true, .previous = j.previous };
                        _cleanup_(plan_freep) Plan *re = NULL;
                        _cleanup_strv_free_ char **errs = NULL;
                        if (plan_make(p, inv, &again, &re, &errs) == 0 && streq(j.identity, re->identity)) {
                                o.seed = j.seed;
                                o.resumable = resumable;
                        } else {
                                log_error("the disks hold an unfinished reinstall of another plan (another profile, ISO or disks: "
                                          "its journal says identity %.16s); nothing was written: run the ISO it came from to "
                                          "finish it, or give --start-over to install from scratch (that formats what it preserves)",
                                          j.identity);
                                journal_release(&j);
                                return -EINVAL;
                        }
                } else if (jr == 0 && streq(j.identity, layout->identity)) {
                        /* This very plan, interrupted: carry on. */
                        o.seed = j.seed;
                        for (char **s = j.steps; *s; s++)
                                if (startswith(*s, "table "))
                                        strv_push(&resumable, *s + strlen("table "));
                        o.resumable = resumable;
                } else {
                        log_error("the disks hold an unfinished install of another plan (another profile, ISO or disks: its journal "
                                  "says identity %.16s, this plan is %.16s); nothing was written: run the ISO it came from to finish "
                                  "it, or give --start-over to begin again (that formats the disks the profile marks, as --wipe does)",
                                  isempty(j.identity) ? "(none)" : j.identity, layout->identity);
                        journal_release(&j);
                        return -EINVAL;
                }
        }
        r = plan_make(p, inv, &o, ret, &errors);
        for (char **e = errors; e && *e; e++)
                log_error("%s", *e);
        if (r < 0)
                log_error("nothing was written: fix the profile or the disks and run again");
        if (r == 0 && o.resumable && resumed)
                *resumed = j;
        else
                journal_release(&j);
        return r;
}

/* An installed hyperion, running: its install journal finished, dom0 of
 * a Xen, not the live system. Then plan and apply are day two's. */
static bool installed_host(void) {
        if (arg_host)
                return true;
        if (arg_disks || access("/proc/xen/capabilities", F_OK) < 0 || access("/run/live/medium", F_OK) == 0)
                return false;
        _cleanup_free_ char *path = xasprintf("/%s", JOURNAL_PATH), *text = NULL;
        if (read_full_file(path, &text, NULL) < 0)
                return false;
        Journal j;
        bool done = journal_parse(text, &j) == 0 && journal_finished(&j);
        journal_release(&j);
        return done;
}

static int make_changes(const Profile *p, HostState *h, ChangePlan **ret) {
        int r = arg_host ? host_load(arg_host, h) : host_describe(h);
        if (r < 0)
                return r;
        _cleanup_strv_free_ char **errors = NULL;
        r = change_make(p, h, &(ChangeOptions) { .purge = arg_purge }, ret, &errors);
        for (char **e = errors; e && *e; e++)
                log_error("%s", *e);
        if (r < 0)
                log_error("nothing was changed: fix the profile (%s) and run again", arg_profile);
        return r;
}

static int cmd_host(void) {
        HostState h;
        int r = arg_host ? host_load(arg_host, &h) : host_describe(&h);
        if (r >= 0)
                host_print(&h, stdout);
        host_release(&h);
        return r < 0 ? 1 : 0;
}

static int cmd_apply(void) {
        if (!installed_host() || arg_host) {
                log_error("'apply' changes an installed, running hyperion host (dom0 of its Xen); to install, run 'install' from the ISO");
                return 2;
        }
        _cleanup_(profile_freep) Profile *p = NULL;
        if (load_profile(&p) < 0)
                return 1;
        HostState h;
        _cleanup_(change_freep) ChangePlan *c = NULL;
        int r = make_changes(p, &h, &c);
        if (r == 0) {
                change_print(c, stdout);
                if (!c->n_changes) {
                        host_release(&h);
                        return 0;
                }
                if (!arg_yes) {
                        _cleanup_strv_free_ char **purged = xcalloc(1, sizeof(char *));
                        for (size_t i = 0; i < c->n_changes; i++)
                                for (char **v = c->changes[i].purge ? c->changes[i].volumes : NULL; v && *v; v++)
                                        strv_push(&purged, *v);
                        _cleanup_free_ char *list = strv_join(purged, ", ");
                        if (purged[0])
                                printf("\n--purge: this WIPES AND REMOVES %s.", list);
                        printf("\nType the host name '%s' to apply these changes: ", p->host.hostname);
                        fflush(stdout);
                        char line[256];
                        if (!fgets(line, sizeof line, stdin) || !streq(strstrip(line), p->host.hostname)) {
                                log_error("the host name was not typed: nothing was changed");
                                host_release(&h);
                                return 1;
                        }
                }
                r = change_apply(c);
        }
        host_release(&h);
        return r < 0 ? 1 : 0;
}

static int cmd_refresh_archive(void) {
        if (!arg_output && (!installed_host() || arg_host)) {
                log_error("'refresh-archive' makes the guest archive of an installed, running hyperion host (%s); elsewhere, "
                          "name the file with --output",
                          GUEST_ARCHIVE_HOST);
                return 2;
        }
        _cleanup_(profile_freep) Profile *p = NULL;
        if (load_profile(&p) < 0)
                return 1;
        return guest_archive_refresh(p, arg_output ? arg_output : GUEST_ARCHIVE_HOST) < 0 ? 1 : 0;
}

static int cmd_plan(void) {
        _cleanup_(profile_freep) Profile *p = NULL;
        if (load_profile(&p) < 0)
                return 1;
        if (installed_host()) {
                HostState h;
                _cleanup_(change_freep) ChangePlan *c = NULL;
                int r = make_changes(p, &h, &c);
                if (r == 0) {
                        change_print(c, stdout);
                        if (c->n_changes)
                                printf("\nThis was a dry run: nothing was changed. 'hyperion-firstboot apply' applies it.\n");
                }
                host_release(&h);
                return r < 0 ? 1 : 0;
        }
        Inventory inv = {};
        _cleanup_(plan_freep) Plan *plan = NULL;
        int r = make_plan(p, &inv, &plan, NULL);
        if (r == 0) {
                plan_print(plan, stdout);
                printf("\nThis was a dry run: nothing was written. 'hyperion-firstboot install' applies it.\n");
        }
        inventory_release(&inv);
        return r < 0 ? 1 : 0;
}

/* Type the host name to go on: a deliberate act, not a reflex "y". */
static bool confirmed(const Profile *p, const Plan *plan) {
        if (plan->reinstall)
                printf("\nThis reinstalls: it formats what the plan above makes anew and keeps what it preserves. Type the host "
                       "name '%s' to reinstall: ",
                       p->host.hostname);
        else
                printf("\nThis formats the disks marked 'format' above. Type the host name '%s' to install: ", p->host.hostname);
        fflush(stdout);
        char line[256];
        if (!fgets(line, sizeof line, stdin))
                return false;
        return streq(strstrip(line), p->host.hostname);
}

static void reboot_countdown(void) {
        printf("\nThe install is done. Rebooting in 10 seconds: remove the installation medium.\n");
        fflush(stdout);
        sleep(10);
        (void) run((char *[]) { "systemctl", "reboot", NULL }, NULL);
}

static int cmd_install(void) {
        _cleanup_(profile_freep) Profile *p = NULL;
        if (load_profile(&p) < 0)
                return 1;
        Inventory inv = {};
        _cleanup_(plan_freep) Plan *plan = NULL;
        Journal resumed = {};
        int r = make_plan(p, &inv, &plan, &resumed);
        if (r == 0) {
                plan_print(plan, stdout);
                bool auto_yes = arg_yes || unattended();
                if (!auto_yes && !confirmed(p, plan)) {
                        log_error("the host name was not typed: nothing was written");
                        r = -ECANCELED;
                } else {
                        /* The disks are checked again after the prompt, before any write. */
                        ApplyOptions ao = { .root = arg_root, .resumed = resumed.steps ? &resumed : NULL };
                        r = apply_plan(plan, &ao);
                }
        }
        journal_release(&resumed);
        inventory_release(&inv);
        if (r >= 0 && arg_live) {
                if (unattended())
                        reboot_countdown();
                else
                        printf("\nThe install is done. Reboot when you are ready (remove the installation medium).\n");
        }
        return r == -EINTR ? 130 : r < 0 ? 1 : 0;
}

/* On the installed system, its journal; on the live system, the one on the disks. */
static int cmd_status(void) {
        _cleanup_free_ char *text = NULL;
        _cleanup_free_ char *path = xasprintf("/%s", JOURNAL_PATH);
        const char *last = "done";
        _cleanup_free_ char *last_id = NULL;
        if (read_full_file(path, &text, NULL) < 0) {
                _cleanup_(profile_freep) Profile *p = NULL;
                if (load_profile(&p) < 0)
                        return 1;
                Inventory inv = {};
                int r = arg_disks ? probe_paths(arg_disks, &inv) : probe_system(&inv);
                PlanOptions all = { .wipe = true, .layout_only = true };
                _cleanup_(plan_freep) Plan *layout = NULL;
                _cleanup_strv_free_ char **ignored = NULL;
                if (r >= 0 && plan_make(p, &inv, &all, &layout, &ignored) == 0) {
                        text = read_disk_journal(layout);
                        last = last_id = xstrdup(layout->steps[layout->n_steps - 1].id);
                }
                inventory_release(&inv);
        }
        if (!text) {
                printf("no install journal: nothing was installed on these disks\n");
                return 0;
        }
        Journal j;
        bool ours = journal_parse(text, &j) == 0;
        printf("install journal: %s%s%.16s\n", journal_done(&j, last) ? "finished" : "not finished",
               ours ? ", identity " : " (an older hyperion's, without an identity)", ours ? j.identity : "");
        for (char **s = j.steps; *s; s++)
                printf("  done: %s\n", *s);
        journal_release(&j);
        return 0;
}

/* On the live system's console, what was printed is sent before we go: the
 * login that starts next hangs the terminal up (vhangup), and a serial line
 * under a slow machine would lose the last lines (the reason for a refusal). */
static void drain_console(void) {
        fflush(stdout);
        fflush(stderr);
        for (int fd = STDOUT_FILENO; fd <= STDERR_FILENO; fd++)
                if (isatty(fd))
                        (void) tcdrain(fd);
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
        if (optind + 1 < argc && !streq(cmd, "guests")) {
                log_error("unexpected argument '%s' (see --help)", argv[optind + 1]);
                strv_free(arg_disks);
                return 2;
        }
        int status;
        if (streq(cmd, "plan"))
                status = cmd_plan();
        else if (streq(cmd, "install"))
                status = cmd_install();
        else if (streq(cmd, "status"))
                status = cmd_status();
        else if (streq(cmd, "apply"))
                status = cmd_apply();
        else if (streq(cmd, "host"))
                status = cmd_host();
        else if (streq(cmd, "refresh-archive"))
                status = cmd_refresh_archive();
        else if (streq(cmd, "guests") || streq(cmd, "report")) {
                _cleanup_(profile_freep) Profile *p = NULL;
                if (load_profile(&p) < 0)
                        status = 1;
                else
                        status = (streq(cmd, "guests") ? guests_create(p, argv + optind + 1)
                                                       : guests_report(p, &(ReportOptions) { .wait_seconds = arg_wait })) < 0
                                         ? 1
                                         : 0;
        } else {
                log_error("unknown command '%s' (see --help)", cmd);
                status = 2;
        }
        strv_free(arg_disks);
        drain_console();
        return status;
}
