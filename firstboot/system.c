/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "system.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "medium.h"
#include "mount-util.h"
#include "run.h"
#include "seat.h"
#include "size.h"
#include "strutil.h"

static char *const chroot_env[] = {
        "DEBIAN_FRONTEND=noninteractive", "LC_ALL=C.UTF-8", "HOME=/root", NULL,
};

int in_target(const Target *t, char *const *argv) {
        _cleanup_free_ char *out = NULL, *err = NULL;
        RunOptions o = { .root = t->root, .env = chroot_env, .clear_env = true, .capture = &out, .capture_err = &err };
        int r = run_ok(argv, &o);
        if (!isempty(out))
                log_debug("%s", out);
        if (r == 0 && !isempty(err))
                log_debug("%s", err);
        return r;
}

/* ---- the copy ------------------------------------------------------------ */

static void unsquash_line(const char *line, void *userdata) {
        int pct;
        if (progress_percent_of_line(line, &pct))
                progress_update(userdata, pct, NULL);
        else
                log_debug("%s", line);
}

int system_copy_root(Target *t, const Step *s) {
        (void) s;
        const char *image = t->plan->inventory->root_image;
        log_info("copying the system from %s", image);
        Progress p;
        progress_begin(&p, "copy");
        _cleanup_free_ char *err = NULL;
        RunOptions o = { .on_line = unsquash_line, .userdata = &p, .capture_err = &err };
        /* -f: into the mounted root (and /boot, /boot/efi under it); owners,
         * modes, xattrs and hard links as they are in the image. */
        int r = run_ok((char *[]) { "unsquashfs", "-f", "-d", t->root, (char *) image, NULL }, &o);
        progress_end(&p);
        if (r < 0)
                return log_error_errno(r, "cannot copy the system onto the disk (is it full?)");
        return 0;
}

int system_chroot(Target *t, const Step *s) {
        (void) s;
        return target_chroot(t);
}

int system_purge_live(Target *t, const Step *s) {
        (void) s;
        /* The live system's own packages go: the installed system never boots live. */
        int r = in_target(t, (char *[]) { "dpkg", "--purge", "hyperion-live", NULL });
        if (r < 0)
                return log_error_errno(r, "cannot purge the live system's packages from the installed system");
        return 0;
}

/* ---- files of the target --------------------------------------------------- */

static int mkdir_under(const char *root, const char *dir) {
        _cleanup_free_ char *p = path_join(root, dir);
        return RUN(NULL, "mkdir", "-p", p);
}

static int parent_dir(const Target *t, const char *path) {
        _cleanup_free_ char *dir = xstrdup(path);
        char *slash = strrchr(dir, '/');
        if (!slash || slash == dir)
                return 0;
        *slash = 0;
        return mkdir_under(t->root, dir);
}

int system_file(Target *t, const Step *s) {
        int r = parent_dir(t, s->path);
        if (r < 0 || (r = write_file_under(t->root, s->path + 1, s->text, (int) s->mode)) < 0)
                return r;
        /* The fstab's mount points that do not exist yet in the image. */
        if (streq(s->path, "/etc/fstab"))
                for (const char *l = s->text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                        char what[512], where[512];
                        if (l[0] == '#' || sscanf(l, "%511s %511s", what, where) != 2 || where[0] != '/')
                                continue;
                        if ((r = mkdir_under(t->root, where)) < 0)
                                return r;
                }
        return 0;
}

int system_setting(Target *t, const Step *s) {
        _cleanup_free_ char *path = path_join(t->root, s->path), *old = NULL;
        (void) read_full_file(path, &old, NULL);
        _cleanup_free_ char *text = set_shell_variable(old, s->var, s->text, s->why);
        int r = parent_dir(t, s->path);
        return r < 0 ? r : write_file_under(t->root, s->path + 1, text, 0644);
}

/* A name's number in the target's own /etc/passwd or /etc/group (-ENOENT
 * and nothing said when it has none). */
static int target_id_lookup(const Target *t, const char *file, const char *name, unsigned *ret) {
        _cleanup_free_ char *path = path_join(t->root, file), *text = NULL;
        if (read_full_file(path, &text, NULL) < 0)
                return -ENOENT;
        _cleanup_strv_free_ char **lines = strv_split_lines(text);
        size_t n = strlen(name);
        for (char **l = lines; *l; l++) {
                unsigned id;
                if (strneq(*l, name, n) && (*l)[n] == ':' && sscanf(*l + n + 1, "%*[^:]:%u", &id) == 1) {
                        *ret = id;
                        return 0;
                }
        }
        return -ENOENT;
}

/* The same, an error said when there is none. */
static int target_id(const Target *t, const char *file, const char *name, unsigned *ret) {
        _cleanup_free_ char *path = path_join(t->root, file);
        if (access(path, R_OK) < 0)
                return log_error_errno(ENOENT, "the new system has no '%s'", file);
        if (target_id_lookup(t, file, name, ret) < 0)
                return log_error_errno(ENOENT, "the new system's %s has no '%s'", file, name);
        return 0;
}

int system_dir(Target *t, const Step *s) {
        int r = mkdir_under(t->root, s->path);
        if (r < 0)
                return r;
        _cleanup_free_ char *user = xstrdup(s->owner), *path = path_join(t->root, s->path);
        char *colon = strchr(user, ':');
        unsigned uid, gid;
        if (!colon)
                return log_error_errno(EINVAL, "owner '%s' of '%s' is not USER:GROUP", s->owner, s->path);
        *colon = 0;
        if ((r = target_id(t, "etc/passwd", user, &uid)) < 0 || (r = target_id(t, "etc/group", colon + 1, &gid)) < 0)
                return r;
        if (chown(path, uid, gid) < 0 || chmod(path, s->mode) < 0)
                return log_error_errno(errno, "cannot set the owner and mode of '%s': %m", path);
        return 0;
}

/* ---- this machine's own ------------------------------------------------------- */

static const char *const identity_files[] = {
        "etc/machine-id",
        "etc/ssh/ssh_host_ed25519_key", "etc/ssh/ssh_host_ed25519_key.pub",
        "etc/ssh/ssh_host_ecdsa_key",   "etc/ssh/ssh_host_ecdsa_key.pub",
        "etc/ssh/ssh_host_rsa_key",     "etc/ssh/ssh_host_rsa_key.pub",
        NULL,
};

static int identity_mode(const char *rel) {
        return endswith(rel, "_key") ? 0600 : 0644;
}

int identity_read_old(Target *t) {
        size_t i, j;
        if (!plan_find_mount(t->plan, "/", &i, &j))
                return 0;
        const char *dev;
        int r = target_device(t, i, j, &dev);
        if (r < 0)
                return r;
        t->identity = xcalloc(1, sizeof(char *));
        for (size_t k = 0; identity_files[k]; k++) {
                _cleanup_free_ char *req = xasprintf("cat /%s", identity_files[k]), *out = NULL, *err = NULL;
                RunOptions o = { .capture = &out, .capture_err = &err };
                if (run((char *[]) { "debugfs", "-R", req, (char *) dev, NULL }, &o) != 0 || isempty(out))
                        continue;
                strv_push(&t->identity, identity_files[k]);
                strv_consume(&t->identity, TAKE_PTR(out));
        }
        if (!t->identity[0])
                log_warning("the old root (%s) holds no machine-id or SSH host keys: the host gets new ones", dev);
        else
                log_info("the old root's identity is kept: %zu files (machine-id, SSH host keys)", strv_length(t->identity) / 2);
        return 0;
}

int identity_put_aside(Target *t) {
        for (char **f = t->identity; f && f[0] && f[1]; f += 2) {
                _cleanup_free_ char *rel = xasprintf(KEPT_IDENTITY_DIR "/%s", f[0]);
                _cleanup_free_ char *full = path_join(t->root, rel);
                *strrchr(full, '/') = 0;
                int r = RUN(NULL, "mkdir", "-p", "-m", "0700", full);
                if (r < 0 || (r = write_file_under(t->root, rel, f[1], identity_mode(f[0]))) < 0)
                        return r;
        }
        return 0;
}

/* The identity put aside (a reinstall's): into place. 1 when there was one. */
static int identity_restore(Target *t) {
        _cleanup_free_ char *dir = path_join(t->root, KEPT_IDENTITY_DIR);
        bool any = false;
        for (size_t k = 0; identity_files[k]; k++) {
                _cleanup_free_ char *src = xasprintf("%s/%s", dir, identity_files[k]), *text = NULL;
                if (read_full_file(src, &text, NULL) < 0)
                        continue;
                int r = write_file_under(t->root, identity_files[k], text, identity_mode(identity_files[k]));
                if (r < 0)
                        return r;
                any = true;
        }
        return any;
}

int system_identity(Target *t, const Step *s) {
        if (s->keep) {
                int k = identity_restore(t);
                if (k < 0)
                        return k;
                if (k > 0) {
                        _cleanup_free_ char *dir = path_join(t->root, KEPT_IDENTITY_DIR);
                        _cleanup_free_ char *keygen = path_join(t->root, "usr/bin/ssh-keygen");
                        log_info("the installed system's machine-id and SSH host keys carried over");
                        /* A key type the old system lacked is made; the others stay. */
                        int r = access(keygen, X_OK) == 0 ? in_target(t, (char *[]) { "ssh-keygen", "-A", NULL }) : 0;
                        return r < 0 ? r : RUN(NULL, "rm", "-rf", dir);
                }
                log_warning("no identity of the installed system was found: this host gets a new machine-id and SSH host keys");
        }
        /* A machine-id and SSH host keys of its own, never the image's (it has none). */
        _cleanup_free_ char *mid = path_join(t->root, "etc/machine-id");
        (void) unlink(mid);
        int r = in_target(t, (char *[]) { "systemd-machine-id-setup", NULL });
        if (r < 0)
                return r;
        _cleanup_free_ char *keygen = path_join(t->root, "usr/bin/ssh-keygen");
        if (access(keygen, X_OK) == 0 && (r = in_target(t, (char *[]) { "ssh-keygen", "-A", NULL })) < 0)
                return r;
        return 0;
}

int system_root_access(Target *t, const Step *s) {
        (void) s;
        const Host *h = &t->plan->profile->host;
        if (h->root_authorized_keys[0]) {
                _cleanup_free_ char *ssh = path_join(t->root, "root/.ssh");
                if (mkdir(ssh, 0700) < 0 && errno != EEXIST)
                        return log_error_errno(errno, "cannot create '%s': %m", ssh);
                _cleanup_free_ char *keys = strv_join(h->root_authorized_keys, "\n");
                _cleanup_free_ char *text = xasprintf("%s\n", keys);
                int r = write_file_under(t->root, "root/.ssh/authorized_keys", text, 0600);
                if (r < 0)
                        return r;
        }
        if (!isempty(h->root_password_hash))
                return in_target(t, (char *[]) { "usermod", "--password", h->root_password_hash, "root", NULL });
        return 0;
}

/* ---- settings files ---------------------------------------------------------- */

char *set_shell_variable(const char *old, const char *var, const char *value, const char *comment) {
        _cleanup_strv_free_ char **out = xcalloc(1, sizeof(char *));
        _cleanup_free_ char *copy = xstrdup(old ? old : "");
        _cleanup_free_ char *ours = xasprintf("# %s", comment);
        size_t n = strlen(var);
        for (char *l = copy; l;) {
                char *nl = strchr(l, '\n');
                if (nl)
                        *nl = 0;
                const char *s = l;
                while (*s == ' ' || *s == '\t' || *s == '#')
                        s++;
                /* The setting, commented or not, and our own comment: replaced. */
                bool same = (strneq(s, var, n) && s[n] == '=') || streq(l, ours);
                if (!same && (nl || *l))
                        strv_push(&out, l);
                l = nl ? nl + 1 : NULL;
        }
        strv_push(&out, ours);
        strv_consume(&out, xasprintf("%s=\"%s\"", var, value));
        _cleanup_free_ char *body = strv_join(out, "\n");
        return xasprintf("%s\n", body);
}

/* ---- dom0's seats ----------------------------------------------------------- */

/* A folder of the target owned by the seat's account (made if missing). */
static int seat_dir(const Target *t, const char *rel, unsigned uid, unsigned gid) {
        int r = mkdir_under(t->root, rel);
        if (r < 0)
                return r;
        _cleanup_free_ char *path = path_join(t->root, rel);
        if (chown(path, uid, gid) < 0)
                return log_error_errno(errno, "cannot give '%s' to its seat's account: %m", path);
        return 0;
}

int system_seat(Target *t, const Step *s) {
        const SeatAssignment *a = s->seat;
        const Seat *seat = a->seat;
        _cleanup_free_ char *home = xasprintf(SEAT_HOME_FMT, seat->head.name);
        unsigned uid, gid;
        /* Its account, once (a rerun after a power cut finds it made). No
         * group gives it devices: logind hands its session its seat's. */
        _cleanup_free_ char *parent = xstrdup(home);
        *strrchr(parent, '/') = 0;
        int r = mkdir_under(t->root, parent);
        if (r < 0)
                return r;
        /* Whatever the installer's umask: each account goes through it to its home. */
        _cleanup_free_ char *full_parent = path_join(t->root, parent);
        if (chmod(full_parent, 0755) < 0)
                return log_error_errno(errno, "cannot make '%s' readable: %m", full_parent);
        if (target_id_lookup(t, "etc/passwd", seat->user, &uid) < 0) {
                _cleanup_free_ char *comment = xasprintf("Hyperion seat %s", seat->head.name);
                r = in_target(t, (char *[]) { "useradd", "--system", "--user-group", "--create-home", "--home-dir", home, "--shell",
                                              "/usr/sbin/nologin", "--comment", comment, seat->user, NULL });
                if (r < 0)
                        return log_error_errno(r, "cannot make the account '%s' of seat %s", seat->user, seat->head.name);
                if ((r = target_id(t, "etc/passwd", seat->user, &uid)) < 0)
                        return r;
        }
        if ((r = target_id(t, "etc/group", seat->user, &gid)) < 0)
                return r;
        if ((r = seat_dir(t, home, uid, gid)) < 0)
                return r;
        /* Kodi's own settings, in the seat's home: its sound card. */
        _cleanup_free_ char *settings = seat_kodi_settings(a);
        if (settings) {
                _cleanup_free_ char *kodi = path_join(home, ".kodi"), *userdata = path_join(kodi, "userdata"),
                                    *file = path_join(userdata, "guisettings.xml"), *full = path_join(t->root, file);
                if ((r = seat_dir(t, kodi, uid, gid)) < 0 || (r = seat_dir(t, userdata, uid, gid)) < 0)
                        return r;
                if (access(full, F_OK) < 0) { /* the admin's, once Kodi has saved them: left alone */
                        if ((r = write_file_under(t->root, file + 1, settings, 0644)) < 0)
                                return r;
                        if (chown(full, uid, gid) < 0)
                                return log_error_errno(errno, "cannot give '%s' to its seat's account: %m", full);
                }
        }
        if ((r = parent_dir(t, s->path)) < 0 || (r = write_file_under(t->root, s->path + 1, s->text, 0644)) < 0)
                return r;
        const char *unit = strrchr(s->path, '/') + 1;
        r = in_target(t, (char *[]) { "systemctl", "enable", (char *) unit, NULL });
        if (r < 0)
                return log_error_errno(r, "cannot enable %s", unit);
        return 0;
}
