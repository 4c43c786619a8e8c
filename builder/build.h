/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * build.h: one ISO build, its folders and its stages.
 *
 * A build runs named stages in a fixed order; each is logged with its
 * elapsed time, and the slow ones are cached under the cache folder, keyed
 * by a SHA-256 of everything they depend on (a hit replaces the stage):
 *
 *   firstboot   the hyperion Debian packages, built for the target suite in
 *               a build chroot of that suite (both cached)
 *   bootstrap   mmdebstrap --variant=minbase of the suite (cached)
 *   packages    apt in the chroot: the profile's packages, the live system,
 *               the installer's dependencies (cached)
 *   install     the hyperion packages into the tree (dpkg)
 *   overlays    overlays/<profile>/ laid over the root, the profile installed
 *   customise   host name, locale and the live system's settings
 *   clean       no machine-id, SSH keys, logs, caches; mtimes clamped
 *   guest       the guests' root filesystem, a reproducible archive (cached)
 *   squash      mksquashfs of the tree
 *   iso         GRUB for BIOS and UEFI, the ISO through libisoburn
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "profile.h"
#include "release.h"

typedef struct Build {
        const Profile *profile;
        char *source;   /* the hyperion source tree (for the Debian packages) */
        char *overlays; /* overlays/<profile name>, or NULL */
        char *output;   /* the ISO */
        char *work;     /* scratch, wiped at start */
        char *cache;
        bool keep_work;

        char *mirror;   /* resolved: the profile's, or the build machine's */
        Release release; /* the mirror's state: its InRelease file */
        int64_t source_date_epoch;
        /* SHA-256 of this hyperion-build program: in the keys of the stages
         * whose trees its own code shapes, so that no cache entry made by
         * another version of it is ever taken (empty in unit tests). */
        char code_sha256[65];

        /* Filled by the stages. */
        char *root;          /* work/root: the live system's tree */
        char *debs;          /* work/debs: the hyperion packages */
        char **deb_files;    /* their paths */
        char **deb_depends;  /* what they need from the archive */
        char bootstrap_key[65];
        char packages_key[65];
        char debs_key[65];   /* the hyperion packages', from their sources: taken
                              * once, before the stages run beside each other */
        bool packages_cached; /* the packages stage's tree came from the cache */
        char *kernel_version;
        char *squashfs;      /* work/iso/live/filesystem.squashfs */
        FILE *log;           /* work/build.log, every message and command */
} Build;

/* The live system's initrd (with live-boot), in the tree until the squash
 * stage moves it onto the ISO. */
#define LIVE_INITRD "usr/lib/hyperion/live-initrd.img"

typedef struct Stage {
        const char *name;
        int (*run)(Build *b);
        /* Run beside the stages that follow, in a child process with a mount
         * namespace of its own: for a stage that only reads the Build and
         * writes its own files (the guest root). */
        bool aside;
        /* Waits for every stage run aside before it starts. */
        bool join;
} Stage;

/* The stages, in order (stages.c). */
extern const Stage build_stages[];

int build_run(Build *b);
void build_release(Build *b);

/* The stages themselves, one file each. */
int stage_firstboot(Build *b); /* debpkg.c */
/* The key of the hyperion packages (their sources, their build chroot), into b->debs_key. */
void firstboot_key(Build *b);
/* The packages stage_firstboot made (in a process of its own), found in the cache. */
int firstboot_collect(Build *b);
int stage_bootstrap(Build *b); /* bootstrap.c */
/* What the packages stage installs: the profile's, the live system's, and
 * what debian/control says the image's hyperion packages depend on. */
char **build_package_list(const Build *b);
int stage_packages(Build *b);  /* bootstrap.c */
int stage_install(Build *b);   /* bootstrap.c */
int stage_overlays(Build *b);  /* image.c */
int stage_customise(Build *b); /* image.c */
int stage_clean(Build *b);     /* image.c */
int stage_guest(Build *b);     /* guest.c */
int stage_squash(Build *b);    /* squash.c */
int stage_iso(Build *b);       /* iso.c */

/* Set when SIGINT, SIGTERM or SIGHUP arrived: stages stop at the next step. */
extern volatile int build_interrupted;
/* Is / a mount point of its own (not so in a plain chroot)? A process
 * can make its mounts its own (a private mount namespace) only then. */
bool root_is_mount_point(void);
int build_check_interrupted(void);

/* The keyring the mirror is checked against: the profile's, or Debian's. */
const char *build_keyring(const Build *b);

/* The ISO's volume id (iso.c). */
char *iso_volume_id(const Build *b);

/* A cache file name for a stage and its key: cache/NAME-KEY16.tar.zst */
char *cache_path(const Build *b, const char *name, const char *key, const char *suffix);
