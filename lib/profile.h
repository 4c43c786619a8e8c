/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * profile.h: the machine, declared.
 *
 * A profile is a folder: profile.conf, then every other *.conf in it in
 * lexical order (drop-ins), read with inih in the systemd INI style: one
 * "Key=Value" a line, '#' or ';' comments on their own line, sections
 * [Kind] or [Kind NAME]. An empty assignment of a list key ("Install=")
 * empties the list. Every key is documented in hyperion-profile(5).
 *
 * profile_load() reads and validates everything and reports every problem
 * as "FILE:LINE: message"; profile_print() writes the normalised profile,
 * every default filled in, the same bytes for the same input.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "macro.h"

typedef struct Loc {
        const char *file; /* owned by the Profile */
        unsigned line;    /* 0: the file as a whole */
} Loc;

/* The largest profile file read (1 MiB: a profile is a few kilobytes). */
#define PROFILE_MAX_FILE (1u << 20)

/* Room for the location of each key of a section (see profile.c tables). */
#define PROFILE_MAX_KEYS 24

/* What every section starts with. */
typedef struct SectionHead {
        char *name;   /* "system" in [Disk system], "root" in [Partition system/root] */
        char *parent; /* "system" in [Partition system/root], NULL otherwise */
        Loc loc;      /* the [Section] line */
        Loc key_loc[PROFILE_MAX_KEYS];
} SectionHead;

typedef enum DiskUse { DISK_KEEP, DISK_FORMAT, DISK_IGNORE, _DISK_USE_MAX } DiskUse;
typedef enum TableType { TABLE_GPT, TABLE_MSDOS, _TABLE_MAX } TableType;
typedef enum PartType { PART_LINUX, PART_ESP, PART_SWAP, PART_LVM, PART_BIOS_GRUB, _PART_TYPE_MAX } PartType;
typedef enum FsType { FS_NONE, FS_EXT4, FS_VFAT, FS_SWAP, _FS_TYPE_MAX, FS_AUTO = -1 } FsType;
typedef enum GuestType { GUEST_PVH, GUEST_PV, _GUEST_TYPE_MAX } GuestType;
typedef enum OverlayOwners { OVERLAY_OWNERS_ROOT, OVERLAY_OWNERS_KEEP, _OVERLAY_OWNERS_MAX } OverlayOwners;
typedef enum Compression { COMP_ZSTD, COMP_XZ, COMP_GZIP, COMP_LZ4, COMP_LZO, _COMP_MAX } Compression;

const char *disk_use_to_string(DiskUse u);
const char *table_type_to_string(TableType t);
const char *part_type_to_string(PartType t);
const char *fs_type_to_string(FsType t);
const char *guest_type_to_string(GuestType t);
const char *compression_to_string(Compression c);

typedef struct SizeOrRest {
        uint64_t bytes;
        bool rest;
} SizeOrRest;

typedef struct Distribution {
        SectionHead head;
        char *suite;
        char *mirror; /* empty: the build machine's own apt sources */
        char *keyring; /* the mirror's signing keys; empty: Debian's archive keyring */
        char **components;
        char *architecture;
} Distribution;

typedef struct Packages {
        SectionHead head;
        char **install;
} Packages;

typedef struct Image {
        SectionHead head;
        char *label;
        Compression compression;
        char *source_date_epoch; /* empty: the mirror's Release date */
        OverlayOwners overlay_owners;
} Image;

typedef struct Host {
        SectionHead head;
        char *hostname;
        char *domain;
        char *locale;
        char *keymap;
        char *timezone;
        char **root_authorized_keys;
        char *root_password_hash;
        char *root_password; /* only so that we can refuse it by name */
        bool keep_identity;  /* a reinstall carries the old root's SSH host keys and machine-id over */
} Host;

typedef struct Network {
        SectionHead head;
        char *bridge;
        char *interface; /* "auto": the first wired interface; a name (enp1s0) or a MAC address */
        char *address;   /* "dhcp" or ADDRESS/PREFIX */
        char *gateway;
        char **dns;
} Network;

/* A bridge more than [Network]'s: [Bridge wan], for a router guest's WAN. */
typedef struct Bridge {
        SectionHead head;
        char *interface; /* "auto": the next wired interface no bridge takes; a name or a MAC address */
        char *address;   /* dom0's address on it: "none" (the default), "dhcp" or ADDRESS/PREFIX */
        char *gateway;
        char **dns;
} Bridge;

/* [Seat seat1]: a seat of dom0 (logind's), with its own graphics card,
 * input devices and sound, running one application full screen. */
typedef struct Seat {
        SectionHead head;  /* logind's seat name: "seat0" (the default seat) or "seat..." */
        char *card;        /* "auto" (the next card no seat names), a PCI address, a kernel driver, or vendor:device */
        char **inputs;     /* one a line: "auto", a USB port ("usb:1-1.2") or a device name ("name:Logitech K120") */
        char *audio;       /* "auto" (the card's own HDMI sound), "none", a PCI address or an ALSA card name */
        char *application; /* "kodi" */
        char *user;        /* the system account it runs as; default "kodi-NAME" */
        uint64_t memory;   /* what it takes of dom0's memory, counted by the plan */
} Seat;

typedef struct Xen {
        SectionHead head;
        uint64_t dom0_memory;
        unsigned dom0_vcpus; /* 0: all */
        bool ballooning;
        bool default_entry;
        char *command_line;      /* more options for the hypervisor */
        char *dom0_command_line; /* dom0's kernel options, instead of the usual ones */
} Xen;

typedef struct Disk {
        SectionHead head;
        uint64_t match_size; /* 0: not matched on size */
        unsigned match_size_tolerance; /* in basis points: 100 = 1% */
        char *match_model;   /* fnmatch(3) pattern */
        char *match_serial;
        char *match_wwn;
        char *match_by_id;   /* a name under /dev/disk/by-id/ */
        DiskUse use;
        TableType table;
        char *mount;         /* keep disks: where their filesystem goes */
        char *mount_options;
        unsigned mount_partition;
} Disk;

typedef struct Partition {
        SectionHead head; /* head.parent: the disk */
        SizeOrRest size;
        PartType type;
        FsType format;
        char *label;
        char *mount;
        char *mount_options;
        uint64_t inode_ratio; /* ext4: bytes per inode (mke2fs -i); 0: mke2fs's default */
        char *volume_group;
        bool preserve; /* kept with its contents on a reinstall (a volume group's PV: set by validation) */
        size_t disk; /* index in Profile.disks, set by validation */
} Partition;

typedef struct VolumeGroup {
        SectionHead head;
        uint64_t extent_size;
        bool preserve; /* reused with its volumes on a reinstall */
} VolumeGroup;

typedef struct Volume {
        SectionHead head; /* head.parent: the volume group */
        uint64_t size;
        FsType format;
        char *label;
        char *mount;
        char *mount_options;
        uint64_t inode_ratio; /* as Partition's */
} Volume;

typedef struct Domain {
        SectionHead head;
        GuestType type;
        uint64_t memory;
        unsigned vcpus;
        uint64_t disk;
        uint64_t swap;
        char *volume_group; /* as given, or the only volume group */
        char **bridges;     /* one interface each, in order (eth0, eth1, ...); default [Network] Bridge= */
        char **macs;        /* one per bridge: as given, or derived from the host and domain names */
        char *address;      /* eth0's: "dhcp" or ADDRESS/PREFIX; the others come up without one */
        char *gateway;      /* with a static Address= */
        char **dns;
        FsType filesystem;
        bool autostart;
        char *overlay;      /* a folder of the profile laid over its root at creation, or "" */
        char **packages;    /* installed into its root at creation (sorted, each once) */
} Domain;

typedef struct Profile {
        char *dir;
        char *name;   /* the folder's last component */
        char **files; /* paths read, in order */

        Distribution distribution;
        Packages packages;
        Image image;
        Host host;
        Network network;
        Xen xen;

        Disk **disks;
        size_t n_disks;
        Partition **partitions; /* in the order they were declared */
        size_t n_partitions;
        VolumeGroup **volume_groups;
        size_t n_volume_groups;
        Volume **volumes;
        size_t n_volumes;
        Domain **domains;
        size_t n_domains;
        Bridge **bridges; /* [Bridge NAME], beside [Network]'s */
        size_t n_bridges;
        Seat **seats;     /* [Seat NAME]: none installs nothing of them */
        size_t n_seats;
} Profile;

/*
 * Read and validate the profile in dir. On success returns 0 and *ret. On
 * failure returns -EINVAL (bad input, with every message in *errors, each
 * "FILE:LINE: message") or another negative errno (cannot read: also a
 * message in *errors).
 */
int profile_load(const char *dir, Profile **ret, char ***errors);
/* As profile_load, but the files given in memory: names[i] holds texts[i]. */
int profile_load_strings(const char *dir, char *const *names, char *const *texts, Profile **ret, char ***errors);
/* profile_load() for programs: every problem printed on standard error, then
 * "profile 'DIR' is not valid: N errors". */
int profile_load_or_complain(const char *dir, Profile **ret);
void profile_free(Profile *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(Profile *, profile_free)

/* The normalised profile, every default filled in. */
void profile_print(const Profile *p, FILE *f);

/* The smallest EFI system partition (see profile-validate.c). */
/* What a seat's Kodi takes of dom0's memory unless its Memory= says:
 * make e2e-seats measured 205 MiB in the seat's account's cgroup (cage and
 * Kodi's home screen, Mesa's llvmpipe, 1280x800), with room for more. */
#define SEAT_MEMORY_DEFAULT (UINT64_C(256) << 20)
/* dom0's own, beside its seats: the toolstack, xenconsoled, the guests' backends. */
#define DOM0_BASE_MEMORY (UINT64_C(512) << 20)
#define ESP_MIN_SIZE (UINT64_C(64) << 20)

/* Where KEY of a section of kind KIND ("Partition") was set, or the
 * [Section] line when it was not (for the plan's messages). */
Loc profile_where(const SectionHead *h, const char *kind, const char *key);
/* "FILE:LINE: " of that key (else of its section, else "FILE: "), to put
 * before a message about it. */
char *profile_at(const SectionHead *h, const char *kind, const char *key);

/* Lookups by name; NULL when absent. */
Disk *profile_find_disk(const Profile *p, const char *name);
VolumeGroup *profile_find_volume_group(const Profile *p, const char *name);
Domain *profile_find_domain(const Profile *p, const char *name);
Bridge *profile_find_bridge(const Profile *p, const char *name);
Seat *profile_find_seat(const Profile *p, const char *name);
/* "xenbr0 (00:16:3e:..), wan (00:16:3e:..)": a guest's interfaces. */
char *domain_nics(const Domain *d);
/* Is name [Network]'s bridge or a [Bridge NAME]? */
bool profile_has_bridge(const Profile *p, const char *name);
/*
 * After a successful load every default is resolved: a partition's Format
 * is never FS_AUTO, a domain's VolumeGroup, Bridge and MAC are filled in
 * (a MAC for each bridge, derived from the host and domain names, in Xen's
 * 00:16:3e range), and [Packages] Install is sorted with each package once.
 */
