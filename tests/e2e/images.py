# SPDX-License-Identifier: GPL-2.0-or-later
"""images.py: the disk images of `make e2e`, made and read offline.

Sparse raw images at the vendors' byte sizes; the 3 TB one gets a GPT and an
ext4 file system with known data, written with mkfs.ext4 -d (no mount). The
images are read back after power-off as an administrator would read a disk
he took out of the machine: sfdisk, a read-only loop device and a read-only
mount, lvs without device-mapper, debugfs. Whatever this module attaches or
mounts is recorded in a Resources object, which undoes it all. Standard
library only.
"""
import hashlib
import json
import os
import random
import shutil
import subprocess
import tempfile

SECTOR = 512
MiB = 1 << 20
GiB = 1 << 30
BLOCK = 4096          # the unit of the content map

# GPT partition type GUIDs (as sfdisk -J prints them).
TYPE_ESP = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
TYPE_LINUX = "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
TYPE_SWAP = "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F"
TYPE_LVM = "E6D6D379-F507-44C2-A23C-238F2A3DF928"
TYPE_NAMES = {TYPE_ESP: "esp", TYPE_LINUX: "linux", TYPE_SWAP: "swap", TYPE_LVM: "lvm"}


def run(argv, check=True, input=None, env=None):
    """Run a command, capture its output; raise with its stderr on failure."""
    p = subprocess.run(argv, input=input, capture_output=True, env=env)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: exit {p.returncode}: "
                           + (p.stderr or p.stdout).decode("utf-8", "replace").strip()[-2000:])
    return p


class Resources:
    """Loop devices and mounts made here, undone by release() in reverse."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.items = []      # ("loop", dev) or ("mount", dir)

    def loop(self, image, offset=0, size=None):
        argv = ["losetup", "--read-only", "--find", "--show", "--offset", str(offset)]
        if size is not None:
            argv += ["--sizelimit", str(size)]
        dev = run(argv + [image]).stdout.decode().strip()
        self.items.append(("loop", dev))
        return dev

    def mount_ro(self, dev, fstype="ext4"):
        d = tempfile.mkdtemp(prefix="mnt-", dir=self.workdir)
        self.items.append(("dir", d))
        # noload: never replay a journal (the device is read-only anyway).
        opts = "ro,noload" if fstype.startswith("ext") else "ro"
        run(["mount", "-t", fstype, "-o", opts, dev, d])
        self.items.append(("mount", d))
        return d

    def release_one(self, kind, what):
        if kind == "mount":
            if run(["umount", what], check=False).returncode != 0:
                run(["umount", "-l", what], check=False)
        elif kind == "loop":
            run(["losetup", "-d", what], check=False)
        elif kind == "dir":
            try:
                os.rmdir(what)
            except OSError:
                pass

    def release(self, upto=0):
        """Undo everything recorded after position upto (all by default)."""
        while len(self.items) > upto:
            kind, what = self.items.pop()
            self.release_one(kind, what)

    def leftovers(self):
        """Loop devices still backed by a file of the work folder, mounts
        still under it: what a run must not leave behind."""
        out = []
        p = run(["losetup", "--list", "--json", "--output", "NAME,BACK-FILE"], check=False)
        try:
            for d in json.loads(p.stdout or b"{}").get("loopdevices", []):
                if (d.get("back-file") or "").startswith(self.workdir.rstrip("/") + "/"):
                    out.append(f"loop device {d['name']} on {d['back-file']}")
        except ValueError:
            pass
        with open("/proc/self/mounts") as f:
            for line in f:
                mp = line.split()[1]
                if mp.startswith(self.workdir.rstrip("/") + "/"):
                    out.append(f"mount on {mp}")
        return out


class Attached:
    """with Attached(res, image, offset, size) as dev: a read-only loop device."""

    def __init__(self, res, image, offset=0, size=None):
        self.res, self.args = res, (image, offset, size)

    def __enter__(self):
        self.mark = len(self.res.items)
        return self.res.loop(*self.args)

    def __exit__(self, *exc):
        self.res.release(self.mark)


class Mounted:
    """with Mounted(res, image, offset, size) as dir: a read-only mount."""

    def __init__(self, res, image, offset, size, fstype="ext4"):
        self.res, self.args, self.fstype = res, (image, offset, size), fstype

    def __enter__(self):
        self.mark = len(self.res.items)
        try:
            dev = self.res.loop(*self.args)
            return self.res.mount_ro(dev, self.fstype)
        except BaseException:
            self.res.release(self.mark)
            raise

    def __exit__(self, *exc):
        self.res.release(self.mark)


# ---------------------------------------------------------------- making

def make_sparse(path, size):
    if os.path.exists(path):
        os.unlink(path)
    with open(path, "wb") as f:
        f.truncate(size)


def data_tree(root, seed):
    """The known data of the 3 TB disk: a few files and a few MB of
    pseudo-random bytes from a fixed seed. Returns {path: sha256}."""
    rng = random.Random(seed)
    files = {
        "README": b"Data of the hyperion e2e test. The installer must never write this disk.\n",
        "photos/2019/holiday.raw": rng.randbytes(3 * MiB + 123),
        "music/album/track01.flac": rng.randbytes(5 * MiB),
        "documents/letter.txt": ("".join(f"line {i}: the quick brown fox\n" for i in range(2000))).encode(),
        "documents/empty": b"",
    }
    for rel, data in files.items():
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
    return {rel: hashlib.sha256(data).hexdigest() for rel, data in files.items()}


def make_data_disk(path, size, scratch, seed=6):
    """GPT with one ext4 partition ('data') spanning the disk, holding the
    data tree. Returns (partition start in bytes, {file: sha256})."""
    make_sparse(path, size)
    run(["sfdisk", "--quiet", path],
        input=f"label: gpt\nstart=2048, type={TYPE_LINUX}, name=data\n".encode())
    part = partitions(path)[0]
    start, length = part["start"] * SECTOR, part["size"] * SECTOR
    root = os.path.join(scratch, "data-tree")
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    sums = data_tree(root, seed)
    # largefile4: few inodes; lazy init off: the installed system, which
    # mounts this disk, must not be left zeroing inode tables in the
    # background (that would write the disk and grow the sparse image).
    run(["mkfs.ext4", "-q", "-F", "-L", "data", "-T", "largefile4",
         "-E", f"offset={start},lazy_itable_init=0,lazy_journal_init=0",
         "-d", root, path, str(length // BLOCK)])
    shutil.rmtree(root, ignore_errors=True)
    return start, sums


# ---------------------------------------------------------------- reading

def partitions(image):
    """sfdisk -J of an image: its table (dict), partitions in a list."""
    return sfdisk(image)["partitions"]


def sfdisk(image):
    p = run(["sfdisk", "--json", image])
    return json.loads(p.stdout)["partitiontable"]


def extents(path):
    """The data extents of a sparse file, by SEEK_DATA/SEEK_HOLE."""
    fd = os.open(path, os.O_RDONLY)
    try:
        end = os.fstat(fd).st_size
        off = 0
        while off < end:
            try:
                d = os.lseek(fd, off, os.SEEK_DATA)
            except OSError:          # ENXIO: no data after off
                break
            h = os.lseek(fd, d, os.SEEK_HOLE)
            yield d, h
            off = h
    finally:
        os.close(fd)


ZERO = bytes(BLOCK)


def content_map(path):
    """{offset: sha256} of every non-zero 4 KiB block of an image, reading
    only its data extents (never terabytes of holes). Blocks outside the map
    are zeroes, so the map describes the content whatever the layout of
    holes and extents on the host."""
    blocks = {}
    with open(path, "rb", buffering=0) as f:
        for d, h in extents(path):
            pos = d - d % BLOCK
            f.seek(pos)
            while pos < h:
                n = min(16 * MiB, h - pos + (-(h - pos)) % BLOCK)
                chunk = f.read(n)
                if not chunk:
                    break
                for i in range(0, len(chunk), BLOCK):
                    b = chunk[i:i + BLOCK]
                    if b != ZERO[:len(b)]:
                        blocks[pos + i] = hashlib.sha256(b).hexdigest()
                pos += len(chunk)
    return blocks


def map_digest(blocks):
    h = hashlib.sha256()
    for off in sorted(blocks):
        h.update(off.to_bytes(8, "little") + bytes.fromhex(blocks[off]))
    return h.hexdigest()


def map_diff(before, after):
    """Offsets of the 4 KiB blocks whose content differs."""
    return sorted(o for o in set(before) | set(after) if before.get(o) != after.get(o))


def blank(path):
    """(True, evidence) when the image holds nothing but zeroes."""
    ext = list(extents(path))
    if not ext:
        return True, "no data extents at all (SEEK_DATA finds nothing)"
    nonzero = content_map(path)
    total = sum(h - d for d, h in ext)
    if not nonzero:
        return True, f"{len(ext)} data extents ({total} bytes), all zeroes"
    first = min(nonzero)
    return False, (f"{len(nonzero)} non-zero 4 KiB blocks in {len(ext)} extents ({total} bytes);"
                   f" the first at byte {first}")


def debugfs(image, offset, request):
    """debugfs -R REQUEST on the file system at offset in the image (read-only)."""
    p = run(["debugfs", "-R", request, f"{image}?offset={offset}"], check=False)
    return p


def read_fs_file(image, offset, path):
    p = debugfs(image, offset, f"cat /{path}")
    if p.returncode != 0 or b"File not found" in p.stderr:
        return None
    return p.stdout


def block_owners(image, offset, fs_blocks):
    """debugfs icheck: {fs block: inode number or None}."""
    owners = {}
    fs_blocks = sorted(set(fs_blocks))
    for i in range(0, len(fs_blocks), 200):
        part = fs_blocks[i:i + 200]
        p = debugfs(image, offset, "icheck " + " ".join(str(b) for b in part))
        for line in p.stdout.decode("utf-8", "replace").splitlines()[1:]:
            f = line.split(None, 1)
            if len(f) == 2 and f[0].isdigit():
                owners[int(f[0])] = int(f[1]) if f[1].strip().isdigit() else None
    return owners


def fsck(image, offset):
    """e2fsck -fn on the file system at offset: (ok, last line)."""
    p = run(["e2fsck", "-fn", f"{image}?offset={offset}"], check=False)
    out = (p.stdout.strip() or p.stderr.strip()).decode("utf-8", "replace").splitlines()
    return p.returncode == 0, (out[-1] if out else f"exit {p.returncode}")


def lvs(res, image, offset):
    """The logical volumes on the PV at offset: [(vg, lv, bytes)] and the
    PV's size, read through a read-only loop device without device-mapper."""
    env = dict(os.environ, LVM_SUPPRESS_FD_WARNINGS="1")
    with Attached(res, image, offset) as dev:
        common = ["--devices", dev, "--driverloaded", "n", "--readonly", "--units", "b",
                  "--nosuffix", "--noheadings", "--separator", ","]
        p = run(["lvs"] + common + ["-o", "vg_name,lv_name,lv_size"], env=env)
        lvs_ = []
        for line in p.stdout.decode().splitlines():
            f = [x.strip() for x in line.split(",")]
            if len(f) == 3:
                lvs_.append((f[0], f[1], int(f[2])))
        p = run(["pvs"] + common + ["-o", "pv_name,vg_name,pv_size,dev_size"], env=env)
        pvs = [[x.strip() for x in line.split(",")] for line in p.stdout.decode().splitlines() if line.strip()]
    return lvs_, pvs
