/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Day two: the difference between a profile and a described host, a pure
 * function, against golden files (tests/expected/changes/NAME.txt).
 * Each case starts from the host as profiles/hyperion installs it (every
 * guest configured, running, linked for autostart, its volumes there) and
 * changes the profile's text or the host. HYPERION_UPDATE_GOLDEN=1 rewrites
 * the golden files: read the diff before committing it.
 */
#include "test-helpers.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "change.h"
#include "log.h"
#include "run.h"
#include "size.h"
#include "xen.h"

static const char *const files[] = { "profile.conf", "10-disks.conf", "20-guests.conf" };

/* profiles/hyperion's texts, one replaced (from -> to) and extra appended. */
static Profile *profile_with(const char *file, const char *from, const char *to, const char *extra) {
        char *names[ELEMENTSOF(files) + 2] = {}, *texts[ELEMENTSOF(files) + 2] = {};
        size_t n = 0;
        for (size_t i = 0; i < ELEMENTSOF(files); i++, n++) {
                _cleanup_free_ char *rel = xasprintf("profiles/hyperion/%s", files[i]), *path = src_path(rel);
                assert_int_equal(read_full_file(path, &texts[n], NULL), 0);
                names[n] = xstrdup(files[i]);
                if (file && streq(file, files[i])) {
                        char *at = strstr(texts[n], from);
                        assert_non_null(at);
                        char *t = xasprintf("%.*s%s%s", (int) (at - texts[n]), texts[n], to, at + strlen(from));
                        free(texts[n]);
                        texts[n] = t;
                }
        }
        if (extra) {
                names[n] = xstrdup("30-day2.conf");
                texts[n++] = xstrdup(extra);
        }
        Profile *p = NULL;
        _cleanup_strv_free_ char **errors = NULL;
        int r = profile_load_strings("profiles/hyperion", names, texts, &p, &errors);
        for (size_t i = 0; i < n; i++) {
                free(names[i]);
                free(texts[i]);
        }
        if (r < 0)
                fail_msg("the profile does not load: %s", errors[0]);
        return p;
}

static void add_guest(HostState *h, const Domain *d, bool running, uint32_t domid) {
        h->guests = xrealloc(h->guests, (h->n_guests + 1) * sizeof(HostGuest));
        h->guests[h->n_guests++] = (HostGuest) { .name = xstrdup(d->head.name), .cfg = guest_cfg_text(d), .autostart = true,
                                                 .running = running, .domid = domid, .max_memory = running ? d->memory : 0 };
        const char *kinds[] = { "disk", "swap" };
        uint64_t sizes[] = { d->disk, d->swap };
        for (size_t k = 0; k < 2; k++) {
                if (!sizes[k])
                        continue;
                h->volumes = xrealloc(h->volumes, (h->n_volumes + 1) * sizeof(HostVolume));
                h->volumes[h->n_volumes++] = (HostVolume) { .group = xstrdup(d->volume_group),
                                                            .name = xasprintf("%s-%s", d->head.name, kinds[k]), .size = sizes[k] };
        }
}

/* The host as profiles/hyperion installed it. */
static void installed(HostState *h) {
        _cleanup_(profile_freep) Profile *p = profile_with(NULL, NULL, NULL, NULL);
        *h = (HostState) { .free_memory = 1024 * MiB, .archive = true };
        h->bridges = xcalloc(1, sizeof(char *));
        strv_push(&h->bridges, "xenbr0");
        inventory_add_nic(&h->net, "enp0s2", "52:54:00:12:34:56", false);
        inventory_add_nic(&h->net, "enp0s9", "52:54:00:12:34:57", false);
        h->groups = xcalloc(1, sizeof(HostGroup));
        h->groups[h->n_groups++] = (HostGroup) { .name = xstrdup("vg0"), .free = 400 * GiB, .extent = 4 * MiB };
        for (size_t i = 0; i < p->n_domains; i++)
                add_guest(h, p->domains[i], true, (uint32_t) i + 1);
}

static char *changes_text(const Profile *p, const HostState *h, bool purge) {
        char *buf = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&buf, &n);
        assert_non_null(f);
        _cleanup_(change_freep) ChangePlan *c = NULL;
        _cleanup_strv_free_ char **errors = NULL;
        if (change_make(p, h, &(ChangeOptions) { .purge = purge }, &c, &errors) == 0) {
                assert_null(errors[0]);
                change_print(c, f);
        } else {
                assert_non_null(errors[0]);
                assert_null(c);
                for (char **e = errors; *e; e++)
                        fprintf(f, "error: %s\n", *e);
        }
        fclose(f);
        return buf;
}

static unsigned failed;

static void golden(const char *name, const Profile *p, const HostState *h, bool purge) {
        _cleanup_free_ char *got = changes_text(p, h, purge), *again = changes_text(p, h, purge);
        assert_string_equal(got, again);
        _cleanup_free_ char *rel = xasprintf("tests/expected/changes/%s.txt", name), *what = xasprintf("changes of case %s", name);
        if (!golden_equal(rel, got, what))
                failed++;
}

#define EUROPA                                                                                                                   \
        "[Bridge wan]\nInterface=52:54:00:12:34:57\n\n"                                                                      \
        "[Domain europa]\nType=pvh\nMemory=128M\nVCPUs=1\nDisk=2G\nSwap=128M\nBridge=xenbr0 wan\n"

static void test_golden_changes(void **state) {
        (void) state;
        HostState h;
        failed = 0;

        /* Nothing differs. */
        installed(&h);
        {
                _cleanup_(profile_freep) Profile *p = profile_with(NULL, NULL, NULL, NULL);
                golden("none", p, &h, false);
        }
        /* A guest and a bridge new in the profile. */
        {
                _cleanup_(profile_freep) Profile *p = profile_with(NULL, NULL, NULL, EUROPA);
                golden("new-guest-and-bridge", p, &h, false);
                /* The card taken by MAC is not there: refused, naming the cards. */
                free(h.net.nics[1].mac);
                h.net.nics[1].mac = xstrdup("52:54:00:99:99:99");
                h.archive = false;
                h.groups[0].free = 1 * GiB;
                golden("new-guest-refused", p, &h, false);
        }
        host_release(&h);

        /* A guest gone from the profile: retired, its volumes kept or purged. */
        installed(&h);
        {
                _cleanup_(profile_freep) Profile *p = profile_with("20-guests.conf", "[Domain tethys]", "[Domain tethys-gone]\nAutostart=no", NULL);
                /* The host still has tethys; the profile's guest under another
                 * name is new (its volumes would be tethys-gone-*). */
                golden("retire", p, &h, false);
                golden("retire-purge", p, &h, true);
        }
        host_release(&h);

        /* Guests changed: io's memory down (live), tethys up past its maximum
         * and a second vCPU (at its next restart), hadoop's disk larger
         * (offline), io not started at boot any more. */
        installed(&h);
        {
                _cleanup_(profile_freep) Profile *p =
                        profile_with("20-guests.conf", "Memory=128M\nVCPUs=1\nDisk=4G", "Memory=96M\nVCPUs=1\nAutostart=no\nDisk=4G", NULL);
                golden("changed-live", p, &h, false);
        }
        {
                _cleanup_(profile_freep) Profile *p =
                        profile_with("20-guests.conf", "Memory=128M\nVCPUs=1\nDisk=2G", "Memory=256M\nVCPUs=2\nDisk=2G", NULL);
                golden("changed-restart", p, &h, false);
        }
        {
                _cleanup_(profile_freep) Profile *p = profile_with("20-guests.conf", "Disk=10G", "Disk=12G", NULL);
                golden("grow", p, &h, false);
        }
        {
                /* Smaller than its volume: never. */
                _cleanup_(profile_freep) Profile *p = profile_with("20-guests.conf", "Disk=10G", "Disk=8G", NULL);
                golden("shrink-refused", p, &h, false);
        }
        {
                /* Its swap taken away: its fstab still names xvdb. */
                _cleanup_(profile_freep) Profile *p = profile_with("20-guests.conf", "Disk=10G\nSwap=4G\n", "Disk=10G\n", NULL);
                golden("swap-removed-refused", p, &h, false);
        }
        host_release(&h);

        /* A host installed by an older hyperion: io's cfg has the guests'
         * kernel command line of then (no oops=panic). Rewritten, in effect
         * at its next restart, and the plan says what differs. */
        installed(&h);
        {
                _cleanup_(profile_freep) Profile *p = profile_with(NULL, NULL, NULL, NULL);
                for (size_t i = 0; i < h.n_guests; i++)
                        if (streq(h.guests[i].name, "io")) {
                                char *at = strstr(h.guests[i].cfg, " oops=panic\"");
                                assert_non_null(at);
                                memmove(at, at + strlen(" oops=panic"), strlen(at + strlen(" oops=panic")) + 1);
                        }
                golden("older-cmdline", p, &h, false);
        }
        host_release(&h);

        /* A guest retired before comes back: its volumes are there, no cfg. */
        installed(&h);
        {
                _cleanup_(profile_freep) Profile *p = profile_with(NULL, NULL, NULL, EUROPA);
                h.volumes = xrealloc(h.volumes, (h.n_volumes + 2) * sizeof(HostVolume));
                h.volumes[h.n_volumes++] = (HostVolume) { xstrdup("vg0"), xstrdup("europa-disk"), 2 * GiB };
                h.volumes[h.n_volumes++] = (HostVolume) { xstrdup("vg0"), xstrdup("europa-swap"), 128 * MiB };
                strv_push(&h.bridges, "wan");
                golden("back", p, &h, false);
        }
        host_release(&h);
        assert_int_equal(failed, 0);
}

/* The seed's router (examples/router), copied into the profile on day two
 * as its comment says: the WAN bridge on the next free card, the guest on
 * both bridges with its package and overlay. */
static void test_router_example(void **state) {
        (void) state;
        _cleanup_free_ char *prof = src_path("profiles/hyperion"), *ex = src_path("examples/router");
        const char *dir = "router-profile";
        assert_int_equal(RUN(NULL, "rm", "-rf", dir), 0);
        assert_int_equal(RUN(NULL, "cp", "-r", prof, dir), 0);
        _cleanup_free_ char *from = xasprintf("%s/.", ex);
        assert_int_equal(RUN(NULL, "cp", "-r", from, dir), 0);
        Profile *p = NULL;
        _cleanup_strv_free_ char **errors = NULL;
        if (profile_load(dir, &p, &errors) < 0)
                fail_msg("examples/router does not load over profiles/hyperion: %s", errors[0]);
        const Domain *d = profile_find_domain(p, "router");
        assert_non_null(d);
        assert_string_equal(d->bridges[0], "xenbr0");
        assert_string_equal(d->bridges[1], "wan");
        HostState h;
        installed(&h);
        failed = 0;
        golden("router", p, &h, false);
        assert_int_equal(failed, 0);
        /* Its cfg has one vif a bridge, and libxlutil reads it. */
        _cleanup_free_ char *cfg = guest_cfg_text(d);
        assert_non_null(strstr(cfg, "bridge=xenbr0"));
        assert_non_null(strstr(cfg, "bridge=wan"));
        host_release(&h);
        profile_free(p);
        assert_int_equal(RUN(NULL, "rm", "-rf", dir), 0);
}

/* host_print's lines read back by host_load give the same description. */
static void test_host_roundtrip(void **state) {
        (void) state;
        HostState h;
        installed(&h);
        char tmpl[] = "/tmp/hyperion-host.XXXXXX";
        assert_non_null(mkdtemp(tmpl));
        _cleanup_free_ char *hostf = path_join(tmpl, "host"), *xen = path_join(tmpl, "xen");
        FILE *f = fopen(hostf, "we");
        assert_non_null(f);
        host_print(&h, f);
        fclose(f);
        assert_int_equal(mkdir(xen, 0755), 0);
        for (size_t i = 0; i < h.n_guests; i++) {
                _cleanup_free_ char *rel = xasprintf("%s.cfg", h.guests[i].name);
                assert_int_equal(write_file_under(xen, rel, h.guests[i].cfg, 0644), 0);
        }
        /* A cfg of the admin's own is not ours: left out. */
        assert_int_equal(write_file_under(xen, "mine.cfg", "name = \"mine\"\n", 0644), 0);
        HostState back;
        assert_int_equal(host_load(tmpl, &back), 0);
        char *a = NULL, *b = NULL;
        size_t na = 0, nb = 0;
        FILE *fa = open_memstream(&a, &na), *fb = open_memstream(&b, &nb);
        host_print(&h, fa);
        host_print(&back, fb);
        fclose(fa);
        fclose(fb);
        assert_string_equal(a, b);
        assert_int_equal(back.n_guests, h.n_guests);
        for (size_t i = 0; i < h.n_guests; i++)
                assert_string_equal(back.guests[i].cfg, h.guests[i].cfg);
        free(a);
        free(b);
        host_release(&back);
        host_release(&h);
        /* A line it cannot read names itself. */
        assert_int_equal(write_file_under(tmpl, "host", "guest io running\nvolume vg0 2G\n", 0644), 0);
        assert_int_equal(host_load(tmpl, &back), -EINVAL);
        host_release(&back);
        for (size_t i = 0; i < 4; i++) {
                static const char *const names[] = { "xen/hadoop.cfg", "xen/io.cfg", "xen/tethys.cfg", "xen/mine.cfg" };
                _cleanup_free_ char *pth = path_join(tmpl, names[i]);
                (void) unlink(pth);
        }
        (void) rmdir(xen);
        (void) unlink(hostf);
        (void) rmdir(tmpl);
}

/* A guest on two bridges: two vifs in its cfg, its MACs stable. */
static void test_two_bridges(void **state) {
        (void) state;
        _cleanup_(profile_freep) Profile *p = profile_with(NULL, NULL, NULL, EUROPA);
        const Domain *d = profile_find_domain(p, "europa");
        assert_non_null(d);
        assert_int_equal(strv_length(d->bridges), 2);
        assert_int_equal(strv_length(d->macs), 2);
        assert_string_not_equal(d->macs[0], d->macs[1]);
        _cleanup_free_ char *cfg = guest_cfg_text(d);
        assert_non_null(strstr(cfg, "bridge=xenbr0"));
        assert_non_null(strstr(cfg, "bridge=wan"));
        assert_int_equal(guest_cfg_check("europa", cfg), 0);
        _cleanup_(profile_freep) Profile *again = profile_with(NULL, NULL, NULL, EUROPA);
        assert_string_equal(profile_find_domain(again, "europa")->macs[1], d->macs[1]);
}

int main(void) {
        log_set_level(LOG_LEVEL_WARNING);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_golden_changes),
                cmocka_unit_test(test_router_example),
                cmocka_unit_test(test_host_roundtrip),
                cmocka_unit_test(test_two_bridges),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
