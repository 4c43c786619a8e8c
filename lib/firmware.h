/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * firmware.h: BIOS and UEFI, the two ways a PC starts GRUB, behind one
 * small table that both programs use (libfdisk's label operations are the
 * model): hyperion-build makes the ISO's boot images with grub-mkimage
 * (firmware_mkimage_argv), hyperion-firstboot installs GRUB onto the new
 * system with grub-install (firmware_install_argv).
 */
#pragma once

#include <stdbool.h>

typedef enum FirmwareKind { FIRMWARE_UEFI, FIRMWARE_BIOS, _FIRMWARE_MAX } FirmwareKind;

/* Where GRUB goes when installed onto a disk. */
typedef struct FirmwareTarget {
        const char *efi_directory; /* UEFI: the ESP's mount point */
        const char *bootloader_id; /* UEFI: EFI/<id>/ and the boot entry's label */
        bool removable;            /* UEFI: the removable path instead */
        bool nvram;                /* UEFI: write the firmware's boot entry */
        const char *disk;          /* BIOS: the disk whose boot code it writes */
} FirmwareTarget;

typedef struct Firmware {
        const char *name;           /* "UEFI", "BIOS" */
        const char *grub_target;    /* grub-install's and grub-mkimage's platform */
        const char *grub_dir;       /* its modules on the build machine */
        const char *grub_package;   /* the Debian package that has them */
        const char *mkimage_format; /* the ISO's boot image */
        const char *const *modules; /* what that image needs beyond the common ones */
        const char *removable_path; /* UEFI's fallback loader, or NULL */
        /* argv of grub-install for a target (NULL-terminated, caller frees). */
        char **(*install_argv)(const struct Firmware *fw, const FirmwareTarget *t);
} Firmware;

extern const Firmware firmwares[_FIRMWARE_MAX];

/* grub-mkimage's argv for the ISO's boot image of fw: early configuration,
 * output, and the common modules with fw's own. */
char **firmware_mkimage_argv(const Firmware *fw, const char *early_cfg, const char *output, const char *const *common_modules);
