/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iso.c: the hybrid ISO. GRUB boots it on both firmwares and from both
 * media: BIOS from CD through an El Torito image (i386-pc-eltorito), BIOS
 * from a USB disk through GRUB's boot_hybrid.img in the MBR, UEFI from
 * either through an EFI system partition image (x86_64-efi, the removable
 * path EFI/BOOT/BOOTX64.EFI) that is both an El Torito entry and a GPT
 * partition appended to the image. The ISO itself is written by libisoburn
 * (xorriso's library), in its mkisofs emulation, with every date derived
 * from SOURCE_DATE_EPOCH so that the same tree gives the same bytes.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libisoburn/xorriso.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bootstrap.h"
#include "build.h"
#include "debtree.h"
#include "firmware.h"
#include "log.h"
#include "medium.h"
#include "run.h"
#include "sha256.h"
#include "size.h"
#include "strutil.h"


/* Built into both GRUB images: enough to find the medium, show the menu on
 * screen and serial line, and boot Linux. */
static const char *const grub_modules[] = {
        "normal", "configfile", "search", "search_fs_file", "search_fs_uuid", "search_label", "iso9660", "part_msdos",
        "part_gpt", "fat", "linux", "echo", "test", "ls", "cat", "serial", "terminal", "terminfo", "sleep", "true", NULL,
};

/* The entries of the menu: what, and the kernel options that say it. */
static const struct {
        const char *title;
        const char *options;
} entries[] = {
        { "Install Hyperion (asks before writing anything)", "hyperion.install=interactive" },
        { "Install Hyperion, unattended (formats the disks the profile marks, then reboots)", "hyperion.install=unattended" },
        { "Rescue shell (the live system; installs nothing)", "hyperion.install=no" },
};

char *iso_volume_id(const Build *b) {
        /* ISO 9660 volume ids are 32 characters at most. */
        return xstrndup(b->profile->image.label, 32);
}

static int write_grub_cfg(const Build *b, const char *iso, const char *id) {
        _cleanup_free_ char *menu = xstrdup("");
        static const char *const consoles[] = { "", " console=tty0 console=ttyS0,115200n8" };
        static const char *const suffix[] = { "", " (serial console)" };
        for (size_t c = 0; c < ELEMENTSOF(consoles); c++)
                for (size_t i = 0; i < ELEMENTSOF(entries); i++) {
                        char *m = xasprintf("%smenuentry \"%s%s\" {\n"
                                            "\tlinux /live/vmlinuz boot=live %s%s\n"
                                            "\tinitrd /live/initrd.img\n"
                                            "}\n\n",
                                            menu, entries[i].title, suffix[c], entries[i].options, consoles[c]);
                        free(menu);
                        menu = m;
                }
        _cleanup_free_ char *cfg = xasprintf(
                "# hyperion: the menu of the installer ISO (profile '%s')\n"
                "serial --unit=0 --speed=115200 --word=8 --parity=no --stop=1\n"
                "terminal_input console serial\n"
                "terminal_output console serial\n"
                "set default=0\n"
                "set timeout=10\n"
                "# the medium we booted from: %s\n\n%s",
                b->profile->name, id, menu);
        return write_file_under(iso, "boot/grub/grub.cfg", cfg, 0644);
}

static int grub_images(const Build *b, const char *iso, const char *id, char **ret_efi_img) {
        _cleanup_free_ char *grubdir = path_join(b->work, "grub");
        _cleanup_free_ char *early = path_join(grubdir, "early.cfg");
        _cleanup_free_ char *eltorito = path_join(iso, "boot/grub/i386-pc/eltorito.img");
        _cleanup_free_ char *efidir = path_join(grubdir, "efi");
        _cleanup_free_ char *bootx64 = path_join(efidir, "BOOTX64.EFI");
        _cleanup_free_ char *efi_img = path_join(b->work, "efi.img");
        _cleanup_free_ char *pcdir = path_join(iso, "boot/grub/i386-pc");
        int r;
        if ((r = RUN(NULL, "mkdir", "-p", efidir, pcdir)) < 0)
                return r;
        /* Find the medium by a file only this build has, then its menu. */
        _cleanup_free_ char *early_text = xasprintf("search --no-floppy --set=root --file /.disk/id/%s\n"
                                                    "set prefix=($root)/boot/grub\n"
                                                    "configfile $prefix/grub.cfg\n",
                                                    id);
        if ((r = write_file_under(grubdir, "early.cfg", early_text, 0644)) < 0)
                return r;

        /* The two firmwares' boot images, from the one table. */
        const struct {
                FirmwareKind kind;
                const char *out;
        } images[] = { { FIRMWARE_BIOS, eltorito }, { FIRMWARE_UEFI, bootx64 } };
        for (size_t i = 0; i < ELEMENTSOF(images); i++) {
                const Firmware *fw = &firmwares[images[i].kind];
                _cleanup_strv_free_ char **argv = firmware_mkimage_argv(fw, early, images[i].out, grub_modules);
                if ((r = run_ok(argv, NULL)) < 0)
                        return log_error_errno(r, "cannot make GRUB's %s image (is %s installed?)", fw->name, fw->grub_package);
        }

        /* The EFI system partition image: FAT, fixed serial, fixed times. */
        struct stat st;
        if (stat(bootx64, &st) < 0)
                return log_error_errno(errno, "cannot stat '%s': %m", bootx64);
        uint64_t kib = ((uint64_t) st.st_size / 1024 + 1024 + 1023) / 1024 * 1024;
        _cleanup_free_ char *blocks = xasprintf("%llu", (unsigned long long) kib);
        _cleanup_free_ char *serial = xasprintf("%08llx", (unsigned long long) (b->source_date_epoch & 0xffffffff));
        _cleanup_free_ char *sde = xasprintf("SOURCE_DATE_EPOCH=%lld", (long long) b->source_date_epoch);
        char *env[] = { sde, "TZ=UTC", NULL };
        RunOptions o = { .env = env, .quiet = true };
        (void) unlink(efi_img);
        if ((r = clamp_mtimes(efidir, b->source_date_epoch)) < 0 ||
            (r = RUN(&o, "mkfs.vfat", "-C", "--invariant", "-i", serial, "-n", "HYPERIONEFI", efi_img, blocks)) < 0 ||
            (r = RUN(&o, "mmd", "-i", efi_img, "::/EFI", "::/EFI/BOOT")) < 0 ||
            (r = RUN(&o, "mcopy", "-m", "-i", efi_img, bootx64, "::/EFI/BOOT/BOOTX64.EFI")) < 0)
                return log_error_errno(r, "cannot make the EFI system partition image (are dosfstools and mtools installed?)");
        *ret_efi_img = TAKE_PTR(efi_img);
        return 0;
}

static int disk_info(const Build *b, const char *iso, const char *id) {
        _cleanup_free_ char *idrel = xasprintf(".disk/id/%s", id);
        _cleanup_free_ char *iddir = path_join(iso, ".disk/id");
        int r = RUN(NULL, "mkdir", "-p", iddir);
        if (r < 0 || (r = write_file_under(iso, idrel, "", 0644)) < 0)
                return r;
        _cleanup_free_ char *info = xasprintf("Hyperion installer, profile %s, Debian %s %s, SOURCE_DATE_EPOCH=%lld\n",
                                              b->profile->name, b->profile->distribution.suite,
                                              b->profile->distribution.architecture, (long long) b->source_date_epoch);
        return write_file_under(iso, ".disk/info", info, 0644);
}

/* ---- libisoburn ---------------------------------------------------------- */

static void xorriso_destroyp(struct XorrisO **x) {
        if (*x)
                Xorriso_destroy(x, 1);
}

/* libisoburn's messages, from its watcher thread (the main thread waits in
 * the interpreter meanwhile): "xorriso : UPDATE :  6.78% done" drives the
 * progress line; problems are warnings or errors; the rest goes to the
 * build log only, and to the screen with --verbose. */
static int xorriso_on_result(void *handle, char *text) {
        (void) handle;
        _cleanup_free_ char *t = xstrdup(text); /* text may be read-only */
        log_debug("xorriso: %s", strstrip(t));
        return 1;
}

static int xorriso_on_info(void *handle, char *msg) {
        Progress *p = handle;
        _cleanup_free_ char *copy = xstrdup(msg); /* msg may be read-only */
        const char *text = strstrip(copy);
        const char *done = strstr(text, "% done");
        if (done && strstr(text, ": UPDATE :")) {
                const char *q = done;
                while (q > text && (isdigit((unsigned char) q[-1]) || q[-1] == '.'))
                        q--;
                progress_update(p, (int) strtod(q, NULL), NULL);
                return 1;
        }
        if (strstr(text, ": FAILURE :") || strstr(text, ": FATAL :") || strstr(text, ": ABORT :"))
                log_error("xorriso: %s", text);
        else if (strstr(text, ": SORRY :") || strstr(text, ": WARNING :") || strstr(text, ": MISHAP :"))
                log_warning("xorriso: %s", text);
        else
                log_debug("xorriso: %s", text);
        return 1;
}

/* Run xorriso commands (argv[0] is a program name, ignored) and write the image. */
static int xorriso_run(char **argv) {
        if (!Xorriso__is_compatible(Xorriso_header_version_majoR, Xorriso_header_version_minoR, Xorriso_header_version_micrO, 0))
                return log_error_errno(ENOTSUP, "the installed libisoburn is older than the one hyperion-build was built with");
        /* We never burn optical media: leave signals to us. */
        Xorriso__preset_signal_behavior(2, 0);
        _cleanup_(xorriso_destroyp) struct XorrisO *x = NULL;
        if (Xorriso_new(&x, "hyperion-build", 0) <= 0 || Xorriso_startup_libraries(x, 0) <= 0)
                return log_error_errno(EIO, "cannot start libisoburn");
        Progress p;
        progress_begin(&p, "iso");
        if (Xorriso_start_msg_watcher(x, xorriso_on_result, NULL, xorriso_on_info, &p, 0) <= 0)
                return progress_end(&p), log_error_errno(EIO, "cannot read libisoburn's messages");
        int argc = (int) strv_length(argv), idx = 1;
        int r = Xorriso_interpreter(x, argc, argv, &idx, 0);
        r = Xorriso_eval_problem_status(x, r, 0);
        if (r >= 0 && Xorriso_change_is_pending(x, 1))
                r = Xorriso_option_end(x, 2) <= 0 ? -1 : 0;
        Xorriso_process_msg_queues(x, 0);
        int exit_value = Xorriso_make_return_value(x, 0);
        Xorriso_stop_msg_watcher(x, 0);
        progress_end(&p);
        if (r < 0 || exit_value != 0)
                return log_error_errno(EIO, "libisoburn could not write the ISO (its messages are above)");
        return 0;
}

int stage_iso(Build *b) {
        _cleanup_free_ char *iso = path_join(b->work, "iso");
        _cleanup_free_ char *date = medium_iso_date(b->source_date_epoch);
        _cleanup_free_ char *id = xasprintf("hyperion-%s-%s", b->profile->name, date);
        _cleanup_free_ char *efi_img = NULL;
        _cleanup_free_ char *grubdir = path_join(iso, "boot/grub");
        int r = RUN(NULL, "mkdir", "-p", grubdir);
        if (r < 0 || (r = disk_info(b, iso, id)) < 0 || (r = write_grub_cfg(b, iso, id)) < 0 || (r = grub_images(b, iso, id, &efi_img)) < 0)
                return r;
        if ((r = clamp_mtimes(iso, b->source_date_epoch)) < 0)
                return r;

        _cleanup_free_ char *vol = iso_volume_id(b);
        _cleanup_free_ char *partial = xasprintf("%s.partial", b->output);
        _cleanup_free_ char *moddate = xasprintf("--modification-date=%s", date);
        _cleanup_free_ char *nowtime = xasprintf("=%lld", (long long) b->source_date_epoch);
        _cleanup_free_ char *hybrid = path_join(firmwares[FIRMWARE_BIOS].grub_dir, "boot_hybrid.img");
        (void) unlink(partial);
        char *argv[] = {
                "hyperion-build",
                /* Every date xorriso would take from the clock comes from the epoch. */
                "-iso_nowtime", nowtime,
                "-as", "mkisofs",
                "-o", partial, "-V", vol, "-r", "-J", "-joliet-long", moddate, "--gpt_disk_guid", "modification-date",
                /* Not the ctime and atime of the files in the tree: their mtime, clamped. */
                "--set_all_file_dates", "set_to_mtime",
                "-c", "boot/grub/boot.cat",
                /* BIOS: El Torito from CD, boot_hybrid.img from a disk */
                "-b", "boot/grub/i386-pc/eltorito.img", "-no-emul-boot", "-boot-load-size", "4", "-boot-info-table",
                "--grub2-boot-info", "--grub2-mbr", hybrid,
                "-partition_offset", "16", "--mbr-force-bootable",
                /* UEFI: the ESP image as GPT partition 2 and as an El Torito entry */
                "-append_partition", "2", "0xef", efi_img, "-appended_part_as_gpt",
                "-iso_mbr_part_type", "a2a0d0ebe5b9334487c068b6b72699c7",
                "-eltorito-alt-boot", "-e", "--interval:appended_partition_2:all::", "-no-emul-boot",
                iso, NULL,
        };
        log_info("writing %s through libisoburn", b->output);
        r = xorriso_run(argv);
        if (r < 0) {
                unlink(partial);
                return r;
        }
        char hex[65];
        if ((r = sha256_file(partial, hex)) < 0) {
                unlink(partial);
                return log_error_errno(r, "cannot read '%s': %m", partial);
        }
        /* Whole or nothing: the ISO gets its name only now. */
        if (rename(partial, b->output) < 0) {
                r = -errno;
                unlink(partial);
                return log_error_errno(r, "cannot rename '%s' to '%s': %m", partial, b->output);
        }
        const char *base = strrchr(b->output, '/');
        _cleanup_free_ char *sums = xasprintf("%s  %s\n", hex, base ? base + 1 : b->output);
        _cleanup_free_ char *sumpath = xasprintf("%s.sha256", b->output);
        if ((r = write_file_atomic(sumpath, sums, strlen(sums), 0644)) < 0)
                return log_error_errno(r, "cannot write '%s': %m", sumpath);
        struct stat st;
        char sz[SIZE_BUF];
        if (stat(b->output, &st) == 0)
                log_info("%s: %s, sha256 %s", b->output, format_size_human(sz, (uint64_t) st.st_size), hex);
        return 0;
}
