/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * plan.h: profile + probed machine -> the whole install, as steps.
 *
 * plan_make() is a pure function: it reads the profile and the inventory
 * and touches nothing. It matches every disk of the profile to exactly one
 * disk of the machine, lays out the partitions (1 MiB aligned, "rest" fills
 * the disk), sizes the volume groups and their volumes in checked
 * arithmetic, checks memory and every precondition of every step, refuses
 * to format a disk that holds data unless allowed (--wipe; when
 * unattended, only a disk the profile pins by serial, WWN or by-id), and
 * then lists the steps of the install in order. Each step names what it
 * acts on (a disk by its identity, a partition, a volume, a guest, a file
 * of the target) and carries its parameters: the filesystems' UUIDs, the
 * texts of the files it writes, the network card of the bridge, whether
 * the firmware gets a boot entry. Apply carries out exactly these steps
 * (apply.c); nothing it writes is missing from the plan.
 *
 * A reinstall is a plan made over an installed hyperion: the finished
 * journal on its root (journal.h) gives the layout that install made, and
 * every partition and volume group the profile preserves (Preserve=yes)
 * must be found there as it was (same place, same size, same filesystem
 * UUID, same volume group), or the plan is refused with both layouts side
 * by side. What is preserved is never written: its filesystem is checked
 * read-only before anything else, the table that holds it is kept, its
 * group is reused with its volumes (a volume the profile made larger is
 * extended, a smaller one is refused, one it no longer names is left alone
 * and reported); everything else is made anew as on a first install.
 *
 * plan_print() shows it, the same bytes for the same input.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "probe.h"
#include "profile.h"

typedef struct PlanPartition {
        const Partition *part;
        unsigned number; /* 1-based, in declaration order */
        uint64_t start;  /* bytes from the start of the disk */
        uint64_t size;   /* bytes */
        char uuid[40];   /* the filesystem's UUID (vfat: XXXX-XXXX), "" without one */
        bool keep;       /* a reinstall preserves it: never written */
        uint64_t used;   /* kept: its filesystem's bytes in use, 0 unknown */
} PlanPartition;

typedef struct PlanDisk {
        const Disk *disk;
        const ProbedDisk *dev;
        PlanPartition *parts;
        size_t n_parts;
        bool wipe;   /* formatting destroys what it holds */
        bool resume; /* holds the table an interrupted install of this plan wrote */
        bool reinstall; /* the installed system's disk: its table is kept */
} PlanDisk;

typedef enum VolumeState { VOLUME_NEW, VOLUME_KEEP, VOLUME_GROW } VolumeState;

typedef struct PlanVolume {
        const char *group;
        char *name;
        uint64_t size; /* rounded up to whole extents */
        FsType format;
        const char *mount;     /* "" when not mounted on the host */
        const Volume *volume;  /* a volume of the host, or */
        const Domain *domain;  /* a guest's disk or swap */
        VolumeState state;     /* a reinstall: made, kept as it is, or extended */
        uint64_t old_size;     /* kept or extended: its size now */
} PlanVolume;

typedef struct PlanGroup {
        const VolumeGroup *vg;
        uint64_t capacity; /* bytes of extents on its physical volumes */
        uint64_t used;
        bool reuse;    /* a reinstall: the group is there and kept */
        char **orphans; /* its volumes the profile does not name: "old 4G" (left alone) */
} PlanGroup;

typedef enum StepKind {
        STEP_CHECK,        /* a preserved filesystem checked read-only (e2fsck -n), before any write */
        STEP_TABLE,        /* a disk's new partition table (old signatures wiped first); a reinstall's: kept */
        STEP_FORMAT,       /* a partition's filesystem or swap, with the plan's UUID */
        STEP_MOUNT,        /* a filesystem of the target mounted (the root: the journal goes onto it) */
        STEP_PV,           /* an LVM physical volume on a partition */
        STEP_VG,           /* a volume group on its physical volumes */
        STEP_LV,           /* a logical volume, its ends zeroed; a host volume's filesystem */
        STEP_LV_GROW,      /* a kept volume the profile made larger: lvextend, then its filesystem grown */
        STEP_STORAGE,      /* image files: the disks are ready, the system installs only from the ISO */
        STEP_COPY,         /* the live system's root image copied onto the target */
        STEP_CHROOT,       /* the target's /proc, /sys, /run and a /dev of its own */
        STEP_PURGE_LIVE,   /* the live system's own package purged from the target */
        STEP_FILE,         /* a file of the target, its whole text */
        STEP_SETTING,      /* VAR="value" in a shell-style settings file of the target */
        STEP_DIR,          /* a folder of the target, its owner and mode */
        STEP_IDENTITY,     /* a machine-id and SSH host keys of its own */
        STEP_ROOT_ACCESS,  /* root's SSH keys, its password hash */
        STEP_DIVERT,       /* dpkg-divert of 20_linux_xen to 08_linux_xen */
        STEP_GRUB,         /* GRUB onto one firmware target (firmware.h), the EFI boot entry */
        STEP_UPDATE_GRUB,  /* grub.cfg, its first entry checked to be Xen */
        STEP_GUEST_ARCHIVE, /* the guest archive copied onto the host (day two's guests) */
        STEP_GUEST,        /* a guest: its volumes, its root filesystem, its xl configuration */
        STEP_SEAT,         /* a seat of dom0: its account, its application's settings, its unit enabled */
        STEP_DONE,
        _STEP_KIND_MAX,
} StepKind;

typedef struct Step {
        StepKind kind;
        char *id;      /* its name in the journal: "format system/root" */
        char *what;    /* what it does, for people */
        char *why;     /* a setting's reason, for the comment above it */
        ssize_t disk;  /* the plan disk it acts on, or -1 */
        ssize_t part;  /* the partition of that disk, or -1 */
        ssize_t group; /* the plan group, or -1 */
        ssize_t volume;
        const Domain *domain;
        const struct SeatAssignment *seat; /* STEP_SEAT */
        char *path;   /* a file or folder of the target, a mount point */
        char *text;   /* a file's text, a setting's value */
        char *var;    /* a setting's variable */
        char *owner;  /* a folder's "root:adm" */
        unsigned mode;
        int firmware; /* STEP_GRUB: FIRMWARE_* (firmware.h) */
        bool removable; /* STEP_GRUB: the removable path (EFI/BOOT/BOOTX64.EFI) */
        bool nvram;   /* STEP_GRUB: write the firmware's boot entry */
        bool keep;    /* STEP_GUEST: its volumes are kept (re-registered only); STEP_IDENTITY: the old root's */
} Step;

typedef struct Plan {
        const Profile *profile;
        const Inventory *inventory;
        PlanDisk *disks; /* in the profile's order */
        size_t n_disks;
        PlanGroup *groups;
        size_t n_groups;
        PlanVolume *volumes;
        size_t n_volumes;
        uint64_t memory_needed;
        const ProbedNic *nic; /* the bridge's interface, or NULL */
        const ProbedNic **bridge_nics; /* [Bridge NAME]'s, in the profile's order (NULL: none found) */
        bool storage_only;    /* the disks are image files: storage steps only */
        uint64_t seed;        /* of the UUIDs */
        char identity[65];    /* what an install journal of this plan carries */
        bool reinstall;       /* over an installed hyperion (PlanOptions.previous) */
        bool derived;         /* ... recognised from its disks, its journal gone */
        char **layout;        /* what this install makes, for its journal (journal.h) */
        char **previous;      /* a reinstall: the installed layout, as it was found */
        struct SeatAssignment *seats; /* one a profile's seat: its devices (seat.h) */
        size_t n_seats;
        Step *steps;
        size_t n_steps;
} Plan;

typedef struct PlanOptions {
        bool wipe;         /* --wipe: formatting a disk that holds data is allowed */
        bool start_over;   /* --start-over: even what the profile preserves, where a
                            * first install finds it (not an installed hyperion) */
        bool unattended;   /* hyperion.install=unattended */
        uint64_t seed;     /* of the filesystems' UUIDs (an interrupted install's, to resume) */
        char **resumable;  /* disks an interrupted install of this plan partitioned
                            * (its journal says so, the table is the planned one) */
        char **previous;   /* a reinstall: the layout lines of the installed system */
        bool layout_only;  /* only the disks and their layout (to find a journal on
                            * them): nothing that may hold them now is an error */
        bool previous_found; /* they come from a finished journal: its volumes are
                              * read again from the disks (an interrupted reinstall's
                              * "previous" lines are used as they are) */
        bool previous_derived; /* no journal: they were read from the disks
                                * (plan_found_layout), so nothing proves the
                                * disks are this hyperion's: everything the
                                * reinstall formats needs --wipe (pinned disks,
                                * unattended) */
} PlanOptions;

/* The installed layout ("previous" lines, journal.h) that the disks of a
 * layout-only plan show where no journal is left (a reinstall cut while its
 * root was formatted): each disk to format whose partition table is the
 * plan's and whose preserved partitions hold their filesystem or the
 * physical volume of their group, with what the disk holds; NULL when no
 * disk does. */
char **plan_found_layout(const Plan *layout);

/* 0 and *ret, or -EINVAL with every reason in *errors. */
int plan_make(const Profile *p, const Inventory *inv, const PlanOptions *o, Plan **ret, char ***errors);
void plan_print(const Plan *plan, FILE *f);
void plan_free(Plan *plan);
DEFINE_TRIVIAL_CLEANUP_FUNC(Plan *, plan_free)

/* The step of that id, or NULL. */
const Step *plan_find_step(const Plan *plan, const char *id);
/* Does the disk hold exactly the planned partition table already? */
bool plan_disk_matches(const PlanDisk *pd);
/* Does the probed disk satisfy every Match key of the profile's disk? */
bool disk_matches(const Disk *want, const ProbedDisk *have);
/* The end of the area partitions may use, 1 MiB aligned (bytes). */
uint64_t plan_usable_end(const ProbedDisk *dev, TableType table);
/* What LVM gives of a physical volume of this size, in extents of this size. */
uint64_t lvm_pv_capacity(uint64_t pv_size, uint64_t extent);
/* A guest's disk volume in the plan, or NULL. */
const PlanVolume *plan_guest_volume(const Plan *plan, const Domain *dom);
/* The plan partition mounted at path ("/", "/boot"): true and its indices. */
bool plan_find_mount(const Plan *plan, const char *path, size_t *ri, size_t *rj);

/* The texts the plan writes into the target (tested on their own). */
char *plan_fstab(const Plan *plan);
char *plan_interfaces(const Profile *p, const char *interface);
/* /etc/network/interfaces.d/hyperion-NAME of a [Bridge NAME] on that card. */
char *plan_bridge_interfaces(const Bridge *b, const char *interface);
#define BRIDGE_FILE_FMT "/etc/network/interfaces.d/hyperion-%s"
/* "enp1s0 52:54:00:12:34:56, ...": the machine's cards, or "none". */
char *plan_nic_list(const Inventory *inv);
/* Which card each bridge takes: [Network]'s into *nic, each [Bridge]'s
 * into nics[] (an array of p->n_bridges); errors name the missing ones. */
void plan_choose_nics(const Profile *p, const Inventory *inv, const ProbedNic **nic, const ProbedNic **nics, bool quiet, char ***errors);

#define PLAN_ALIGN (UINT64_C(1) << 20)
/* LVM's default: data starts 1 MiB into a physical volume. */
#define LVM_PE_START (UINT64_C(1) << 20)
