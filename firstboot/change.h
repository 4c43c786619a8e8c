/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * change.h: day two. The running host against its profile.
 *
 * On an installed host (its install journal finished, dom0 of a running
 * Xen), 'plan' and 'apply' do not install: they compare /etc/hyperion/profile
 * with what the host has, and carry out the difference.
 *
 * host_describe() reads what the host has (impure): the physical network
 * cards and the bridges up, the volume groups (free space) and their
 * volumes, the guest configurations hyperion wrote (/etc/xen/NAME.cfg,
 * /etc/xen/auto), the domains Xen runs (their maximum memory), Xen's free
 * memory, and whether the guest archive is kept on the host. The same
 * description is printed by 'hyperion-firstboot host' and read back from a
 * folder by the tests (host_load(): DIR/host and DIR/xen/NAME.cfg).
 *
 * change_make() is a pure function of the profile and that description:
 *
 *   bridge NAME       a [Bridge] the host does not have: its file in
 *                     /etc/network/interfaces.d, brought up with ifup (the
 *                     bridge the admin is connected through is not touched)
 *   guest NAME        a guest new in the profile: its volumes (zeroed ends),
 *                     its root filesystem from the archive kept on the host,
 *                     its configuration (libxlutil-checked), the domain
 *                     created through libxenlight, linked into /etc/xen/auto;
 *                     its volumes there already (a guest retired before):
 *                     registered again, nothing of them written
 *   config NAME       a guest changed: its configuration rewritten; memory
 *                     within the running domain's maximum set live, the rest
 *                     (more memory, vCPUs, bridges, type) at its next restart
 *   grow NAME         its disk or swap made larger: the guest shut down
 *                     cleanly, the volume extended, its filesystem grown (swap
 *                     made again), the guest started again
 *   autostart NAME    the link in /etc/xen/auto made or removed
 *   retire NAME       a guest gone from the profile: shut down cleanly,
 *                     unregistered (configuration moved to
 *                     /var/lib/hyperion/retired/), its volumes kept; with
 *                     --purge, wiped and removed
 *
 * and refuses, naming the guest, what it cannot do: a volume made smaller,
 * a volume group without the room, a guest without the archive, memory Xen
 * has not got free. change_apply() carries the changes out in order, each
 * one journalled in CHANGE_JOURNAL when done.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "probe.h"
#include "profile.h"
#include "xen.h"

#define CHANGE_JOURNAL "/var/lib/hyperion/change.journal"
#define RETIRED_DIR "/var/lib/hyperion/retired"

typedef struct HostGuest {
        char *name;
        char *cfg;        /* /etc/xen/NAME.cfg as hyperion wrote it, or NULL */
        bool autostart;   /* /etc/xen/auto/NAME.cfg */
        bool running;     /* Xen has a domain of that name */
        uint32_t domid;
        uint64_t max_memory; /* the running domain's maximum, bytes */
} HostGuest;

typedef struct HostVolume {
        char *group, *name;
        uint64_t size;
} HostVolume;

typedef struct HostGroup {
        char *name;
        uint64_t free, extent;
} HostGroup;

typedef struct HostState {
        Inventory net;      /* its nics only */
        char **bridges;     /* up on dom0 */
        HostGroup *groups;
        size_t n_groups;
        HostVolume *volumes;
        size_t n_volumes;
        HostGuest *guests;
        size_t n_guests;
        uint64_t free_memory; /* Xen's, bytes; 0: unknown */
        bool archive;         /* GUEST_ARCHIVE_HOST is there */
} HostState;

int host_describe(HostState *h);
/* A described host from a folder: DIR/host (host_print's lines) and DIR/xen/NAME.cfg. */
int host_load(const char *dir, HostState *h);
void host_print(const HostState *h, FILE *f);
void host_release(HostState *h);

typedef enum ChangeKind {
        CHANGE_BRIDGE,
        CHANGE_GUEST_NEW,
        CHANGE_GUEST_BACK,
        CHANGE_GUEST_CONFIG,
        CHANGE_GUEST_GROW,
        CHANGE_GUEST_AUTOSTART,
        CHANGE_GUEST_RETIRE,
        _CHANGE_KIND_MAX,
} ChangeKind;

typedef struct Change {
        ChangeKind kind;
        char *id;   /* "guest europa": its name in the journal */
        char *what; /* for people, one line or more */
        const Domain *domain;  /* the profile's guest (not for retire) */
        const Bridge *bridge;  /* CHANGE_BRIDGE */
        char *nic;             /* CHANGE_BRIDGE: the card it takes */
        char *name;            /* the guest's or bridge's name */
        char *text;            /* the file written: a cfg, a bridge's interfaces */
        bool live;             /* CONFIG: memory set on the running domain */
        bool restart;          /* CONFIG: the rest waits for its next restart */
        bool running;          /* the guest runs now */
        bool autostart;        /* AUTOSTART: the link made (true) or removed */
        uint64_t disk_from, swap_from; /* GROW: the volumes' sizes now (0: unchanged) */
        char **volumes;        /* RETIRE: "vg0/tethys-disk", kept or purged */
        bool purge;
} Change;

typedef struct ChangePlan {
        const Profile *profile;
        const HostState *host;
        Change *changes;
        size_t n_changes;
        char **notes; /* what is left alone, and why */
        char identity[65];
} ChangePlan;

typedef struct ChangeOptions {
        bool purge; /* --purge: a retired guest's volumes wiped and removed */
} ChangeOptions;

/* 0 and *ret, or -EINVAL with every reason in *errors. */
int change_make(const Profile *p, const HostState *h, const ChangeOptions *o, ChangePlan **ret, char ***errors);
void change_print(const ChangePlan *c, FILE *f);
void change_free(ChangePlan *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(ChangePlan *, change_free)

/* Carry them out; 0, or a negative errno (what was done is journalled). */
int change_apply(const ChangePlan *c);
