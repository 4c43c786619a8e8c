/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "change.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libxlutil.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guard.h"
#include "guests.h"
#include "log.h"
#include "lvm.h"
#include "mkfs.h"
#include "plan.h"
#include "run.h"
#include "sha256.h"
#include "size.h"
#include "strutil.h"
#include "xen.h"
#include "xl.h"

#define CFG_MARK "written by hyperion-firstboot"

/* ---- the host, described ------------------------------------------------------ */

void host_release(HostState *h) {
        inventory_release(&h->net);
        strv_free(h->bridges);
        for (size_t i = 0; i < h->n_groups; i++)
                free(h->groups[i].name);
        free(h->groups);
        for (size_t i = 0; i < h->n_volumes; i++) {
                free(h->volumes[i].group);
                free(h->volumes[i].name);
        }
        free(h->volumes);
        for (size_t i = 0; i < h->n_guests; i++) {
                free(h->guests[i].name);
                free(h->guests[i].cfg);
        }
        free(h->guests);
        *h = (HostState) {};
}

static HostGuest *host_guest(HostState *h, const char *name, bool add) {
        for (size_t i = 0; i < h->n_guests; i++)
                if (streq(h->guests[i].name, name))
                        return &h->guests[i];
        if (!add)
                return NULL;
        h->guests = xrealloc(h->guests, (h->n_guests + 1) * sizeof(HostGuest));
        HostGuest *g = &h->guests[h->n_guests++];
        *g = (HostGuest) { .name = xstrdup(name) };
        return g;
}

static const HostVolume *host_volume(const HostState *h, const char *group, const char *name) {
        for (size_t i = 0; i < h->n_volumes; i++)
                if (streq(h->volumes[i].group, group) && streq(h->volumes[i].name, name))
                        return &h->volumes[i];
        return NULL;
}

static const HostGroup *host_group(const HostState *h, const char *name) {
        for (size_t i = 0; i < h->n_groups; i++)
                if (streq(h->groups[i].name, name))
                        return &h->groups[i];
        return NULL;
}

static void add_volume(HostState *h, const char *group, const char *name, uint64_t size) {
        h->volumes = xrealloc(h->volumes, (h->n_volumes + 1) * sizeof(HostVolume));
        h->volumes[h->n_volumes++] = (HostVolume) { .group = xstrdup(group), .name = xstrdup(name), .size = size };
}

static void add_group(HostState *h, const char *name, uint64_t free_b, uint64_t extent) {
        h->groups = xrealloc(h->groups, (h->n_groups + 1) * sizeof(HostGroup));
        h->groups[h->n_groups++] = (HostGroup) { .name = xstrdup(name), .free = free_b, .extent = extent };
}

/* The cfg files hyperion wrote in dir (others are the admin's: left alone). */
static int read_cfgs(HostState *h, const char *dir) {
        struct dirent **list = NULL;
        int n = scandir(dir, &list, NULL, alphasort);
        if (n < 0)
                return errno == ENOENT ? 0 : log_error_errno(errno, "cannot read '%s': %m", dir);
        for (int i = 0; i < n; i++) {
                const char *f = list[i]->d_name;
                if (endswith(f, ".cfg") && strlen(f) > 4) {
                        _cleanup_free_ char *path = path_join(dir, f), *text = NULL;
                        struct stat st;
                        if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && read_full_file(path, &text, NULL) >= 0 &&
                            strstr(text, CFG_MARK)) {
                                _cleanup_free_ char *name = xstrndup(f, strlen(f) - 4);
                                HostGuest *g = host_guest(h, name, true);
                                free(g->cfg);
                                g->cfg = TAKE_PTR(text);
                        }
                }
                free(list[i]);
        }
        free(list);
        return 0;
}

/* "vg0:4194304:429496729600" lines of an LVM report, split at ':'. */
static char **report_fields(const char *line, size_t want) {
        _cleanup_free_ char *t = xstrdup(line);
        char **f = xcalloc(1, sizeof(char *));
        char *save = NULL;
        for (char *w = strtok_r(strstrip(t), ":", &save); w; w = strtok_r(NULL, ":", &save))
                strv_push(&f, strstrip(w));
        if (strv_length(f) != want) {
                strv_free(f);
                return NULL;
        }
        return f;
}

/* liblvm2cmd, opened once for the process (describing the host, then
 * applying the changes): the guard it checks writes against is apply's. */
static Lvm the_lvm;
static bool the_lvm_open;

static Lvm *change_lvm(const Guard *g) {
        if (!the_lvm_open) {
                if (lvm_open(&the_lvm, g, false) < 0)
                        return NULL;
                the_lvm_open = true;
        }
        the_lvm.guard = g;
        return &the_lvm;
}

int host_describe(HostState *h) {
        *h = (HostState) {};
        h->bridges = xcalloc(1, sizeof(char *));
        probe_network(&h->net);
        DIR *d = opendir("/sys/class/net");
        for (struct dirent *e; d && (e = readdir(d));) {
                if (e->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *br = xasprintf("/sys/class/net/%s/bridge", e->d_name);
                if (access(br, F_OK) == 0)
                        strv_push(&h->bridges, e->d_name);
        }
        if (d)
                closedir(d);
        strv_sort(h->bridges);

        static const Guard none = {};
        Lvm *l = change_lvm(&none);
        if (!l)
                return -EIO;
        _cleanup_free_ char *vgs = NULL, *lvs = NULL;
        int r = lvm_run(l, (char *[]) { "vgs", "--noheadings", "--units", "b", "--nosuffix", "--separator", ":", "-o", "vg_name,vg_free,vg_extent_size", NULL },
                    &vgs);
        if (r >= 0)
                r = lvm_run(l, (char *[]) { "lvs", "--noheadings", "--units", "b", "--nosuffix", "--separator", ":", "-o", "vg_name,lv_name,lv_size", NULL },
                            &lvs);
        if (r < 0)
                return log_error_errno(r, "cannot read the volume groups");
        _cleanup_strv_free_ char **vl = strv_split_lines(strempty(vgs)), **ll = strv_split_lines(strempty(lvs));
        for (char **x = vl; *x; x++) {
                _cleanup_strv_free_ char **f = report_fields(*x, 3);
                if (f)
                        add_group(h, f[0], strtoull(f[1], NULL, 10), strtoull(f[2], NULL, 10));
        }
        for (char **x = ll; *x; x++) {
                _cleanup_strv_free_ char **f = report_fields(*x, 3);
                if (f)
                        add_volume(h, f[0], f[1], strtoull(f[2], NULL, 10));
        }

        if ((r = read_cfgs(h, "/etc/xen")) < 0)
                return r;
        for (size_t i = 0; i < h->n_guests; i++) {
                _cleanup_free_ char *link = xasprintf("/etc/xen/auto/%s.cfg", h->guests[i].name);
                h->guests[i].autostart = access(link, F_OK) == 0;
        }
        Xl xl;
        if ((r = xl_open(&xl)) < 0)
                return r;
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ uint32_t *ids = NULL;
        _cleanup_free_ uint64_t *max = NULL;
        size_t n = 0;
        r = xl_list(&xl, &names, &ids, &max, &n);
        h->free_memory = xl_free_memory(&xl);
        xl_close(&xl);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                HostGuest *g = host_guest(h, names[i], true);
                g->running = true;
                g->domid = ids[i];
                g->max_memory = max[i];
        }
        h->archive = access(GUEST_ARCHIVE_HOST, R_OK) == 0;
        return 0;
}

void host_print(const HostState *h, FILE *f) {
        char a[SIZE_BUF], b[SIZE_BUF];
        fprintf(f, "# the host as hyperion-firstboot sees it\n");
        if (h->free_memory)
                fprintf(f, "memory free %s\n", format_size(a, h->free_memory));
        fprintf(f, "archive %s\n", h->archive ? "yes" : "no");
        for (size_t i = 0; i < h->net.n_nics; i++)
                fprintf(f, "nic %s %s%s\n", h->net.nics[i].name, strempty(h->net.nics[i].mac), h->net.nics[i].wireless ? " wireless" : "");
        for (char **x = h->bridges; x && *x; x++)
                fprintf(f, "bridge %s\n", *x);
        for (size_t i = 0; i < h->n_groups; i++)
                fprintf(f, "group %s free %s extent %s\n", h->groups[i].name, format_size(a, h->groups[i].free),
                        format_size(b, h->groups[i].extent));
        for (size_t i = 0; i < h->n_volumes; i++)
                fprintf(f, "volume %s/%s %s\n", h->volumes[i].group, h->volumes[i].name, format_size(a, h->volumes[i].size));
        for (size_t i = 0; i < h->n_guests; i++) {
                const HostGuest *g = &h->guests[i];
                fprintf(f, "guest %s%s%s", g->name, g->cfg ? " cfg" : "", g->autostart ? " autostart" : "");
                if (g->running)
                        fprintf(f, " running %" PRIu32 " maxmem %s", g->domid, format_size(a, g->max_memory));
                fputc('\n', f);
        }
}

static int parse_size_word(const char *w, uint64_t *v) {
        return w && parse_size(w, v) >= 0 ? 0 : -EINVAL;
}

int host_load(const char *dir, HostState *h) {
        *h = (HostState) {};
        h->bridges = xcalloc(1, sizeof(char *));
        _cleanup_free_ char *path = path_join(dir, "host"), *text = NULL;
        int r = read_full_file(path, &text, NULL);
        if (r < 0)
                return log_error_errno(r, "cannot read '%s': %m", path);
        _cleanup_strv_free_ char **lines = strv_split_lines(text);
        unsigned n = 0;
        for (char **l = lines; *l; l++) {
                n++;
                _cleanup_strv_free_ char **w = strv_split_ws(*l);
                size_t k = strv_length(w);
                if (k == 0 || w[0][0] == '#')
                        continue;
                uint64_t a = 0, b = 0;
                bool ok = true;
                if (streq(w[0], "memory") && k == 3)
                        ok = parse_size_word(w[2], &h->free_memory) == 0;
                else if (streq(w[0], "archive") && k == 2)
                        h->archive = streq(w[1], "yes");
                else if (streq(w[0], "nic") && k >= 3)
                        inventory_add_nic(&h->net, w[1], w[2], k > 3 && streq(w[3], "wireless"));
                else if (streq(w[0], "bridge") && k == 2)
                        strv_push(&h->bridges, w[1]);
                else if (streq(w[0], "group") && k == 6 && (ok = parse_size_word(w[3], &a) == 0 && parse_size_word(w[5], &b) == 0))
                        add_group(h, w[1], a, b);
                else if (streq(w[0], "volume") && k == 3 && strchr(w[1], '/') && (ok = parse_size_word(w[2], &a) == 0)) {
                        _cleanup_free_ char *g = xstrndup(w[1], (size_t) (strchr(w[1], '/') - w[1]));
                        add_volume(h, g, strchr(w[1], '/') + 1, a);
                } else if (streq(w[0], "guest") && k >= 2) {
                        HostGuest *g = host_guest(h, w[1], true);
                        for (size_t i = 2; i < k && ok; i++)
                                if (streq(w[i], "autostart"))
                                        g->autostart = true;
                                else if (streq(w[i], "cfg"))
                                        ; /* read from xen/NAME.cfg below */
                                else if (streq(w[i], "running") && i + 1 < k) {
                                        g->running = true;
                                        g->domid = (uint32_t) strtoul(w[++i], NULL, 10);
                                } else if (streq(w[i], "maxmem") && i + 1 < k)
                                        ok = parse_size_word(w[++i], &g->max_memory) == 0;
                                else
                                        ok = false;
                } else
                        ok = false;
                if (!ok)
                        return log_error_errno(EINVAL, "%s:%u: cannot read '%s'", path, n, *l);
        }
        _cleanup_free_ char *xen = path_join(dir, "xen");
        return read_cfgs(h, xen);
}

/* ---- the difference (pure) ----------------------------------------------------- */

void change_free(ChangePlan *c) {
        if (!c)
                return;
        for (size_t i = 0; i < c->n_changes; i++) {
                Change *x = &c->changes[i];
                free(x->id);
                free(x->what);
                free(x->nic);
                free(x->name);
                free(x->text);
                strv_free(x->volumes);
        }
        free(c->changes);
        strv_free(c->notes);
        free(c);
}

static Change *add_change(ChangePlan *c, ChangeKind kind, const char *name, char *id, char *what) {
        c->changes = xrealloc(c->changes, (c->n_changes + 1) * sizeof(Change));
        Change *x = &c->changes[c->n_changes++];
        *x = (Change) { .kind = kind, .id = id, .what = what, .name = xstrdup(name) };
        return x;
}

/* What a cfg says, as libxlutil reads it. */
typedef struct CfgValues {
        long memory, maxmem, vcpus;
        char *type, *vif, *disk, *kernel, *cmdline;
} CfgValues;

static char *cfg_list_joined(XLU_Config *cfg, const char *key) {
        XLU_ConfigList *list = NULL;
        int count = 0;
        if (xlu_cfg_get_list(cfg, key, &list, &count, 0))
                return xstrdup("");
        _cleanup_strv_free_ char **l = xcalloc(1, sizeof(char *));
        for (int i = 0; i < count; i++)
                strv_push(&l, strempty(xlu_cfg_get_listitem(list, i)));
        return strv_join(l, " | ");
}

static char *cfg_string(XLU_Config *cfg, const char *key) {
        const char *s = NULL;
        return xstrdup(xlu_cfg_get_string(cfg, key, &s, 0) ? "" : strempty(s));
}

static int cfg_values(const char *name, const char *text, CfgValues *v) {
        *v = (CfgValues) {};
        FILE *devnull = fopen("/dev/null", "we");
        XLU_Config *cfg = xlu_cfg_init(devnull ? devnull : stderr, name);
        if (!cfg) {
                if (devnull)
                        fclose(devnull);
                return -ENOMEM;
        }
        int r = xlu_cfg_readdata(cfg, text, (int) strlen(text));
        if (r == 0) {
                (void) xlu_cfg_get_long(cfg, "memory", &v->memory, 0);
                (void) xlu_cfg_get_long(cfg, "maxmem", &v->maxmem, 0);
                (void) xlu_cfg_get_long(cfg, "vcpus", &v->vcpus, 0);
                v->type = cfg_string(cfg, "type");
                v->kernel = cfg_string(cfg, "kernel");
                v->cmdline = cfg_string(cfg, "cmdline");
                v->vif = cfg_list_joined(cfg, "vif");
                v->disk = cfg_list_joined(cfg, "disk");
        }
        xlu_cfg_destroy(cfg);
        if (devnull)
                fclose(devnull);
        return r == 0 ? 0 : -EINVAL;
}

static void cfg_values_done(CfgValues *v) {
        free(v->type);
        free(v->vif);
        free(v->disk);
        free(v->kernel);
        free(v->cmdline);
}

static uint64_t round_extent(uint64_t size, uint64_t extent) {
        if (!extent)
                return size;
        uint64_t r = size % extent;
        return r ? size + (extent - r) : size;
}

typedef struct Room {
        const char *group;
        uint64_t need;
} Room;

static void need_room(Room *rooms, size_t *n, const char *group, uint64_t bytes) {
        for (size_t i = 0; i < *n; i++)
                if (streq(rooms[i].group, group)) {
                        rooms[i].need += bytes;
                        return;
                }
        rooms[(*n)++] = (Room) { group, bytes };
}

/* A guest of the profile that the host has no configuration of. */
static void plan_new_guest(ChangePlan *c, const Domain *d, Room *rooms, size_t *n_rooms, uint64_t *memory, char ***errors) {
        const HostState *h = c->host;
        const char *name = d->head.name;
        const HostGroup *g = host_group(h, d->volume_group);
        char a[SIZE_BUF], b[SIZE_BUF], m[SIZE_BUF];
        _cleanup_free_ char *dn = xasprintf("%s-disk", name), *sn = xasprintf("%s-swap", name);
        const HostVolume *disk = host_volume(h, d->volume_group, dn), *swap = host_volume(h, d->volume_group, sn);
        Loc loc = d->head.loc;
        if (!g) {
                strv_consume(errors, xasprintf("%s:%u: guest %s: this host has no volume group %s", loc.file, loc.line, name,
                                               d->volume_group));
                return;
        }
        _cleanup_free_ char *nics = domain_nics(d);
        Change *x;
        if (disk) {
                /* Its volumes are there: a guest retired before, back. */
                if (disk->size < d->disk)
                        strv_consume(errors, xasprintf("%s:%u: guest %s: its kept volume %s/%s is %s, the profile gives Disk=%s: bring "
                                                       "it back first with its old size, then make it larger",
                                                       loc.file, loc.line, name, d->volume_group, dn, format_size(a, disk->size),
                                                       format_size(b, d->disk)));
                if (d->swap && !swap)
                        strv_consume(errors, xasprintf("%s:%u: guest %s: its volumes are kept but %s/%s is not there", loc.file,
                                                       loc.line, name, d->volume_group, sn));
                x = add_change(c, CHANGE_GUEST_BACK, name, xasprintf("guest %s", name),
                               xasprintf("guest %s: its kept volumes registered again (%s/%s%s%s%s%s), nothing of them written; "
                                         "/etc/xen/%s.cfg on %s; %s",
                                         name, d->volume_group, dn, swap ? ", " : "", swap ? d->volume_group : "", swap ? "/" : "",
                                         swap ? sn : "", name, nics,
                                         d->autostart ? "created through libxenlight, linked into /etc/xen/auto" : "not started (Autostart=no)"));
        } else {
                if (swap)
                        strv_consume(errors, xasprintf("%s:%u: guest %s: %s/%s exists without %s: remove it or rename the guest",
                                                       loc.file, loc.line, name, d->volume_group, sn, dn));
                uint64_t need = round_extent(d->disk, g->extent) + round_extent(d->swap, g->extent);
                need_room(rooms, n_rooms, d->volume_group, need);
                if (!h->archive)
                        strv_consume(errors, xasprintf("%s:%u: guest %s: no guest archive on this host (%s): its root filesystem comes "
                                                       "from it",
                                                       loc.file, loc.line, name, GUEST_ARCHIVE_HOST));
                _cleanup_free_ char *pkgs = strv_join(d->packages, " ");
                _cleanup_free_ char *extra = xasprintf("%s%s%s%s%s", d->packages[0] ? ", packages " : "", pkgs,
                                                       isempty(d->overlay) ? "" : ", the overlay ", strempty(d->overlay),
                                                       isempty(d->overlay) ? "" : "/ laid over it");
                x = add_change(c, CHANGE_GUEST_NEW, name, xasprintf("guest %s", name),
                               xasprintf("guest %s: new: lv %s/%s %s%s%s%s%s%s%s, ext4 with its root from %s%s, its own SSH host keys; "
                                         "/etc/xen/%s.cfg (%s, memory %s, %u vcpu%s) on %s; %s",
                                         name, d->volume_group, dn, format_size(a, d->disk), d->swap ? ", lv " : "",
                                         d->swap ? d->volume_group : "", d->swap ? "/" : "", d->swap ? sn : "", d->swap ? " " : "", d->swap ? format_size(b, d->swap) : "",
                                         GUEST_ARCHIVE_HOST, extra, name, guest_type_to_string(d->type), format_size(m, d->memory), d->vcpus,
                                         d->vcpus == 1 ? "" : "s", nics,
                                         d->autostart ? "created through libxenlight, linked into /etc/xen/auto" : "not started (Autostart=no)"));
        }
        x->domain = d;
        x->text = guest_cfg_text(d);
        if (d->autostart)
                *memory += d->memory;
}

/* A guest of the profile that the host has. */
static void plan_known_guest(ChangePlan *c, const Domain *d, const HostGuest *hg, Room *rooms, size_t *n_rooms, uint64_t *memory,
                             char ***errors) {
        const HostState *h = c->host;
        const char *name = d->head.name;
        Loc loc = d->head.loc;
        char a[SIZE_BUF], b[SIZE_BUF];
        const HostGroup *g = host_group(h, d->volume_group);
        uint64_t extent = g ? g->extent : 0;
        _cleanup_free_ char *dn = xasprintf("%s-disk", name), *sn = xasprintf("%s-swap", name);
        const HostVolume *disk = host_volume(h, d->volume_group, dn), *swap = host_volume(h, d->volume_group, sn);
        uint64_t want_disk = round_extent(d->disk, extent), want_swap = round_extent(d->swap, extent);

        /* Its volumes: larger is done offline, smaller never. */
        uint64_t disk_from = 0, swap_from = 0;
        if (!disk)
                strv_consume(errors, xasprintf("%s:%u: guest %s: its configuration is there but not its volume %s/%s", loc.file, loc.line,
                                               name, d->volume_group, dn));
        else if (disk->size > want_disk)
                strv_consume(errors, xasprintf("%s:%u: guest %s: Disk=%s is smaller than its volume %s/%s (%s): a volume is never made "
                                               "smaller",
                                               loc.file, loc.line, name, format_size(a, d->disk), d->volume_group, dn,
                                               format_size(b, disk->size)));
        else if (disk->size < want_disk) {
                disk_from = disk->size;
                need_room(rooms, n_rooms, d->volume_group, want_disk - disk->size);
        }
        if (swap && swap->size > want_swap && d->swap)
                strv_consume(errors, xasprintf("%s:%u: guest %s: Swap=%s is smaller than its volume %s/%s (%s): a volume is never made "
                                               "smaller",
                                               loc.file, loc.line, name, format_size(a, d->swap), d->volume_group, sn,
                                               format_size(b, swap->size)));
        else if (swap && swap->size < want_swap) {
                swap_from = swap->size;
                need_room(rooms, n_rooms, d->volume_group, want_swap - swap->size);
        } else if (!swap && d->swap)
                strv_consume(errors, xasprintf("%s:%u: guest %s: Swap= given to a guest installed without one (%s/%s): not done on "
                                               "a running host",
                                               loc.file, loc.line, name, d->volume_group, sn));
        else if (swap && !d->swap)
                /* Its cfg would lose xvdb while its /etc/fstab still names it. */
                strv_consume(errors, xasprintf("%s:%u: guest %s: no Swap= for a guest installed with one (%s/%s, %s): not done on a "
                                               "running host, whose /etc/fstab names xvdb; give it Swap=%s again",
                                               loc.file, loc.line, name, d->volume_group, sn, format_size(a, swap->size),
                                               format_size(b, swap->size)));
        if (disk_from || swap_from) {
                _cleanup_free_ char *dt = disk_from ? xasprintf("%s/%s from %s to %s", d->volume_group, dn, format_size(a, disk_from),
                                                                format_size(b, want_disk))
                                                    : xstrdup("");
                char c1[SIZE_BUF], c2[SIZE_BUF];
                _cleanup_free_ char *st = swap_from ? xasprintf("%s%s/%s from %s to %s", disk_from ? ", " : "", d->volume_group, sn,
                                                                format_size(c1, swap_from), format_size(c2, want_swap))
                                                    : xstrdup("");
                Change *x = add_change(c, CHANGE_GUEST_GROW, name, xasprintf("grow %s", name),
                                       xasprintf("grow %s: %s%s, offline: the guest %s, the volume%s extended%s, then started again",
                                                 name, dt, st, hg->running ? "shut down cleanly first" : "is not running",
                                                 disk_from && swap_from ? "s" : "",
                                                 disk_from ? " and its filesystem grown (e2fsck -f, resize2fs)" : ", the swap made again"));
                x->domain = d;
                x->disk_from = disk_from;
                x->swap_from = swap_from;
                x->running = hg->running;
        }

        /* Its configuration. */
        _cleanup_free_ char *text = guest_cfg_text(d);
        if (!streq(hg->cfg, text)) {
                CfgValues old, new;
                int r1 = cfg_values(name, hg->cfg, &old), r2 = cfg_values(name, text, &new);
                bool mem = r1 < 0 || old.memory != new.memory;
                bool other = r1 < 0 || r2 < 0 || old.vcpus != new.vcpus || !streq(old.type, new.type) || !streq(old.vif, new.vif) ||
                             !streq(old.disk, new.disk) || !streq(old.kernel, new.kernel) || !streq(old.cmdline, new.cmdline) ||
                             old.maxmem != new.maxmem;
                _cleanup_strv_free_ char **what = xcalloc(1, sizeof(char *));
                if (r1 == 0 && old.memory != new.memory)
                        strv_consume(&what, xasprintf("memory %ldM -> %ldM", old.memory, new.memory));
                if (r1 == 0 && old.vcpus != new.vcpus)
                        strv_consume(&what, xasprintf("vcpus %ld -> %ld", old.vcpus, new.vcpus));
                if (r1 == 0 && !streq(old.type, new.type))
                        strv_consume(&what, xasprintf("type %s -> %s", old.type, new.type));
                if (r1 == 0 && r2 == 0 && !streq(old.cmdline, new.cmdline))
                        strv_consume(&what, xasprintf("kernel command line '%s'", new.cmdline));
                if (r1 == 0 && !streq(old.vif, new.vif)) {
                        _cleanup_free_ char *nics = domain_nics(d);
                        strv_consume(&what, xasprintf("interfaces now on %s", nics));
                }
                if (r1 < 0)
                        strv_push(&what, "its old configuration does not parse");
                bool live = hg->running && mem && d->memory <= hg->max_memory;
                /* Only memory differs (maxmem follows it): set live when the
                 * domain's maximum allows it. */
                bool only_mem = r1 == 0 && r2 == 0 && old.vcpus == new.vcpus && streq(old.type, new.type) && streq(old.vif, new.vif) &&
                                streq(old.disk, new.disk) && streq(old.kernel, new.kernel) && streq(old.cmdline, new.cmdline);
                bool restart = hg->running && (!only_mem || !live) && (mem || other);
                if (hg->running && mem && d->memory > hg->max_memory && r1 == 0)
                        *memory += d->memory - (uint64_t) old.memory * MiB;
                _cleanup_free_ char *list = strv_join(what, ", ");
                Change *x = add_change(c, CHANGE_GUEST_CONFIG, name, xasprintf("config %s", name),
                                       xasprintf("config %s: /etc/xen/%s.cfg rewritten (%s)%s%s%s", name, name, isempty(list) ? "its text" : list,
                                                 live ? "; memory set live" : "",
                                                 restart ? (live ? "; the rest at its next restart" : "; in effect at its next restart") : "",
                                                 hg->running ? "" : "; it is not running: in effect when it starts"));
                x->domain = d;
                x->text = TAKE_PTR(text);
                x->live = live;
                x->restart = restart;
                x->running = hg->running;
                if (r1 == 0)
                        cfg_values_done(&old);
                if (r2 == 0)
                        cfg_values_done(&new);
        }
        if (d->autostart != hg->autostart) {
                Change *x = add_change(c, CHANGE_GUEST_AUTOSTART, name, xasprintf("autostart %s", name),
                                       d->autostart ? xasprintf("autostart %s: linked into /etc/xen/auto (started at boot)%s", name,
                                                                hg->running ? "" : "; created now through libxenlight")
                                                    : xasprintf("autostart %s: its /etc/xen/auto link removed (not started at boot; it "
                                                                "keeps running now)",
                                                                name));
                x->domain = d;
                x->autostart = d->autostart;
                x->running = hg->running;
                if (d->autostart && !hg->running)
                        *memory += d->memory;
        }
}

static void plan_retire(ChangePlan *c, const HostGuest *hg, const ChangeOptions *o) {
        const HostState *h = c->host;
        char a[SIZE_BUF];
        _cleanup_strv_free_ char **vols = xcalloc(1, sizeof(char *)), **shown = xcalloc(1, sizeof(char *));
        _cleanup_free_ char *dn = xasprintf("%s-disk", hg->name), *sn = xasprintf("%s-swap", hg->name);
        for (size_t i = 0; i < h->n_volumes; i++)
                if (streq(h->volumes[i].name, dn) || streq(h->volumes[i].name, sn)) {
                        strv_consume(&vols, xasprintf("%s/%s", h->volumes[i].group, h->volumes[i].name));
                        strv_consume(&shown, xasprintf("%s/%s %s", h->volumes[i].group, h->volumes[i].name, format_size(a, h->volumes[i].size)));
                }
        _cleanup_free_ char *list = strv_join(shown, ", ");
        Change *x = add_change(c, CHANGE_GUEST_RETIRE, hg->name, xasprintf("retire %s", hg->name),
                               xasprintf("retire %s: not in the profile: %sunregistered (/etc/xen/%s.cfg moved to %s/, its /etc/xen/auto "
                                         "link removed); %s %s",
                                         hg->name, hg->running ? "shut down cleanly, " : "", hg->name, RETIRED_DIR,
                                         o->purge ? "its volumes WIPED AND REMOVED:" : "its volumes kept:", vols[0] ? list : "(none)"));
        x->volumes = TAKE_PTR(vols);
        x->purge = o->purge;
        x->running = hg->running;
}

int change_make(const Profile *p, const HostState *h, const ChangeOptions *o, ChangePlan **ret, char ***errors) {
        *errors = xcalloc(1, sizeof(char *));
        ChangePlan *c = xcalloc(1, sizeof *c);
        c->profile = p;
        c->host = h;
        c->notes = xcalloc(1, sizeof(char *));
        uint64_t memory = 0; /* what the changes take of Xen's free memory */
        Room rooms[p->n_domains + 1];
        size_t n_rooms = 0;

        /* Bridges first: a new guest may be attached to one. */
        const ProbedNic *main_nic = NULL, *nics[p->n_bridges + 1];
        plan_choose_nics(p, &h->net, &main_nic, nics, true, errors);
        if (!strv_contains(h->bridges, p->network.bridge))
                strv_consume(&c->notes, xasprintf("the bridge %s ([Network]) is not up on this host: it is configured at install "
                                                  "time; left alone",
                                                  p->network.bridge));
        for (size_t i = 0; i < p->n_bridges; i++) {
                const Bridge *b = p->bridges[i];
                if (strv_contains(h->bridges, b->head.name))
                        continue;
                if (!nics[i]) {
                        _cleanup_free_ char *list = plan_nic_list(&h->net);
                        Loc l = profile_where(&b->head, "Bridge", "Interface");
                        strv_consume(errors, xasprintf("%s:%u: this host has no %snetwork card '%s' for the bridge %s (it has: %s)", l.file,
                                                       l.line, streq(b->interface, "auto") ? "free wired " : "", b->interface,
                                                       b->head.name, list));
                        continue;
                }
                Change *x = add_change(c, CHANGE_BRIDGE, b->head.name, xasprintf("bridge %s", b->head.name),
                                       xasprintf("bridge %s: new, on %s (%s), %s: " BRIDGE_FILE_FMT ", brought up with ifup (%s is not "
                                                 "touched)",
                                                 b->head.name, nics[i]->name, strempty(nics[i]->mac),
                                                 streq(b->address, "none") ? "no address for dom0" : b->address, b->head.name,
                                                 p->network.bridge));
                x->bridge = b;
                x->nic = xstrdup(nics[i]->name);
                x->text = plan_bridge_interfaces(b, nics[i]->name);
        }
        /* Guests gone from the profile: their memory is free again after. */
        for (size_t i = 0; i < h->n_guests; i++) {
                const HostGuest *hg = &h->guests[i];
                if (!profile_find_domain(p, hg->name) && hg->cfg)
                        plan_retire(c, hg, o);
                else if (!hg->cfg)
                        strv_consume(&c->notes, xasprintf("domain %s: not written by hyperion (no /etc/xen/%s.cfg of ours): left alone",
                                                          hg->name, hg->name));
        }
        for (size_t i = 0; i < p->n_domains; i++) {
                const Domain *d = p->domains[i];
                HostGuest *hg = host_guest((HostState *) h, d->head.name, false);
                if (!hg || !hg->cfg)
                        plan_new_guest(c, d, rooms, &n_rooms, &memory, errors);
                else
                        plan_known_guest(c, d, hg, rooms, &n_rooms, &memory, errors);
        }
        /* Room: each group's free extents. */
        for (size_t i = 0; i < n_rooms; i++) {
                const HostGroup *g = host_group(h, rooms[i].group);
                char a[SIZE_BUF], b[SIZE_BUF];
                if (g && rooms[i].need > g->free)
                        strv_consume(errors, xasprintf("the volume group %s has %s free; the new and larger volumes need %s", g->name,
                                                       format_size_human(a, g->free), format_size_human(b, rooms[i].need)));
        }
        uint64_t freed = 0;
        for (size_t i = 0; i < c->n_changes; i++)
                if (c->changes[i].kind == CHANGE_GUEST_RETIRE && c->changes[i].running) {
                        const HostGuest *hg = host_guest((HostState *) h, c->changes[i].name, false);
                        freed += hg ? hg->max_memory : 0;
                }
        if (h->free_memory && memory > h->free_memory + freed) {
                char a[SIZE_BUF], b[SIZE_BUF];
                strv_consume(errors, xasprintf("the guests to start need %s of memory; Xen has %s free%s", format_size_human(a, memory),
                                               format_size_human(b, h->free_memory + freed),
                                               freed ? " (with what the retired guests give back)" : ""));
        }

        /* The same changes, the same identity (the journal's). */
        Sha256 sh;
        sha256_init(&sh);
        for (size_t i = 0; i < c->n_changes; i++) {
                sha256_update_str(&sh, c->changes[i].what);
                sha256_update_str(&sh, "\n");
                sha256_update_str(&sh, strempty(c->changes[i].text));
        }
        uint8_t dg[32];
        sha256_final(&sh, dg);
        sha256_hex(dg, c->identity);
        if ((*errors)[0]) {
                change_free(c);
                return -EINVAL;
        }
        *ret = c;
        return 0;
}

void change_print(const ChangePlan *c, FILE *f) {
        fprintf(f, "Changes for host %s, from its profile (%s):\n", c->profile->host.hostname, c->profile->dir);
        if (!c->n_changes)
                fprintf(f, "  none: the host is as its profile says\n");
        for (size_t i = 0; i < c->n_changes; i++)
                fprintf(f, "  %zu. %s\n", i + 1, c->changes[i].what);
        for (char **n = c->notes; n && *n; n++)
                fprintf(f, "  note: %s\n", *n);
}

/* ---- carrying them out ---------------------------------------------------------- */

typedef struct Apply {
        const ChangePlan *c;
        Guard guard;
        Xl xl;
        bool xl_open;
        int journal; /* fd of CHANGE_JOURNAL, or -1 */
} Apply;

static Lvm *apply_lvm(Apply *a) {
        return change_lvm(&a->guard);
}

static Xl *apply_xl(Apply *a) {
        if (!a->xl_open) {
                if (xl_open(&a->xl) < 0)
                        return NULL;
                a->xl_open = true;
        }
        return &a->xl;
}

static void journal_line(Apply *a, const char *line) {
        if (a->journal < 0)
                return;
        _cleanup_free_ char *l = xasprintf("%s\n", line);
        if (write(a->journal, l, strlen(l)) < 0 || fsync(a->journal) < 0)
                log_warning_errno(errno, "cannot write " CHANGE_JOURNAL ": %m");
}

/* The physical volumes of a group, allowed for LVM's metadata writes. */
static int group_pvs(Apply *a, const char *group, char ***ret) {
        Lvm *l = apply_lvm(a);
        if (!l)
                return -EIO;
        _cleanup_free_ char *out = NULL;
        int r = lvm_run(l, (char *[]) { "pvs", "--noheadings", "--separator", ":", "-o", "pv_name,vg_name", NULL }, &out);
        if (r < 0)
                return r;
        _cleanup_strv_free_ char **lines = strv_split_lines(strempty(out)), **pvs = xcalloc(1, sizeof(char *));
        for (char **x = lines; *x; x++) {
                _cleanup_strv_free_ char **f = report_fields(*x, 2);
                if (f && streq(f[1], group)) {
                        if ((r = guard_allow_device(&a->guard, f[0])) < 0)
                                return r;
                        strv_push(&pvs, f[0]);
                }
        }
        if (!pvs[0])
                return log_error_errno(ENOENT, "the volume group %s has no physical volume here", group);
        *ret = TAKE_PTR(pvs);
        return 0;
}

static int make_volume(Apply *a, const char *group, const char *name, uint64_t size, const char *what) {
        _cleanup_strv_free_ char **pvs = NULL;
        int r = group_pvs(a, group, &pvs);
        if (r < 0)
                return r;
        Lvm *l = apply_lvm(a);
        guard_allow_volume(&a->guard, group, name);
        uint64_t have = 0;
        if (lvm_lv_size(l, group, name, &have) > 0) {
                if (have != size)
                        return log_error_errno(EEXIST, "volume %s/%s exists with %" PRIu64 " bytes, %" PRIu64 " were planned: stopping", group,
                                               name, have, size);
        } else if ((r = lvm_lvcreate(l, group, pvs, name, size, what)) < 0)
                return r;
        _cleanup_free_ char *dev = xasprintf("/dev/%s/%s", group, name);
        return zero_ends(&a->guard, dev, size, what);
}

/* Started through systemd, as hyperion-guests.service does at boot: the
 * process that looks after the guest lives in a unit of its own, not in
 * the admin's session. */
static int start_guest(const char *name) {
        _cleanup_free_ char *unit = xasprintf("hyperion-guest-%s.service", name), *state = NULL;
        /* The unit of an earlier apply, if there is one: systemctl says
         * "Unit ... not loaded" on stopping one that is not. */
        (void) RUN(&(RunOptions) { .capture = &state }, "systemctl", "show", "--property=LoadState", "--value", unit);
        if (state && streq(strstrip(state), "loaded")) {
                (void) RUN(&(RunOptions) { .quiet = true }, "systemctl", "stop", "--quiet", unit);
                (void) RUN(&(RunOptions) { .quiet = true }, "systemctl", "reset-failed", "--quiet", unit);
        }
        _cleanup_free_ char *desc = xasprintf("--description=Hyperion guest %s: created by hyperion-firstboot apply", name);
        _cleanup_free_ char *u = xasprintf("--unit=%s", unit);
        return RUN(NULL, "systemd-run", "--quiet", u, desc, "--service-type=oneshot", "--remain-after-exit", "--property=KillMode=process",
                   "--property=TimeoutStartSec=infinity", "--property=StandardOutput=journal+console",
                   "--property=StandardError=journal+console", "/usr/sbin/hyperion-firstboot", "guests", name);
}

static int do_bridge(Apply *a, const Change *x) {
        (void) a;
        _cleanup_free_ char *path = xasprintf(BRIDGE_FILE_FMT, x->name);
        int r = write_file_under("/", path + 1, x->text, 0644);
        if (r < 0)
                return r;
        /* /etc/network/interfaces sources the hyperion-* files (an older
         * install's may not: then it is said, and ifup reads the file itself). */
        _cleanup_free_ char *main_text = NULL;
        if (read_full_file("/etc/network/interfaces", &main_text, NULL) >= 0 && !strstr(main_text, "interfaces.d/hyperion-")) {
                _cleanup_free_ char *t = xasprintf("%s\n# The other bridges ([Bridge NAME]), a file each.\nsource /etc/network/interfaces.d/hyperion-*\n",
                                                   main_text);
                if ((r = write_file_atomic("/etc/network/interfaces", t, strlen(t), 0644)) < 0)
                        return r;
        }
        log_info("bridge %s: on %s; ifup %s", x->name, x->nic, x->name);
        return RUN(NULL, "ifup", x->name);
}

static int do_guest_new(Apply *a, const Change *x) {
        const Domain *d = x->domain;
        int r;
        if (x->kind == CHANGE_GUEST_NEW) {
                _cleanup_free_ char *dn = xasprintf("%s-disk", d->head.name), *sn = xasprintf("%s-swap", d->head.name);
                const HostGroup *g = host_group(a->c->host, d->volume_group);
                uint64_t extent = g ? g->extent : 0;
                if ((r = make_volume(a, d->volume_group, dn, round_extent(d->disk, extent), x->id)) < 0 ||
                    (d->swap && (r = make_volume(a, d->volume_group, sn, round_extent(d->swap, extent), x->id)) < 0))
                        return r;
                if ((r = guest_make_root(&a->guard, a->c->profile, d, GUEST_ARCHIVE_HOST, "/", x->id)) < 0)
                        return r;
        } else if ((r = guest_register_kept("/", d)) < 0)
                return r;
        if ((r = guest_write_cfg("/", d)) < 0)
                return r;
        if (!d->autostart)
                return 0;
        if ((r = guest_autostart_link(d->head.name, true)) < 0)
                return r;
        log_info("guest %s: creating it through libxenlight (unit hyperion-guest-%s.service)", d->head.name, d->head.name);
        return start_guest(d->head.name);
}

static int shut_down(Apply *a, const char *name) {
        Xl *xl = apply_xl(a);
        if (!xl)
                return -EIO;
        return xl_shutdown_wait(xl, name, 300);
}

static int do_grow(Apply *a, const Change *x) {
        const Domain *d = x->domain;
        int r;
        if (x->running && (r = shut_down(a, d->head.name)) < 0)
                return r;
        const HostGroup *g = host_group(a->c->host, d->volume_group);
        uint64_t extent = g ? g->extent : 0;
        _cleanup_strv_free_ char **pvs = NULL;
        if ((r = group_pvs(a, d->volume_group, &pvs)) < 0)
                return r;
        Lvm *l = apply_lvm(a);
        for (int swap = 0; swap < 2; swap++) {
                if (!(swap ? x->swap_from : x->disk_from))
                        continue;
                _cleanup_free_ char *lv = xasprintf("%s-%s", d->head.name, swap ? "swap" : "disk");
                _cleanup_free_ char *dev = xasprintf("/dev/%s/%s", d->volume_group, lv);
                uint64_t want = round_extent(swap ? d->swap : d->disk, extent), have = 0;
                guard_allow_volume(&a->guard, d->volume_group, lv);
                if (lvm_lv_size(l, d->volume_group, lv, &have) <= 0)
                        return log_error_errno(ENOENT, "the volume %s/%s is not there: stopping", d->volume_group, lv);
                if (have < want && (r = lvm_lvextend(l, d->volume_group, pvs, lv, want, x->id)) < 0)
                        return r;
                if ((r = grow_filesystem(&a->guard, dev, swap ? FS_SWAP : d->filesystem, x->id)) < 0)
                        return r;
        }
        return x->running && d->autostart ? start_guest(d->head.name) : 0;
}

static int do_config(Apply *a, const Change *x) {
        const Domain *d = x->domain;
        int r = guest_write_cfg("/", d);
        if (r < 0 || !x->live)
                return r;
        Xl *xl = apply_xl(a);
        XlGuest g;
        if (!xl || !xl_guest(xl, d->head.name, &g))
                return log_error_errno(ESRCH, "guest %s: not running any more: its new memory applies when it starts", d->head.name);
        char m[SIZE_BUF];
        log_info("guest %s: memory set to %s live", d->head.name, format_size(m, d->memory));
        return xl_set_memory(xl, g.domid, d->memory);
}

static int do_autostart(Apply *a, const Change *x) {
        (void) a;
        int r = guest_autostart_link(x->name, x->autostart);
        if (r < 0 || !x->autostart || x->running)
                return r;
        return start_guest(x->name);
}

static int do_retire(Apply *a, const Change *x) {
        int r;
        if (x->running && (r = shut_down(a, x->name)) < 0)
                return r;
        if ((r = guest_autostart_link(x->name, false)) < 0)
                return r;
        (void) mkdir(RETIRED_DIR, 0755);
        _cleanup_free_ char *cfg = xasprintf("/etc/xen/%s.cfg", x->name), *to = xasprintf(RETIRED_DIR "/%s.cfg", x->name);
        if (rename(cfg, to) < 0 && errno != ENOENT)
                return log_error_errno(errno, "cannot move '%s' to '%s': %m", cfg, to);
        _cleanup_free_ char *kdir = xasprintf(GUEST_KERNEL_DIR "/%s", x->name);
        (void) RUN(NULL, "rm", "-rf", "--one-file-system", kdir);
        if (!x->purge) {
                _cleanup_free_ char *list = strv_join(x->volumes, ", ");
                log_info("retire %s: its volumes kept: %s", x->name, x->volumes[0] ? list : "(none)");
                return 0;
        }
        for (char **v = x->volumes; *v; v++) {
                _cleanup_free_ char *group = xstrndup(*v, strcspn(*v, "/"));
                const char *lv = *v + strlen(group) + 1;
                _cleanup_strv_free_ char **pvs = NULL;
                if ((r = group_pvs(a, group, &pvs)) < 0)
                        return r;
                guard_allow_volume(&a->guard, group, lv);
                _cleanup_free_ char *dev = xasprintf("/dev/%s", *v);
                if ((r = wipe_signatures(&a->guard, dev, x->id)) < 0)
                        return r;
                Lvm *l = apply_lvm(a);
                if ((r = guard_write(&a->guard, pvs[0], x->id)) < 0)
                        return r;
                if ((r = lvm_run(l, (char *[]) { "lvremove", "--yes", *v, NULL }, NULL)) < 0)
                        return r;
                log_info("retire %s: %s wiped and removed", x->name, *v);
        }
        return 0;
}

typedef int (*ChangeFn)(Apply *a, const Change *x);
static const ChangeFn change_ops[_CHANGE_KIND_MAX] = {
        [CHANGE_BRIDGE] = do_bridge,
        [CHANGE_GUEST_NEW] = do_guest_new,
        [CHANGE_GUEST_BACK] = do_guest_new,
        [CHANGE_GUEST_CONFIG] = do_config,
        [CHANGE_GUEST_GROW] = do_grow,
        [CHANGE_GUEST_AUTOSTART] = do_autostart,
        [CHANGE_GUEST_RETIRE] = do_retire,
};

int change_apply(const ChangePlan *c) {
        Apply a = { .c = c, .journal = -1 };
        (void) mkdir("/var/lib/hyperion", 0755);
        a.journal = open(CHANGE_JOURNAL, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (a.journal < 0)
                log_warning_errno(errno, "cannot open " CHANGE_JOURNAL ": %m");
        _cleanup_free_ char *head = xasprintf("apply %s (%zu change%s)", c->identity, c->n_changes, c->n_changes == 1 ? "" : "s");
        journal_line(&a, head);
        uint64_t start = now_usec();
        int r = 0;
        for (size_t i = 0; i < c->n_changes && r >= 0; i++) {
                const Change *x = &c->changes[i];
                log_info("change %zu/%zu: %s", i + 1, c->n_changes, x->id);
                if ((r = change_ops[x->kind](&a, x)) < 0)
                        break;
                _cleanup_free_ char *done = xasprintf("done %s", x->id);
                journal_line(&a, done);
        }
        journal_line(&a, r < 0 ? "stopped" : "finished");
        static const Guard none = {};
        if (the_lvm_open)
                the_lvm.guard = &none;
        if (a.xl_open)
                xl_close(&a.xl);
        guard_release(&a.guard);
        if (a.journal >= 0)
                close(a.journal);
        char d[32];
        format_duration(d, sizeof d, now_usec() - start);
        if (r >= 0)
                log_info("the changes are done in %s", d);
        else
                log_error("stopped after %s; what was done is in " CHANGE_JOURNAL "; run 'plan' again to see what is left", d);
        return r;
}
