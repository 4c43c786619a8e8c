#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""seats.py: `make e2e-seats`, dom0's double media centre in qemu.

The machine of `make e2e` with two display devices (qemu's VGA, the boot
display, at PCI 00:10.0 and a secondary-vga at 00:11.0) and two USB
keyboards (xHCI ports 3 and 4: the kernel's 1-3 and 1-4), and a sound card
(an intel-hda with an hda-output codec) as the second function of the
secondary-vga's slot, 00:11.1, as a GT620's HDMI sound sits beside it. Its
profile is profiles/hyperion with no guests (the guests have `make e2e`) and
its seats replaced by two of the test machine's: seat0 Card=auto (the boot
display) with the keyboard on 1-3, seat1 on 00:11.0 with the keyboard on 1-4
and Audio=auto (the card's own sound: 00:11.1).

Builds the ISO, installs it unattended (the installer's plan must show each
seat's devices), boots the disks into Xen, then over SSH on dom0:
loginctl seat-status shows each card and keyboard on its own seat
and the sound card on seat1 only (seats-loginctl); seat1's Kodi set to that
card (its guisettings.xml) and its log showing it opened there
(seats-audio); both hyperion-seat units are active with cage and Kodi
running as the seat's account (seats-units); each display, read through
qemu's monitor (screendump, PNG), shows Kodi's interface and not a console
or a blank screen: it has at least KODI_COLOURS distinct colours where the
console picture taken at dom0's login prompt has a handful (seats-screens;
the PNGs stay in WORK/screens); dom0's memory in use with both running, and
each seat's share: its processes' resident memory and its account's cgroup
(seats-memory). The time from power-on to both Kodi on
screen goes to the timing table.

Environment: E2E_WORK (default /var/tmp/hyperion-e2e-seats), E2E_CACHE,
E2E_BUDGET_MIN (default 70), as `make e2e`. Root is needed.
"""
import os
import re
import struct
import sys
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

os.environ.setdefault("E2E_WORK", "/var/tmp/hyperion-e2e-seats")
os.environ["E2E_REINSTALL"] = "0"
os.environ["E2E_SECOND_INSTALL"] = "0"
os.environ["E2E_LOAD"] = "none"

import e2e  # noqa: E402
from e2e import MiB, T, Run, indent  # noqa: E402

CHECKS = ["iso-build", "seats-plan", "install", "boot-xen", "seats-loginctl", "seats-units", "seats-audio", "seats-screens",
          "seats-memory", "cleanup"]
e2e.CHECKS[:] = CHECKS

DISPLAYS = [("seat0", "vga0", "VGA", "0x10", "0000:00:10.0"), ("seat1", "vga1", "secondary-vga", "0x11", "0000:00:11.0")]
# seat1's sound: an HD-audio controller beside its display, in the same slot.
SOUND_SEAT, SOUND_PCI, SOUND_ID = "seat1", "0000:00:11.1", "Intel"
KEYBOARDS = [("seat0", 3, "1-3"), ("seat1", 4, "1-4")]
SEATS_DROPIN = ("# make e2e-seats: the seed's double media centre on the test machine's two\n"
                "# display devices and two USB keyboards.\n"
                "[Seat seat0]\nCard=auto\nInput=usb:1-3\n\n"
                "[Seat seat1]\nCard=00:11.0\nInput=usb:1-4\n")
# Kodi's home screen (its background, anti-aliased text and icons) against
# fbcon's 16 colours or a blank screen's one.
KODI_COLOURS = 200
T_KODI = 2400   # from dom0's login to both Kodi on screen, TCG: llvmpipe in a PV dom0 under nested TCG


def read_ppm(path):
    """(width, height, RGB bytes) of a binary PPM, what qemu's screendump
    writes by default."""
    with open(path, "rb") as f:
        data = f.read()
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos)
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    if fields[0] != b"P6" or fields[3] != b"255":
        raise ValueError(f"{path}: not an 8-bit binary PPM")
    width, height = int(fields[1]), int(fields[2])
    return width, height, data[pos + 1:pos + 1 + width * height * 3]


def colours(rgb):
    """The number of distinct colours of RGB bytes."""
    return len({rgb[i:i + 3] for i in range(0, len(rgb), 3)})


def write_png(path, width, height, rgb):
    """An 8-bit RGB PNG of the picture (filter 0 on every row)."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    stride = width * 3
    raw = b"".join(b"\0" + rgb[y * stride:(y + 1) * stride] for y in range(height))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


class SeatsRun(Run):
    def machine(self, name, firmware, log, cpus=2, memory=4096, vars_path=None, ssh_port=None):
        m = super().machine(name, firmware, log, cpus=cpus, memory=memory, vars_path=vars_path, ssh_port=ssh_port)
        for _, ident, model, addr, _ in DISPLAYS:
            m.extra += ["-device", f"{model},id={ident},addr={addr}" + (",multifunction=on" if addr == "0x11" else "")]
        m.extra += ["-audiodev", "none,id=snd0", "-device", "intel-hda,id=hda1,addr=0x11.1",
                    "-device", "hda-output,bus=hda1.0,audiodev=snd0"]
        for seat, port, _ in KEYBOARDS:
            m.extra += ["-device", f"usb-kbd,bus=xhci.0,port={port},id=kbd-{seat}"]
        return m

    def prepare(self):
        super().prepare()
        os.unlink(os.path.join(self.profile, "20-guests.conf"))
        with open(os.path.join(self.profile, "40-seats.conf"), "w") as f:
            f.write(SEATS_DROPIN)
        self.guests = {}
        self.screens = os.path.join(self.work, "screens")
        os.makedirs(self.screens, exist_ok=True)
        for f in os.listdir(self.screens):
            os.unlink(os.path.join(self.screens, f))

    def install_phase(self):
        self.say("UEFI machine with two displays and two USB keyboards: unattended install")
        plan = []
        ok, evidence, tm = self.install(self.disks, "2-install", self.vars, "uefi-install", plan=plan)
        for k in ("boot to installer", "install"):
            if k in tm:
                self.timing(k, tm[k])
        self.t_install_done = time.time() - tm.get("reset", 0)
        text = "\n".join(plan)
        found = {s: re.search(rf"^\s+found: (card\d+ {pci}[^\r\n]*USB port {port}[^\r\n]*"
                              + (rf"sound: card\d+ {SOUND_ID} \({SOUND_PCI}\)" if s == SOUND_SEAT else "") + ")", text, re.M)
                 for (s, _, _, _, pci), (_, _, port) in zip(DISPLAYS, KEYBOARDS)}
        self.ok("seats-plan", all(found.values()),
                "; ".join(f"{s}: {f.group(1).strip()}" if f else f"{s}: no 'found: card… USB port … sound: …' line" for s, f in found.items())
                + ("" if all(found.values()) else "; the plan's seats:\n"
                   + indent("\n".join(l for l in text.splitlines() if "seat" in l)[-3000:])))
        self.result("install", "PASS" if ok else "FAIL", evidence)
        if ok:
            self.report_unit = self.guests_units()
        return ok

    def screendump(self, m, ident, name):
        """The display through qemu's monitor: NAME.png kept, its number of
        distinct colours returned."""
        ppm = os.path.join(self.screens, name + ".ppm")
        if os.path.exists(ppm):
            os.unlink(ppm)
        m.monitor(f"screendump {ppm} {ident}")
        for _ in range(40):
            if os.path.exists(ppm) and os.path.getsize(ppm) > 0:
                time.sleep(0.5)
                width, height, rgb = read_ppm(ppm)
                png = os.path.join(self.screens, name + ".png")
                write_png(png, width, height, rgb)
                os.unlink(ppm)
                return png, colours(rgb)
            time.sleep(0.5)
        raise RuntimeError(f"qemu wrote no {ppm}")

    def seats_phase(self):
        m, info = self.boot_installed("3-first-boot", "first-boot")
        if "error" in info:
            self.result("boot-xen", "FAIL", f"after the install, from the disks: {info['error']}")
            for c in ("seats-loginctl", "seats-units", "seats-audio", "seats-screens", "seats-memory"):
                self.result(c, "FAIL", "dom0 not reached")
            self.stop(m)
            return
        self.result("boot-xen", "PASS", f"OVMF {info['firmware']} at {info['firmware_at']:.0f} s; Xen at {info['xen_at']:.0f} s;"
                    f" dom0 login prompt at {info['login_at']:.0f} s (log {m.log_path})")
        m.keep_reading()
        # The console, as it looks before Kodi: the picture Kodi's is measured against.
        _, console_colours = self.screendump(m, "vga0", "console")
        self.ssh.for_port(info["port"])
        up, why = self.ssh.wait("dom0", time.time() + self.left(300))
        if not up:
            for c in ("seats-loginctl", "seats-units", "seats-audio", "seats-screens", "seats-memory"):
                self.result(c, "FAIL", f"no SSH to dom0: {why}")
            self.stop(m)
            return
        # Both Kodi on screen: polled on the displays themselves.
        deadline = time.time() + self.left(T_KODI)
        seen, colours = {}, {}
        while time.time() < deadline and len(seen) < len(DISPLAYS):
            for seat, ident, _, _, _ in DISPLAYS:
                if seat in seen:
                    continue
                path, n = self.screendump(m, ident, seat)
                colours[seat] = n
                if n >= KODI_COLOURS:
                    seen[seat] = m.elapsed()
                    self.say(f"{seat}: {n} colours on its display at {seen[seat]:.0f} s after power-on ({path})")
            if len(seen) < len(DISPLAYS):
                time.sleep(20)
        units = self.ssh.run("dom0", "for s in seat0 seat1; do echo \"== $s ==\"; systemctl is-active hyperion-seat-$s.service;"
                                     " ps -o rss=,comm= -u kodi-$s; done;"
                                     " for s in seat0 seat1; do echo \"== cg-$s ==\"; cat /sys/fs/cgroup/user.slice/user-$(id -u kodi-$s).slice/memory.current; done;"
                                     " for s in seat0 seat1; do echo \"== log-$s ==\"; grep -a ' error <' /var/lib/hyperion/seats/$s/.kodi/temp/kodi.log | tail -n 4; done;"
                                     f" echo '== settings =='; grep -a audiodevice /var/lib/hyperion/seats/{SOUND_SEAT}/.kodi/userdata/guisettings.xml;"
                                     f" echo '== alsa =='; grep -a -i -E 'alsa|sink' /var/lib/hyperion/seats/{SOUND_SEAT}/.kodi/temp/kodi.log | tail -n 25;"
                                     " echo '== cards =='; cat /proc/asound/cards;"
                                     " echo '== sessions =='; loginctl list-sessions --no-legend;"
                                     " echo '== free =='; free -k; echo '== journal =='; journalctl -b -u 'hyperion-seat-*' -n 40 --no-pager")
        facts = e2e.inside.sections(units[1])
        status = self.ssh.run("dom0", "for s in seat0 seat1; do echo \"== $s ==\"; loginctl seat-status $s --no-pager --full; done")
        seats = e2e.inside.sections(status[1])
        # seats-loginctl: each card and keyboard on its own seat, the other's on neither.
        bad, good = [], []
        for (seat, _, _, _, pci), (_, _, port) in zip(DISPLAYS, KEYBOARDS):
            text = seats.get(seat, "")
            others = [(p, k) for (s, _, _, _, p), (_, _, k) in zip(DISPLAYS, KEYBOARDS) if s != seat]
            card = re.search(rf"/{re.escape(pci)}/drm/card\d+", text)
            kbd = re.search(rf"/{re.escape(port)}/{re.escape(port)}:1\.0/[^\s]*/input/input\d+", text)
            stray = [x for p, k in others for x in (p, f"/{k}/") if x in text]
            # The sound card: on its seat, on no other.
            sound = re.search(rf"/{re.escape(SOUND_PCI)}/sound/card\d+", text)
            if seat != SOUND_SEAT and sound:
                stray.append(SOUND_PCI)
            if card and kbd and not stray and (sound or seat != SOUND_SEAT):
                good.append(f"{seat}: {card.group(0).split('/')[-1]} ({pci}) and the keyboard on USB {port}"
                            + (f" and {sound.group(0).split('/')[-1]} ({SOUND_PCI})" if sound else ""))
            else:
                bad.append(f"{seat}: card {pci} {'found' if card else 'missing'}, keyboard on {port}"
                           f" {'found' if kbd else 'missing'}"
                           + (f", sound {SOUND_PCI} {'found' if sound else 'missing'}" if seat == SOUND_SEAT else "")
                           + (f", the other seat's {stray} too" if stray else "")
                           + ":\n" + indent(text.strip()[-1500:] or "(no output)"))
        self.ok("seats-loginctl", not bad, "; ".join(good) if not bad else "; ".join(bad))
        # seats-units
        bad, good = [], []
        for seat, *_ in DISPLAYS:
            lines = facts.get(seat, "").strip().splitlines()
            active = lines[0].strip() if lines else "(nothing)"
            procs = {l.split()[-1] for l in lines[1:] if l.strip()}
            errors = facts.get(f"log-{seat}", "").strip()
            if active == "active" and "cage" in procs and any(p.startswith("kodi") for p in procs):
                good.append(f"{seat}: active, {', '.join(sorted(procs))} as kodi-{seat}"
                            + (f"; Kodi's log says:\n{indent(errors)}\n   " if errors else "; no error in Kodi's log"))
            else:
                bad.append(f"{seat}: {active}, processes of kodi-{seat}: {', '.join(sorted(procs)) or 'none'}")
        self.ok("seats-units", not bad, "; ".join(good) if not bad else "; ".join(bad)
                + "\n    sessions:\n" + indent(facts.get("sessions", "").strip())
                + "\n    journal:\n" + indent(facts.get("journal", "").strip()[-3000:]))
        # seats-audio: seat1's Kodi set to its own card, and opened it.
        setting = facts.get("settings", "").strip()
        alsa = facts.get("alsa", "")
        want = f"ALSA:@:CARD={SOUND_ID},DEV=0"
        opened = [l.strip() for l in alsa.splitlines() if re.search(rf"opened device.*CARD={SOUND_ID}", l, re.I)]
        # Kodi replaces a device it does not list with the default one.
        failed = [l.strip() for l in alsa.splitlines() if "no sink was returned" in l
                  or ("has been updated" in l and f"to '{want}" not in l)]
        self.ok("seats-audio", want in setting and opened and not failed,
                f"{SOUND_SEAT}'s guisettings.xml: {setting or '(no audiodevice setting)'}; "
                + (f"Kodi's log: {opened[-1][-160:]}" if opened and not failed else
                   "Kodi's log, its ALSA lines:\n" + indent(alsa.strip()[-2500:] or "(none)")
                   + "\n    /proc/asound/cards:\n" + indent(facts.get("cards", "").strip())))
        # seats-screens
        both = len(seen) == len(DISPLAYS)
        ev = "; ".join(f"{s}: {colours.get(s, 0)} colours ({os.path.join(self.screens, s + '.png')})" for s, *_ in DISPLAYS)
        ev += f"; the console at dom0's login: {console_colours} colours ({os.path.join(self.screens, 'console.png')})"
        if both:
            at = max(seen.values())
            self.timing("power-on -> both Kodi on screen", at)
            ev += f"; both on screen {at:.0f} s after power-on ({at - info['login_at']:.0f} s after dom0's login prompt)"
        else:
            ev += f"; not both Kodi {T_KODI} s after dom0's login (fewer than {KODI_COLOURS} colours)"
        self.ok("seats-screens", both and console_colours < KODI_COLOURS, ev)
        # seats-memory: dom0's memory in use, each seat's resident memory.
        free = facts.get("free", "")
        mem = re.search(r"^Mem:\s+(\d+)\s+(\d+)\s+(\d+)", free, re.M)
        shares, cgroups = {}, {}
        for seat, *_ in DISPLAYS:
            rss = [int(l.split()[0]) for l in facts.get(seat, "").strip().splitlines()[1:] if l.split() and l.split()[0].isdigit()]
            shares[seat] = sum(rss)
            cg = facts.get(f"cg-{seat}", "").strip()
            cgroups[seat] = int(cg) if cg.isdigit() else None
        if mem:
            total, used, free_kb = (int(x) for x in mem.groups())
            self.ok("seats-memory", True,
                    f"dom0: {used // 1024} MiB in use of {total // 1024} MiB, {free_kb // 1024} MiB free, with both seats running; "
                    + ", ".join(f"{s}: {shares[s] // 1024} MiB resident (cage and Kodi, shared pages counted in each),"
                                f" {cgroups[s] // MiB if cgroups[s] is not None else '?'} MiB in its account's cgroup"
                                for s in shares))
        else:
            self.result("seats-memory", "FAIL", "no 'free' output from dom0: " + (units[2] or free[:200]))
        # Not ctrl-alt-del: the keyboards are the seats', and cage has them.
        t = time.time()
        self.ssh.run("dom0", "systemctl poweroff", timeout=30)
        try:
            m.wait_exit_reading(max(60, self.left(T["shutdown"])))
            self.say(f"power-off (systemctl poweroff over SSH): clean in {time.time() - t:.0f} s")
        except (e2e.Timeout, RuntimeError, OSError):
            self.say(f"power-off: no power-off {time.time() - t:.0f} s after systemctl poweroff; hard power-off")
        self.stop(m)


def seats(r):
    if r.build_iso():
        r.disks_phase()
        if r.step("install", r.install_phase):
            r.step("boot-xen", r.seats_phase)


if __name__ == "__main__":
    e2e.run_main(SeatsRun(), seats)
