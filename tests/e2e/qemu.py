# SPDX-License-Identifier: GPL-2.0-or-later
"""qemu.py: start a qemu machine and talk to its serial console.

Used by the boot tests and by `make e2e`: the harness reads the console as an
administrator would, and types into it; nothing in the product knows it is
being tested. Standard library only.
"""
import bisect
import os
import re
import select
import signal
import socket
import subprocess
import tempfile
import threading
import time

OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"
DOWN = b"\x1b[B"


# The second network card's MAC (the day-two bridge matches it).
WAN_MAC = "52:54:00:12:34:99"

class Timeout(Exception):
    pass


def kvm_works():
    """/dev/kvm may exist and still hang guests: only use it when asked."""
    return os.environ.get("HYPERION_QEMU_ACCEL") == "kvm"


class Machine:
    def __init__(self, workdir, memory="4096", cpus=2, firmware="bios", log=None,
                 accel=None, extra=None, ssh_port=None):
        self.workdir = workdir
        self.memory = str(memory)
        self.cpus = str(cpus)
        self.firmware = firmware
        self.log_path = log or os.path.join(workdir, "console.log")
        self.accel = accel or ("kvm" if kvm_works() else "tcg")
        self.extra = list(extra or [])
        self.drives = []
        self.proc = None
        self.sock = None
        self.buf = b""
        self.seen = b""
        self.all = bytearray()    # everything the console said, never consumed
        self.stamps = []          # (offset in all, host time) of each read: when a line came
        self.logf = None
        self.vars = None
        self.started = None
        self.ssh_port = ssh_port  # host port forwarded to the machine's port 22
        self.pump = None

    def add_usb_disk(self, path, fmt="raw", readonly=False, boot_first=False):
        """A USB stick; its device id is returned (for 'device_del ID').
        boot_first: the firmware boots it before anything else (as one picks
        the stick in the firmware's boot menu of a machine already installed)."""
        n = len(self.drives)
        ro = ",readonly=on" if readonly else ""
        first = ",bootindex=0" if boot_first else ""
        self.drives += ["-drive", f"if=none,id=usb{n},file={path},format={fmt}{ro}",
                        "-device", f"usb-storage,drive=usb{n},removable=on,id=usbdisk{n}{first}"]
        return f"usbdisk{n}"

    def add_cdrom(self, path):
        self.drives += ["-drive", f"if=none,id=cd0,file={path},format=raw,media=cdrom,readonly=on",
                        "-device", "ide-cd,drive=cd0,bus=ide.1"]

    def add_sata_disk(self, path, fmt="qcow2", serial=None, model=None):
        n = len([d for d in self.drives if d.startswith("if=none,id=sata")])
        opts = f"if=none,id=sata{n},file={path},format={fmt},discard=unmap"
        dev = f"ide-hd,drive=sata{n},bus=ahci.{n}"
        if serial:
            dev += f",serial={serial}"
        if model:
            dev += f",model={model}"
        self.drives += ["-drive", opts, "-device", dev]

    def command(self):
        cmd = ["qemu-system-x86_64", "-machine", "q35", "-accel", self.accel,
               "-m", self.memory, "-smp", self.cpus, "-display", "none", "-no-user-config",
               "-nodefaults", "-device", "qemu-xhci,id=xhci",
               "-device", "ahci,id=ahci",
               "-netdev", "user,id=net0,restrict=on" + (f",hostfwd=tcp:127.0.0.1:{self.ssh_port}-10.0.2.15:22"
                                                        if self.ssh_port else ""),
               "-device", "virtio-net-pci,netdev=net0",
               # A second card, as the seed's box has two: the WAN bridge a
               # guest is added on, day two (E2E's [Bridge wan], by its MAC).
               "-netdev", "user,id=net1,restrict=on",
               "-device", f"virtio-net-pci,netdev=net1,mac={WAN_MAC},addr=0x9",
               "-serial", f"unix:{self.sock_path},server=on,wait=off",
               "-monitor", f"unix:{self.monitor_path},server=on,wait=off"]
        if self.accel == "tcg":
            # Xen under TCG: svm and npt, and not 'max' (dom0 crashes on SMAP).
            cmd += ["-cpu", "qemu64,+svm,+npt"]
        else:
            cmd += ["-cpu", "host"]
        if self.firmware == "uefi":
            self.vars = self.vars or os.path.join(self.workdir, "OVMF_VARS.fd")
            if not os.path.exists(self.vars):
                with open(OVMF_VARS, "rb") as src, open(self.vars, "wb") as dst:
                    dst.write(src.read())
            cmd += ["-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={OVMF_CODE}",
                    "-drive", f"if=pflash,format=raw,unit=1,file={self.vars}"]
        return cmd + self.drives + self.extra

    def start(self):
        self.sock_path = os.path.join(self.workdir, "serial.sock")
        self.monitor_path = os.path.join(self.workdir, "monitor.sock")
        for p in (self.sock_path, self.monitor_path):
            if os.path.exists(p):
                os.unlink(p)
        self.logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                     stdout=self.logf, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.time() + 30
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(self.sock_path)
                break
            except OSError:
                self.sock.close()
                if self.proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("qemu did not start: see " + self.log_path)
                time.sleep(0.2)
        self.started = time.time()
        return self

    def _read(self, timeout):
        r, _, _ = select.select([self.sock], [], [], timeout)
        if not r:
            return False
        data = self.sock.recv(65536)
        if not data:
            raise RuntimeError("the serial console closed (qemu ended)")
        self.logf.write(data)
        self.logf.flush()
        self.buf += data
        self.stamps.append((len(self.all), time.time()))
        self.all += data
        return True

    def expect(self, pattern, timeout):
        """Wait for a regular expression (bytes) on the console; return the match."""
        rx = re.compile(pattern)
        deadline = time.time() + timeout
        while True:
            m = rx.search(self.buf)
            if m:
                self.seen += self.buf[:m.end()]
                self.buf = self.buf[m.end():]
                return m
            left = deadline - time.time()
            if left <= 0:
                raise Timeout(f"no {pattern!r} on the console after {timeout} s; last lines:\n"
                              + self.tail())
            if self.proc.poll() is not None:
                raise RuntimeError(f"qemu ended (status {self.proc.returncode}) while waiting for {pattern!r};"
                                   f" last lines:\n" + self.tail())
            self._read(min(left, 1.0))

    def mark(self):
        """A position in everything the console said, for wait_for(since=)."""
        return len(self.all)

    def wait_for(self, pattern, timeout, since=0):
        """Like expect, but searches everything said since the mark `since`
        (see mark()) and consumes nothing: several waits can look at the
        same text. Returns the match (positions are offsets in self.all)."""
        rx = re.compile(pattern)
        deadline = time.time() + timeout
        pos = since
        while True:
            m = rx.search(self.all, pos)
            if m:
                return m
            # Lines are short: a match that spans two reads starts in the
            # last few KiB already searched.
            pos = max(since, len(self.all) - 4096)
            left = deadline - time.time()
            if left <= 0:
                raise Timeout(f"no {pattern!r} on the console after {timeout:.0f} s; last lines:\n"
                              + self.tail())
            if self.proc.poll() is not None:
                # What qemu said before it ended is still in the socket.
                while self._read_quiet(0):
                    pass
                m = rx.search(self.all, pos)
                if m:
                    return m
                raise RuntimeError(f"qemu ended (status {self.proc.returncode}) while waiting for {pattern!r};"
                                   f" last lines:\n" + self.tail())
            self._read_quiet(min(left, 1.0))

    def _read_quiet(self, timeout):
        """_read, but a closed console is not an error: False."""
        try:
            return self._read(timeout)
        except (RuntimeError, OSError):
            return False

    def wait_exit_reading(self, timeout):
        """Wait for qemu to end (a guest reset under -no-reboot, a power-off),
        reading the console meanwhile so that the guest never blocks on it."""
        deadline = time.time() + timeout
        while self.proc.poll() is None:
            left = deadline - time.time()
            if left <= 0:
                raise Timeout(f"qemu still runs after {timeout:.0f} s; last lines:\n" + self.tail())
            if not self._read_quiet(min(left, 1.0)) and self.proc.poll() is None:
                time.sleep(0.1)   # the console closed first: qemu is ending
        while self._read_quiet(0):
            pass
        return self.proc.returncode

    def time_at(self, offset):
        """When the console said the byte at offset of self.all (host time:
        the read that brought it; the console is read as it comes)."""
        i = bisect.bisect_right(self.stamps, (offset, float("inf"))) - 1
        return self.stamps[i][1] if i >= 0 else self.started

    def switch_log(self, path):
        """Log what follows to another file (one file per boot)."""
        if self.logf:
            self.logf.close()
        self.log_path = path
        self.logf = open(path, "ab")

    def text(self, since=0):
        """What the console said since a mark, as text without escapes."""
        text = bytes(self.all[since:]).decode("utf-8", "replace")
        return re.sub(r"\x1b\[[0-9;?=]*[A-Za-z]", "", text)

    def tail(self, lines=25, since=0):
        """The last lines the console said (since a mark), without escapes."""
        text = self.text(since).replace("\r\n", "\n").replace("\r", "\n")
        return "\n".join([l for l in text.splitlines() if l.strip()][-lines:])

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def monitor(self, command):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.monitor_path)
        s.settimeout(10)
        time.sleep(0.2)
        s.recv(65536)
        s.sendall(command.encode() + b"\n")
        time.sleep(0.5)
        try:
            out = s.recv(65536)
        except socket.timeout:
            out = b""
        s.close()
        return out.decode("utf-8", "replace")

    def keep_reading(self):
        """Read the console in the background (while the harness talks to
        the machine over SSH: a console nobody reads blocks its writers).
        stop_reading() ends it; wait_for() must not run meanwhile."""
        if self.pump:
            return
        stop = threading.Event()

        def pump():
            while not stop.is_set() and self.sock:
                if not self._read_quiet(0.5) and self.proc.poll() is not None:
                    break
        th = threading.Thread(target=pump, daemon=True)
        self.pump = (th, stop)
        th.start()

    def stop_reading(self):
        if self.pump:
            th, stop = self.pump
            stop.set()
            th.join(5)
            self.pump = None

    def elapsed(self):
        return time.time() - self.started

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise Timeout(f"qemu still runs after {timeout} s; last lines:\n" + self.tail())

    def stop(self):
        self.stop_reading()
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(10)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait()
        if self.sock:
            self.sock.close()
            self.sock = None
        if self.logf:
            self.logf.close()
            self.logf = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def grub_select(m, index, timeout=180):
    """Wait for the GRUB menu and boot entry number index (0 is the first)."""
    m.expect(rb"Install Hyperion", timeout)
    time.sleep(1)
    for _ in range(index):
        m.send(DOWN)
        time.sleep(0.3)
    m.send(b"\r")
