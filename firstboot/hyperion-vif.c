/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hyperion-vif: the hotplug script of the guests' network interfaces (their
 * xl configuration says script=GUEST_VIF_SCRIPT), in place of Xen's
 * /etc/xen/scripts/vif-bridge.
 *
 * libxenlight runs it with "online" or "offline", XENBUS_PATH naming the
 * interface's back end in xenstore and "vif" its name in dom0 (vif3.0), and
 * gives it 40 seconds. Xen's script, in bash with a dozen programs and a
 * lock, outlasts them on a loaded two-core host: the guest is not created
 * and has to be tried again. This is one process that does what that script
 * does for a bridge: online, the interface takes the bridge's MTU, joins the
 * bridge its back end names and comes up, then hotplug-status "connected";
 * offline, it leaves the bridge and goes down. A failure writes
 * hotplug-error and hotplug-status "error", so libxl gives the reason.
 */
#include <errno.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <xenstore.h>

#include "hotplug.h"

static Hotplug h = { .program = "hyperion-vif" };

static int ifreq_named(struct ifreq *ifr, const char *name) {
        memset(ifr, 0, sizeof *ifr);
        if (strlen(name) >= sizeof ifr->ifr_name)
                return -ENAMETOOLONG;
        memcpy(ifr->ifr_name, name, strlen(name) + 1);
        return 0;
}

static int set_up(int s, const char *dev, bool up) {
        struct ifreq ifr;
        if (ifreq_named(&ifr, dev) < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
                return -errno;
        ifr.ifr_flags = (short) (up ? ifr.ifr_flags | IFF_UP : ifr.ifr_flags & ~IFF_UP);
        return ioctl(s, SIOCSIFFLAGS, &ifr) < 0 ? -errno : 0;
}

/* dev joins (or leaves) bridge. */
static int bridge_port(int s, const char *bridge, const char *dev, bool join) {
        struct ifreq ifr;
        unsigned index = if_nametoindex(dev);
        if (!index || ifreq_named(&ifr, bridge) < 0)
                return -ENODEV;
        ifr.ifr_ifindex = (int) index;
        if (ioctl(s, join ? SIOCBRADDIF : SIOCBRDELIF, &ifr) < 0)
                return errno == EBUSY && join ? 0 : -errno; /* EBUSY: a port already */
        return 0;
}

static int online(int s, const char *dev, const char *bridge) {
        struct ifreq ifr;
        if (!if_nametoindex(dev))
                return hotplug_refuse(&h, "error", "the interface %s does not exist", dev);
        if (!if_nametoindex(bridge))
                return hotplug_refuse(&h, "error", "the bridge %s does not exist (is the network up?)", bridge);
        /* The bridge's MTU, as vif-bridge gives it. */
        if (ifreq_named(&ifr, bridge) == 0 && ioctl(s, SIOCGIFMTU, &ifr) == 0) {
                int mtu = ifr.ifr_mtu;
                if (ifreq_named(&ifr, dev) == 0) {
                        ifr.ifr_mtu = mtu;
                        if (ioctl(s, SIOCSIFMTU, &ifr) < 0)
                                fprintf(stderr, "hyperion-vif: cannot give %s the MTU %d of %s: %s\n", dev, mtu, bridge,
                                        strerror(errno));
                }
        }
        int r = bridge_port(s, bridge, dev, true);
        if (r < 0)
                return hotplug_refuse(&h, "error", "cannot add %s to the bridge %s: %s", dev, bridge, strerror(-r));
        if ((r = set_up(s, dev, true)) < 0)
                return hotplug_refuse(&h, "error", "cannot bring %s up: %s", dev, strerror(-r));
        hotplug_write(&h, "hotplug-status", "connected");
        return 0;
}

int main(int argc, char **argv) {
        bool up = argc >= 2 && (strcmp(argv[1], "online") == 0 || strcmp(argv[1], "add") == 0);
        bool down = argc >= 2 && (strcmp(argv[1], "offline") == 0 || strcmp(argv[1], "remove") == 0);
        if (!up && !down) {
                fprintf(stderr,
                        "Usage: %s online|offline\n\n"
                        "The hotplug script of a hyperion guest's network interface: libxenlight runs\n"
                        "it with XENBUS_PATH set to the interface's back end in xenstore and vif to\n"
                        "its name in dom0.\n",
                        argv[0]);
                return 2;
        }
        h.backend = getenv("XENBUS_PATH");
        if (!h.backend || !h.backend[0]) {
                fprintf(stderr, "hyperion-vif: XENBUS_PATH is not set: libxenlight runs this, not you\n");
                return 2;
        }
        h.xs = xs_open(0);
        if (!h.xs) {
                fprintf(stderr, "hyperion-vif: cannot talk to xenstore: %s\n", strerror(errno));
                return 1;
        }
        /* Its name: libxl's "vif", else vifDOMID.DEVID from the back end's path. */
        char name[IFNAMSIZ] = "";
        const char *env = getenv("vif");
        unsigned domid, devid;
        if (env && env[0])
                snprintf(name, sizeof name, "%s", env);
        else if (sscanf(h.backend, "/local/domain/0/backend/vif/%u/%u", &domid, &devid) == 2)
                snprintf(name, sizeof name, "vif%u.%u", domid, devid);
        char *bridge = hotplug_read(&h, "%s/bridge", h.backend);
        int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        int r = 0;
        if (!name[0])
                r = hotplug_refuse(&h, "error", "no interface name (no vif in the environment, %s is not a vif back end)", h.backend);
        else if (!bridge || !bridge[0])
                r = hotplug_refuse(&h, "error", "%s/bridge is empty: no bridge for %s", h.backend, name);
        else if (s < 0)
                r = hotplug_refuse(&h, "error", "cannot open a socket: %s", strerror(errno));
        else if (up)
                r = online(s, name, bridge);
        else {
                /* The interface goes with its domain; whatever is left, undone. */
                (void) bridge_port(s, bridge, name, false);
                (void) set_up(s, name, false);
        }
        if (s >= 0)
                close(s);
        free(bridge);
        xs_close(h.xs);
        return r;
}
