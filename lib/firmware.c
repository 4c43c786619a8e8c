/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "firmware.h"

#include "strutil.h"

static const char *const uefi_modules[] = { "efi_gop", "all_video", NULL };
static const char *const bios_modules[] = { "biosdisk", NULL };

static char **uefi_install_argv(const Firmware *fw, const FirmwareTarget *t) {
        char **a = xcalloc(1, sizeof(char *));
        strv_push(&a, "grub-install");
        strv_consume(&a, xasprintf("--target=%s", fw->grub_target));
        strv_consume(&a, xasprintf("--efi-directory=%s", t->efi_directory));
        if (t->removable)
                strv_push(&a, "--removable");
        else {
                strv_consume(&a, xasprintf("--bootloader-id=%s", t->bootloader_id));
                strv_push(&a, "--recheck");
        }
        if (t->removable || !t->nvram)
                strv_push(&a, "--no-nvram");
        return a;
}

static char **bios_install_argv(const Firmware *fw, const FirmwareTarget *t) {
        char **a = xcalloc(1, sizeof(char *));
        strv_push(&a, "grub-install");
        strv_consume(&a, xasprintf("--target=%s", fw->grub_target));
        strv_push(&a, t->disk);
        return a;
}

const Firmware firmwares[_FIRMWARE_MAX] = {
        [FIRMWARE_UEFI] = {
                .name = "UEFI",
                .grub_target = "x86_64-efi",
                .grub_dir = "/usr/lib/grub/x86_64-efi",
                .grub_package = "grub-efi-amd64-bin",
                .mkimage_format = "x86_64-efi",
                .modules = uefi_modules,
                .removable_path = "EFI/BOOT/BOOTX64.EFI",
                .install_argv = uefi_install_argv,
        },
        [FIRMWARE_BIOS] = {
                .name = "BIOS",
                .grub_target = "i386-pc",
                .grub_dir = "/usr/lib/grub/i386-pc",
                .grub_package = "grub-pc-bin",
                .mkimage_format = "i386-pc-eltorito",
                .modules = bios_modules,
                .removable_path = NULL,
                .install_argv = bios_install_argv,
        },
};

char **firmware_mkimage_argv(const Firmware *fw, const char *early_cfg, const char *output, const char *const *common_modules) {
        char **a = xcalloc(1, sizeof(char *));
        strv_push(&a, "grub-mkimage");
        strv_push(&a, "-O");
        strv_push(&a, fw->mkimage_format);
        strv_push(&a, "-d");
        strv_push(&a, fw->grub_dir);
        strv_push(&a, "-p");
        strv_push(&a, "/boot/grub");
        strv_push(&a, "-c");
        strv_push(&a, early_cfg);
        strv_push(&a, "-o");
        strv_push(&a, output);
        for (const char *const *m = common_modules; *m; m++)
                strv_push(&a, *m);
        for (const char *const *m = fw->modules; *m; m++)
                strv_push(&a, *m);
        return a;
}
