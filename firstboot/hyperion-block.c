/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hyperion-block: the hotplug script of the guests' disks (their xl
 * configuration says script=GUEST_BLOCK_SCRIPT), in place of Xen's
 * /etc/xen/scripts/block for a disk that is a block device (an LVM volume).
 *
 * libxenlight runs it with "add" or "remove", XENBUS_PATH naming the disk's
 * back end in xenstore, and gives it 40 seconds. Xen's own script does the
 * same work in bash with dozens of programs (a stat of every mount, a
 * xenstore-read of every disk of every guest) under a lock: on a loaded
 * two-core host it outlasts those 40 seconds and the guest is not created.
 * This is one process that talks to xenstore itself and does what that
 * script does for a block device: the device must exist and be a block
 * device; written to, it must be mounted nowhere in dom0 nor in use by
 * another guest; then physical-device (MAJOR:MINOR, hexadecimal),
 * physical-device-path and hotplug-status "connected". A refusal writes
 * hotplug-error and hotplug-status "error" or "busy", as Xen's does, so
 * libxl gives the reason.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <xenstore.h>

#include "hotplug.h"

static Hotplug h = { .program = "hyperion-block" };

/* Is the device mounted in dom0 (read-write, when only that matters)? */
static const char *mounted_at(dev_t dev, bool any_mode) {
        static char where[512];
        FILE *f = fopen("/proc/self/mounts", "re");
        if (!f)
                return NULL;
        char src[512], mp[512], type[64], opts[512];
        const char *found = NULL;
        while (!found && fscanf(f, "%511s %511s %63s %511s %*d %*d", src, mp, type, opts) == 4) {
                struct stat st;
                if (src[0] != '/' || stat(src, &st) < 0 || !S_ISBLK(st.st_mode) || st.st_rdev != dev)
                        continue;
                if (any_mode || strncmp(opts, "ro", 2) != 0 || (opts[2] != ',' && opts[2] != 0)) {
                        snprintf(where, sizeof where, "%s", mp);
                        found = where;
                }
        }
        fclose(f);
        return found;
}

/* Another guest with the same device, written to by either of them. */
static char *other_guest(const char *mm, const char *my_vm, bool writing) {
        unsigned ndom = 0;
        char **doms = xs_directory(h.xs, XBT_NULL, "/local/domain/0/backend/vbd", &ndom);
        char *who = NULL;
        for (unsigned i = 0; doms && i < ndom && !who; i++) {
                char path[256];
                snprintf(path, sizeof path, "/local/domain/0/backend/vbd/%s", doms[i]);
                unsigned ndev = 0;
                char **devs = xs_directory(h.xs, XBT_NULL, path, &ndev);
                for (unsigned j = 0; devs && j < ndev && !who; j++) {
                        char *pd = hotplug_read(&h, "%s/%s/physical-device", path, devs[j]);
                        char *mode = pd && strcmp(pd, mm) == 0 ? hotplug_read(&h, "%s/%s/mode", path, devs[j]) : NULL;
                        char *vm = pd && strcmp(pd, mm) == 0 ? hotplug_read(&h, "/local/domain/%s/vm", doms[i]) : NULL;
                        bool theirs_w = mode && strchr(mode, 'w');
                        if (pd && strcmp(pd, mm) == 0 && (writing || theirs_w) && (!vm || !my_vm || strcmp(vm, my_vm) != 0))
                                who = strdup(doms[i]);
                        free(pd);
                        free(mode);
                        free(vm);
                }
                free(devs);
        }
        free(doms);
        return who;
}

static int add(void) {
        char *have = hotplug_read(&h, "%s/physical-device", h.backend);
        if (have) {
                /* Called twice (udev and libxl): done already. */
                free(have);
                return 0;
        }
        char *params = hotplug_read(&h, "%s/params", h.backend), *mode = hotplug_read(&h, "%s/mode", h.backend);
        char *front = hotplug_read(&h, "%s/frontend-id", h.backend);
        char *my_vm = front ? hotplug_read(&h, "/local/domain/%s/vm", front) : NULL;
        int r = 0;
        struct stat st;
        bool writing = !mode || strchr(mode, 'w');
        if (!params || !params[0])
                r = hotplug_refuse(&h, "error", "%s/params is empty: no device to give the guest", h.backend);
        else if (stat(params, &st) < 0)
                r = hotplug_refuse(&h, "error", "%s does not exist.", params);
        else if (!S_ISBLK(st.st_mode))
                r = hotplug_refuse(&h, "error", "%s is not a block device.", params);
        else {
                char mm[32];
                snprintf(mm, sizeof mm, "%x:%x", major(st.st_rdev), minor(st.st_rdev));
                const char *mp = mounted_at(st.st_rdev, writing);
                char *who = mp ? NULL : other_guest(mm, my_vm, writing);
                if (mp)
                        r = hotplug_refuse(&h, "busy", "Device %s is mounted in the privileged domain at %s, and so cannot be given to a guest.",
                                   params, mp);
                else if (who)
                        r = hotplug_refuse(&h, "busy", "Device %s is in use by guest domain %s, and so cannot be given to this one.", params, who);
                else {
                        hotplug_write(&h, "physical-device", mm);
                        hotplug_write(&h, "physical-device-path", params);
                        hotplug_write(&h, "hotplug-status", "connected");
                }
                free(who);
        }
        free(params);
        free(mode);
        free(front);
        free(my_vm);
        return r;
}

int main(int argc, char **argv) {
        if (argc < 2 || (strcmp(argv[1], "add") != 0 && strcmp(argv[1], "remove") != 0)) {
                fprintf(stderr,
                        "Usage: %s add|remove\n\n"
                        "The hotplug script of a hyperion guest's disk (an LVM volume): libxenlight\n"
                        "runs it with XENBUS_PATH set to the disk's back end in xenstore.\n",
                        argv[0]);
                return 2;
        }
        h.backend = getenv("XENBUS_PATH");
        if (!h.backend || !h.backend[0]) {
                fprintf(stderr, "hyperion-block: XENBUS_PATH is not set: libxenlight runs this, not you\n");
                return 2;
        }
        /* A block device needs nothing undone at removal. */
        if (strcmp(argv[1], "remove") == 0)
                return 0;
        h.xs = xs_open(0);
        if (!h.xs) {
                fprintf(stderr, "hyperion-block: cannot talk to xenstore: %s\n", strerror(errno));
                return 1;
        }
        int r = add();
        xs_close(h.xs);
        return r;
}
