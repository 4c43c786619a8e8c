/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "report.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guests.h"
#include "log.h"
#include "medium.h"
#include "run.h"
#include "size.h"
#include "strutil.h"
#include "xl.h"

#define POLL_SECONDS 2
#define CONSOLE_TAIL (4u << 20)
#define LAST_LINES 12

/* ---- pieces ----------------------------------------------------------------- */

void guest_ready_done(GuestReady *g) {
        free(g->swap);
        free(g->address);
        free(g->ssh);
        free(g->failed);
        free(g->domain);
        *g = (GuestReady) {};
}

/* "[2026-12-01 15:17:18] " at s: the time it names (local time), or -1. */
static time_t stamp_time(const char *s) {
        struct tm tm = { .tm_isdst = -1 };
        if (s[0] != '[')
                return (time_t) -1;
        const char *end = strptime(s + 1, "%Y-%m-%d %H:%M:%S", &tm);
        if (!end || *end != ']')
                return (time_t) -1;
        return mktime(&tm);
}

static const char *line_start(const char *text, const char *p) {
        while (p > text && p[-1] != '\n')
                p--;
        return p;
}

const char *console_current(const char *log, time_t *opened) {
        *opened = (time_t) -1;
        const char *last = NULL;
        for (const char *p = strstr(log, CONSOLE_LOG_OPENED); p; p = strstr(p + 1, CONSOLE_LOG_OPENED))
                last = p;
        if (!last)
                return log;
        *opened = stamp_time(line_start(log, last));
        const char *nl = strchr(last, '\n');
        return nl ? nl + 1 : last + strlen(last);
}

/* The next "; "-separated field of the ready line, after its label. */
static char *field(const char **p, const char *label) {
        const char *s = *p;
        if (!startswith(s, label))
                return NULL;
        s += strlen(label);
        size_t line = strcspn(s, "\r\n");
        const char *end = strstr(s, "; ");
        if (end && (size_t) (end - s) > line)
                end = NULL;
        size_t n = end ? (size_t) (end - s) : line;
        *p = end ? end + 2 : s + n;
        /* The guest's own words: nothing in them may act on dom0's
         * terminal (erase, move, answer back). */
        char *v = xstrndup(s, n);
        return strstrip(str_terminal_safe(v));
}

/* The fields after "NAME up after ". */
static bool parse_ready(const char *p, GuestReady *ret) {
        char *end;
        unsigned long up = strtoul(p, &end, 10);
        if (end == p || !startswith(end, " s: multi-user; "))
                return false;
        p = end + strlen(" s: multi-user; ");
        GuestReady g = { .up_seconds = (unsigned) up };
        g.swap = field(&p, "swap ");
        g.address = g.swap ? field(&p, "address ") : NULL;
        g.ssh = g.address ? field(&p, "ssh ") : NULL;
        g.failed = g.ssh ? field(&p, "failed ") : NULL;
        g.domain = g.failed ? field(&p, "domain ") : NULL;
        if (!g.domain) {
                guest_ready_done(&g);
                return false;
        }
        *ret = g;
        return true;
}

int guest_ready_parse(const char *section, const char *name, const char *domain, GuestReady *ret) {
        _cleanup_free_ char *needle = xasprintf(GUEST_READY_PREFIX "%s up after ", name);
        /* The last line of that domain (of any, without one). */
        const char *best = NULL;
        GuestReady found = {};
        for (const char *p = strstr(section, needle); p; p = strstr(p + 1, needle)) {
                GuestReady g = {};
                if (parse_ready(p + strlen(needle), &g) && (!domain || streq(g.domain, domain))) {
                        guest_ready_done(&found);
                        found = g;
                        best = p;
                } else
                        guest_ready_done(&g);
        }
        if (!best)
                return 0;
        *ret = found;
        return 1;
}

char **console_last_lines(const char *section, size_t n) {
        _cleanup_strv_free_ char **all = strv_split_lines(section);
        char **out = xcalloc(1, sizeof(char *));
        size_t len = strv_length(all);
        size_t kept = 0, first = len;
        /* From the end, the last n lines with something printable in them. */
        while (first > 0 && kept < n) {
                first--;
                const char *s = all[first];
                bool visible = false;
                for (const char *c = s; *c; c++)
                        visible |= isgraph((unsigned char) *c);
                if (visible)
                        kept++;
                else
                        all[first][0] = 0;
        }
        for (size_t i = first; i < len; i++) {
                if (!all[i][0])
                        continue;
                strv_push(&out, strstrip(str_terminal_safe(all[i])));
        }
        return out;
}

char *mount_unit_name(const char *path) {
        while (*path == '/')
                path++;
        size_t n = strlen(path);
        while (n > 0 && path[n - 1] == '/')
                n--;
        if (n == 0)
                return xstrdup("-.mount");
        _cleanup_free_ char *out = xcalloc(n * 4 + 1, 1);
        char *o = out;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) path[i];
                if (c == '/') {
                        /* runs of slashes are one */
                        if (o > out && o[-1] != '-')
                                *o++ = '-';
                } else if (isalnum(c) || c == ':' || c == '_' || (c == '.' && i > 0))
                        *o++ = (char) c;
                else
                        o += sprintf(o, "\\x%02x", c);
        }
        return xasprintf("%s.mount", out);
}

/* ---- the machine ------------------------------------------------------------ */

/* The last CONSOLE_TAIL bytes of guest NAME's console log, or NULL. */
static char *read_console(const char *dir, const char *name) {
        _cleanup_free_ char *path = xasprintf("%s/guest-%s.log", dir, name);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return NULL;
        off_t from = st.st_size > (off_t) CONSOLE_TAIL ? st.st_size - (off_t) CONSOLE_TAIL : 0;
        size_t want = (size_t) (st.st_size - from);
        char *buf = xmalloc(want + 1);
        ssize_t got = pread(fd, buf, want, from);
        if (got < 0) {
                free(buf);
                return NULL;
        }
        buf[got] = 0;
        /* NUL bytes would end the text early: they are nothing to us. */
        for (ssize_t i = 0; i < got; i++)
                if (!buf[i])
                        buf[i] = ' ';
        return buf;
}

/* Is path a mount point now? Its filesystem type and source. */
static bool mounted(const char *path, char **fstype, char **source) {
        _cleanup_free_ char *text = NULL;
        if (read_full_file("/proc/self/mountinfo", &text, NULL) < 0)
                return false;
        _cleanup_strv_free_ char **lines = strv_split_lines(text);
        for (char **l = lines; *l; l++) {
                _cleanup_strv_free_ char **w = strv_split_ws(*l);
                size_t n = strv_length(w), dash = 0;
                for (size_t i = 6; i < n; i++)
                        if (streq(w[i], "-")) {
                                dash = i;
                                break;
                        }
                if (n < 5 || !dash || dash + 2 >= n || !streq(w[4], path))
                        continue;
                *fstype = xstrdup(w[dash + 1]);
                *source = xstrdup(w[dash + 2]);
                return true;
        }
        return false;
}

static char *unit_state(const char *unit) {
        _cleanup_free_ char *out = NULL;
        RunOptions o = { .capture = &out, .quiet = true };
        if (run((char *[]) { "systemctl", "show", "--property=ActiveState", "--value", (char *) unit, NULL }, &o) != 0 || !out)
                return xstrdup("unknown");
        return xstrdup(strstrip(out));
}

typedef struct Item {
        const char *name;
        const Domain *domain; /* a guest, or */
        const Disk *disk;     /* a kept disk's filesystem */
        bool decided, up;
        bool failed; /* this boot's creation of it failed: no domain to wait for */
} Item;

static void say(const char *fmt, ...) _printf_(1, 2);
static void say(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        fputs("hyperion-guests: ", stdout);
        vprintf(fmt, ap);
        fputc('\n', stdout);
        fflush(stdout);
        va_end(ap);
}

/* 1: decided (up or failed), 0: not yet. */
static int check_disk(Item *it, bool last) {
        const Disk *d = it->disk;
        _cleanup_free_ char *fstype = NULL, *source = NULL;
        if (mounted(d->mount, &fstype, &source)) {
                say("kept disk %s: %s mounted (%s from %s)", d->head.name, d->mount, fstype, source);
                it->up = true;
                return 1;
        }
        _cleanup_free_ char *unit = mount_unit_name(d->mount);
        _cleanup_free_ char *state = unit_state(unit);
        if (streq(state, "failed") || last) {
                say("kept disk %s: %s NOT mounted (%s is %s): its filesystem may need a check; see 'systemctl status %s'",
                    d->head.name, d->mount, unit, state, unit);
                return 1;
        }
        return 0;
}

static int check_guest(Item *it, Xl *xl, const ReportOptions *o, unsigned waited, bool last) {
        const Domain *d = it->domain;
        const char *name = d->head.name;
        XlGuest x;
        char mem[SIZE_BUF];
        if (!xl_guest(xl, name, &x)) {
                if (!last && d->autostart && !it->failed)
                        return 0;
                say("guest %s not running: no domain of that name%s", name,
                    it->failed ? " (its creation failed: see above)" : d->autostart ? "" : " (AutoStart=no)");
                return 1;
        }
        format_size(mem, x.memory);
        uint32_t domid = x.domid;
        const char *state = x.state;
        _cleanup_free_ char *log = read_console(o->console_dir, name);
        time_t opened;
        const char *section = log ? console_current(log, &opened) : "";
        /* This domain's line, not the one before a reboot: its UUID says. */
        GuestReady g = {};
        if (streq(state, "running") && guest_ready_parse(section, name, x.uuid, &g) > 0) {
                _cleanup_free_ char *addr = streq(g.address, "none") ? xstrdup("none")
                                                                     : xasprintf("%s on %s", strchr(g.address, ' ') ? strchr(g.address, ' ') + 1 : g.address,
                                                                                 d->bridges[0]);
                say("guest %s id %u memory %s state %s; system up after %u s (multi-user); swap %s%s%s; address %s; ssh %s; "
                    "failed units %s",
                    name, domid, mem, state, g.up_seconds, streq(g.swap, "none") ? "off" : "on (", streq(g.swap, "none") ? "" : g.swap,
                    streq(g.swap, "none") ? "" : ")", addr, g.ssh, g.failed);
                it->up = streq(g.failed, "none") && !streq(g.swap, "none");
                guest_ready_done(&g);
                return 1;
        }
        if (!last && d->autostart)
                return 0;
        say("guest %s id %u memory %s state %s; system NOT up after %u s; %s", name, domid, mem, state, waited,
            !log ? "no console log (" CONSOLE_LOG_DIR ")" : "the last lines of its console:");
        _cleanup_strv_free_ char **lines = console_last_lines(section, LAST_LINES);
        for (char **l = lines; *l; l++)
                say("  | %s", *l);
        return 1;
}

/* This boot's GUESTS_CREATED, a line a creation ("NAME what it went through"). */
static char **read_creations(void) {
        _cleanup_free_ char *text = NULL;
        if (read_full_file(GUESTS_CREATED, &text, NULL) < 0)
                return xcalloc(1, sizeof(char *));
        return strv_split_lines(text);
}

const char *guest_creation_of(char *const *lines, const char *name) {
        const char *w = NULL;
        size_t k = strlen(name);
        for (char *const *l = lines; *l; l++)
                if (strncmp(*l, name, k) == 0 && (*l)[k] == ' ')
                        w = *l + k + 1;
        return w;
}

int guests_report(const Profile *p, const ReportOptions *opts) {
        ReportOptions o = opts ? *opts : (ReportOptions) {};
        if (!o.wait_seconds)
                o.wait_seconds = REPORT_WAIT_DEFAULT;
        if (!o.console_dir)
                o.console_dir = CONSOLE_LOG_DIR;
        Xl xl;
        int r = xl_open(&xl);
        if (r < 0)
                return r;
        char sz[SIZE_BUF];
        libxl_dominfo info;
        libxl_dominfo_init(&info);
        if (libxl_domain_info(xl.ctx, &info, 0) == 0)
                say("dom0 memory %s", format_size(sz, info.current_memkb * KiB));
        libxl_dominfo_dispose(&info);

        _cleanup_free_ Item *items = xcalloc(p->n_disks + p->n_domains + 1, sizeof(Item));
        size_t n = 0, n_disks = 0, n_guests = 0;
        for (size_t i = 0; i < p->n_disks; i++)
                if (p->disks[i]->use == DISK_KEEP && !isempty(p->disks[i]->mount)) {
                        items[n++] = (Item) { .name = p->disks[i]->head.name, .disk = p->disks[i] };
                        n_disks++;
                }
        _cleanup_strv_free_ char **creations = read_creations();
        _cleanup_strv_free_ char **pending = xcalloc(1, sizeof(char *));
        for (size_t i = 0; i < p->n_domains; i++) {
                const char *name = p->domains[i]->head.name, *w = guest_creation_of(creations, name);
                if (w && streq(w, GUEST_PENDING)) {
                        strv_push(&pending, name);
                        continue;
                }
                items[n++] = (Item) { .name = name, .domain = p->domains[i], .failed = w && !startswith(w, "created") };
                n_guests += p->domains[i]->autostart;
        }
        say("waiting up to %u s for %zu kept filesystem%s and %zu guest%s to be up", o.wait_seconds, n_disks, n_disks == 1 ? "" : "s",
            n_guests, n_guests == 1 ? "" : "s");
        for (char **l = creations; *l; l++)
                if (strstr(*l, "attempt"))
                        say("creation of guest %s", *l);
        for (char **q = pending; *q; q++)
                say("guest %s: in the profile but not made yet: 'hyperion-firstboot plan' shows it, 'apply' makes it", *q);

        uint64_t start = now_usec();
        for (;;) {
                unsigned waited = (unsigned) ((now_usec() - start) / 1000000);
                bool last = waited >= o.wait_seconds, all = true;
                for (size_t i = 0; i < n; i++) {
                        Item *it = &items[i];
                        if (it->decided)
                                continue;
                        it->decided = (it->disk ? check_disk(it, last) : check_guest(it, &xl, &o, waited, last)) > 0;
                        all &= it->decided;
                }
                if (all)
                        break;
                sleep(POLL_SECONDS);
        }
        size_t up_disks = 0, up_guests = 0;
        for (size_t i = 0; i < n; i++)
                if (items[i].up && (items[i].disk || items[i].domain->autostart))
                        (*(items[i].disk ? &up_disks : &up_guests))++;
        say("report done: %zu of %zu guests up (multi-user, swap on, no failed unit), %zu of %zu kept filesystems mounted",
            up_guests, n_guests, up_disks, n_disks);
        xl_close(&xl);
        if (up_guests < n_guests || up_disks < n_disks)
                return log_error_errno(EAGAIN, "not everything is up: see the lines above");
        return 0;
}
