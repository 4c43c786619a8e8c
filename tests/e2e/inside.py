# SPDX-License-Identifier: GPL-2.0-or-later
"""inside.py: the installed host and its guests, read from inside over SSH,
as an administrator would: root on dom0 with the profile's key (the test's
own, added to a copy of the profile), and from dom0 on to each guest over
the guests' bridge. Standard library only; the ssh client is OpenSSH's.
"""
import calendar
import os
import re
import subprocess
import time

CONSOLE_DIR = "/var/log/xen/console"
READY_RX = re.compile(r"hyperion-guest: (\S+) up after (\d+) s: multi-user; swap ([^;]*); address ([^;]*);"
                      r" ssh ([^;]*); failed (\S+)")
STAMP_RX = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\] ?(.*)$")


class Ssh:
    """ssh with a key of the test and a configuration of its own: dom0 is
    the machine's port 22 forwarded to 127.0.0.1:PORT; a guest is reached
    through dom0 (ProxyJump)."""

    def __init__(self, folder):
        self.folder = folder
        os.makedirs(folder, mode=0o700, exist_ok=True)
        self.key = os.path.join(folder, "id_ed25519")
        if not os.path.exists(self.key):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "hyperion-e2e", "-f", self.key],
                           check=True)
        with open(self.key + ".pub") as f:
            self.public = f.read().strip()
        self.config = os.path.join(folder, "config")

    def for_port(self, port):
        with open(self.config, "w") as f:
            f.write(f"Host dom0\n  HostName 127.0.0.1\n  Port {port}\n\n"
                    f"Host *\n  User root\n  IdentityFile {self.key}\n  IdentitiesOnly yes\n"
                    "  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  BatchMode yes\n"
                    "  ConnectTimeout 20\n  ServerAliveInterval 15\n  LogLevel ERROR\n")

    def run(self, host, command, timeout=120):
        """(exit status, output, error output) of a command on dom0 or on a
        guest's address."""
        argv = ["ssh", "-F", self.config]
        if host != "dom0":
            argv += ["-J", "dom0"]
        argv += [host, command]
        # ssh's own failure (255) before any output, such as a banner that
        # a slow guest's sshd sends late: tried again, three times in all.
        for attempt in range(3):
            try:
                p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
            except subprocess.TimeoutExpired:
                return 255, "", f"ssh {host}: no answer in {timeout} s"
            out, err = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace").strip()
            if p.returncode != 255 or out or attempt == 2:
                break
            time.sleep(10)
        if attempt and p.returncode != 0:
            err = f"{err} (attempt {attempt + 1} of 3)"
        return p.returncode, out, err

    def wait(self, host, deadline):
        """Until host answers (True), or the deadline passes (False, and why)."""
        why = ""
        while time.time() < deadline:
            rc, out, err = self.run(host, "true", timeout=60)
            if rc == 0:
                return True, ""
            why = err or f"exit {rc}"
            time.sleep(5)
        return False, why


def sections(text):
    """A command's output cut at '== NAME ==' lines: {NAME: text}. A header
    may follow output that has no newline of its own (a console log that
    ends on its login prompt): that text stays with its section."""
    out, name = {}, None
    for line in text.splitlines():
        m = re.fullmatch(r"(.*?)== ([\w-]+) ==", line.rstrip())
        if m:
            if m.group(1) and name:
                out[name].append(m.group(1))
            name = m.group(2)
            out[name] = []
        elif name:
            out[name].append(line)
    return {k: "\n".join(v) for k, v in out.items()}


def host_facts(ssh, guests):
    """dom0: its failed units, its UTC offset, the back ends of the guests'
    disks (xenstore), each guest's console log."""
    cmd = ["echo '== failed =='", "systemctl --failed --no-legend --plain",
           "echo '== offset =='", "date +%z",
           "echo '== vbd =='", "xenstore-ls -f /local/domain/0/backend/vbd 2>/dev/null",
           "echo '== domids =='", "xl list | awk 'NR > 1 { print $1, $2 }'",
           "echo '== consoledir =='", f"stat -c '%U:%G %a' {CONSOLE_DIR}",
           "echo '== logrotate =='", "test -f /etc/logrotate.d/hyperion-xen-console && echo present",
           "echo '== timeouts =='", timeouts_cmd(("ifupdown-pre.service",)),
           "echo '== failed-detail =='", FAILED_DETAIL_CMD,
           "echo '== analyze =='", ANALYZE_CMD,
           "echo '== boot-journal =='", "journalctl -b -o short-monotonic --no-pager 2>&1 | tail -n 20000"]
    for g in guests:
        cmd += [f"echo '== console-{g} =='", f"cat {CONSOLE_DIR}/guest-{g}.log 2>/dev/null | tail -c 262144; echo"]
    rc, out, err = ssh.run("dom0", "; ".join(cmd))
    if rc != 0 and not out:
        raise RuntimeError(f"ssh dom0: exit {rc}: {err}")
    s = sections(out)
    facts = {"failed": [l for l in s.get("failed", "").splitlines() if l.strip()],
             "offset": s.get("offset", "+0000").strip(), "consoledir": s.get("consoledir", "").strip(),
             "logrotate": s.get("logrotate", "").strip() == "present",
             "consoles": {g: s.get(f"console-{g}", "") for g in guests},
             "timeouts": finite_timeouts(s.get("timeouts", "")),
             "failed_detail": s.get("failed-detail", "").rstrip(), "analyze": s.get("analyze", ""),
             "boot_journal": s.get("boot-journal", "")}
    domids = {}
    for line in s.get("domids", "").splitlines():
        w = line.split()
        if len(w) == 2:
            domids[w[0]] = w[1]
    # /local/domain/0/backend/vbd/DOMID/DEV/params = "/dev/vg0/io-disk"
    vbd = {}
    for m in re.finditer(r"^/local/domain/0/backend/vbd/(\d+)/(\d+)/(params|dev) = \"([^\"]*)\"", s.get("vbd", ""), re.M):
        vbd.setdefault((m.group(1), m.group(2)), {})[m.group(3)] = m.group(4)
    facts["disks"] = {}
    for name, domid in domids.items():
        facts["disks"][name] = {v.get("dev"): v.get("params") for (d, _), v in vbd.items() if d == domid}
    return facts


def stamp_epoch(stamp, offset):
    """'2026-12-01 10:00:00' in dom0's local time (offset '+0100') -> epoch."""
    t = calendar.timegm(time.strptime(stamp, "%Y-%m-%d %H:%M:%S"))
    sign = -1 if offset.startswith("-") else 1
    h, m = int(offset[1:3] or 0), int(offset[3:5] or 0)
    return t - sign * (h * 3600 + m * 60)


EMBEDDED_STAMP_RX = re.compile(r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] ?")


def console_facts(log, name, offset):
    """The current domain's part of a guest's console log: when it opened,
    when the login prompt and the 'up' line appeared (epoch seconds)."""
    lines = log.replace("\r", "\n").splitlines()
    start = max((i for i, l in enumerate(lines) if "Logfile Opened" in l), default=-1)
    cur = lines[start + 1:] if start >= 0 else lines
    f = {"opened": None, "login": None, "ready": None, "ready_line": None}
    if start >= 0:
        m = STAMP_RX.match(lines[start])
        f["opened"] = stamp_epoch(m.group(1), offset) if m else None
    for line in cur:
        m = STAMP_RX.match(line)
        when = stamp_epoch(m.group(1), offset) if m else None
        body = m.group(2) if m else line
        # xenconsoled stamps each chunk it writes: under load a line comes in
        # pieces ("hadoop[2026-12-02 01:36:32]  login: "); without them.
        plain = EMBEDDED_STAMP_RX.sub("", body)
        if f["login"] is None and re.search(rf"(^|\s){re.escape(name)} login: ", plain + " "):
            f["login"] = when
        r = READY_RX.search(body)
        if r and r.group(1) == name:
            f["ready"], f["ready_line"] = when, r.group(0)
    f["text"] = "\n".join(cur)
    return f


# The start jobs a slow boot must never give up on (their own unit files set
# TimeoutSec=): "UNIT TIMEOUT" for each, "infinity" expected.
WAITERS = ("ifupdown-pre.service", "systemd-journal-flush.service", "systemd-fsck-root.service")


def timeouts_cmd(units):
    return "for u in " + " ".join(units) + "; do echo \"$u $(systemctl show -P TimeoutStartUSec $u)\"; done"


def finite_timeouts(text):
    """The WAITERS whose start timeout is not infinity: ['unit 3min', ...]."""
    bad = []
    for line in text.splitlines():
        w = line.split(None, 1)
        if len(w) == 2 and w[1].strip() != "infinity":
            bad.append(f"{w[0]} {w[1].strip()}")
    return bad


# Why a unit failed: for each failed unit its journal of this boot (the
# lines that name the error), so that a failure is explained by the run
# that saw it. No data in it: the unit names come from systemctl.
FAILED_DETAIL_CMD = ("for u in $(systemctl --failed --no-legend --plain | awk '{print $1}'); do"
                     " echo \"-- $u: $(systemctl show -P Result $u), $(systemctl show -P ExecMainStatus $u)\";"
                     " journalctl -b -o short-monotonic --no-pager -n 25 -u \"$u\" 2>&1; done")
# Where a boot's time went (kept in the logs folder, not a check): the
# kernel's and userspace's shares, 2 s. Not 'blame': it asks PID 1 about
# every unit, 30 s on a TCG dom0 and more in a guest, minutes a boot.
ANALYZE_CMD = "systemd-analyze 2>&1"

GUEST_CMD = "; ".join([
    "echo '== hostname =='", "uname -n",
    "echo '== root =='", "findmnt -no SOURCE /",
    "echo '== swaps =='", "tail -n +2 /proc/swaps",
    "echo '== failed =='", "systemctl --failed --no-legend --plain",
    "echo '== running =='", "systemctl is-system-running",
    "echo '== clock =='", "date +%s.%N; cut -d' ' -f1 /proc/uptime",
    "echo '== ssh =='", "systemctl show -P ActiveEnterTimestampMonotonic ssh.service",
    "echo '== locale =='", "cat /etc/default/locale",
    "echo '== zone =='", "readlink /etc/localtime",
    "echo '== journal =='", "ls /var/log/journal/*/system.journal 2>/dev/null | head -n 1",
    "echo '== hostkey =='", "ssh-keygen -l -f /etc/ssh/ssh_host_ed25519_key.pub",
    "echo '== panic_on_oops =='", "cat /proc/sys/kernel/panic_on_oops",
    "echo '== timeouts =='", timeouts_cmd(WAITERS),
    "echo '== failed-detail =='", FAILED_DETAIL_CMD,
    "echo '== analyze =='", ANALYZE_CMD,
])


def guest_facts(ssh, address):
    rc, out, err = ssh.run(address, GUEST_CMD)
    if rc != 0 and not out:
        raise RuntimeError(f"ssh {address} (through dom0): exit {rc}: {err}")
    s = sections(out)
    f = {k: s.get(k, "").strip() for k in ("hostname", "root", "failed", "running", "locale", "zone", "journal", "hostkey",
                                         "panic_on_oops", "analyze")}
    f["failed_detail"] = s.get("failed-detail", "").rstrip()
    f["swaps"] = [l.split() for l in s.get("swaps", "").splitlines() if l.strip()]
    f["timeouts"] = finite_timeouts(s.get("timeouts", ""))
    clock = s.get("clock", "").split()
    ssh_mono = s.get("ssh", "").strip()
    f["boot"] = float(clock[0]) - float(clock[1]) if len(clock) == 2 else None
    f["ssh_at"] = f["boot"] + int(ssh_mono) / 1e6 if f["boot"] is not None and ssh_mono.isdigit() and int(ssh_mono) else None
    return f
