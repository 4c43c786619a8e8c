#!/bin/bash
# test-install.sh FIRSTBOOT: the installer on image files of the real sizes
# (sparse: they cost nothing until written), as far as this kernel allows
# without device-mapper: GPT tables with libparted (read back with
# sfdisk -J), filesystems through loop devices over each partition's range,
# LVM metadata (--driverloaded n), the journal; a stop after every journal
# step followed by a rerun ends in the same state; the disk marked keep and
# the one marked ignore are never written. Needs root and loop devices;
# says so and skips otherwise.
set -u
bin=$(realpath "$1")
top=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" -ne 0 ] || [ ! -e /dev/loop-control ]; then
        echo "SKIP  test-install.sh: needs root and loop devices"
        exit 0
fi
for tool in sfdisk mkfs.ext4 mkfs.vfat mkswap wipefs losetup debugfs lvs; do
        command -v $tool >/dev/null || { echo "SKIP  test-install.sh: '$tool' is not installed"; exit 0; }
done
tmp=$(mktemp -d /var/tmp/hyperion-test-install.XXXXXX)
fail() { echo "FAIL  test-install.sh: $*; files kept in $tmp"; cleanup_kernel; exit 1; }
# What a power cut takes away: mounts and loop devices.
cleanup_kernel() {
        umount -R "$tmp/target" 2>/dev/null
        for img in "$tmp"/*.img; do
                losetup -j "$img" | cut -d: -f1 | xargs -r -n1 losetup -d
        done
}
cd "$tmp" || exit 1

truncate -s 3000592982016 d3t.img
truncate -s 1000204886016 d1t.img
truncate -s 500107862016 d500.img
truncate -s 320072933376 d320.img
# The data disk: a GPT, one ext4 partition, a file to keep.
printf 'label: gpt\nstart=2048, type=L\n' | sfdisk -q d3t.img || fail "sfdisk"
loop=$(losetup -f --show -o 1048576 --sizelimit 3000591916544 d3t.img) || fail "losetup"
mkfs.ext4 -q -L data -E lazy_itable_init=1,lazy_journal_init=1 "$loop" && \
        debugfs -w -R "write $top/README.md README.md" "$loop" >/dev/null 2>&1
losetup -d "$loop"
keep_before=$(stat -c '%Y %s %b' d3t.img; dd if=d3t.img bs=1M count=16 2>/dev/null | sha256sum)
disks=(--disk d320.img --disk d1t.img --disk d3t.img --disk d500.img)
run() { "$bin" --profile "$top/profiles/hyperion" "${disks[@]}" --root "$tmp/target" "$@"; }

run plan >plan.out 2>&1 || fail "plan failed: $(tail -n 3 plan.out)"
grep -q "^disk system -> d1t.img" plan.out || fail "plan: the 1TB image is not the system disk"

# The steps, in the order the installer journals them.
steps="partitions system|partitions vms|format system/root|format system/efi|format system/boot|format system/swap"
steps="$steps|format system/storage|pv vms/pv|vg vg0|lv vg0/hadoop-disk|lv vg0/hadoop-swap|lv vg0/io-disk"
steps="$steps|lv vg0/io-swap|lv vg0/tethys-disk|lv vg0/tethys-swap|storage"

check_final() { # what the install leaves, whatever happened on the way
        sfdisk -J d1t.img >table.json || fail "$1: no table on the 1TB image"
        python3 - "$1" <<'PY' || fail "$1: the 1TB table is not the planned one"
import json, sys
t = json.load(open("table.json"))["partitiontable"]
assert t["label"] == "gpt", t["label"]
p = t["partitions"]
MiB = 2048
want = [("efi", 2048, 256 * MiB, "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"),
        ("boot", 2048 + 256 * MiB, 256 * MiB, "0FC63DAF-8483-4772-8E79-3D69D8477DE4"),
        ("root", 2048 + 512 * MiB, 15 * 1024 * MiB, "0FC63DAF-8483-4772-8E79-3D69D8477DE4"),
        ("swap", 2048 + (512 + 15 * 1024) * MiB, 8 * 1024 * MiB, "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F")]
assert len(p) == 5, len(p)
for x, (name, start, size, typ) in zip(p, want):
    assert (x["name"], x["start"], x["size"], x["type"]) == (name, start, size, typ), (x, name)
rest = p[4]
assert rest["name"] == "storage" and rest["start"] == want[3][1] + want[3][2], rest
assert rest["size"] > 900 * 10**9 // 512, rest
PY
        sfdisk -J d500.img | grep -q '"type": "E6D6D379-F507-44C2-A23C-238F2A3DF928"' || fail "$1: no LVM partition on the 500GB image"
        local pv lvs
        pv=$(losetup -f --show -r -o 1048576 --sizelimit 500106813440 d500.img)
        lvs=$(lvs --driverloaded n --noheadings --units b --nosuffix -o lv_name,lv_size vg0 2>/dev/null | awk '{print $1"="$2}' | sort | tr '\n' ' ')
        losetup -d "$pv"
        [ "$lvs" = "hadoop-disk=10737418240 hadoop-swap=4294967296 io-disk=4294967296 io-swap=134217728 tethys-disk=2147483648 tethys-swap=134217728 " ] ||
                fail "$1: vg0 holds '$lvs'"
        [ "$(stat -c '%Y %s %b' d3t.img; dd if=d3t.img bs=1M count=16 2>/dev/null | sha256sum)" = "$keep_before" ] ||
                fail "$1: the data disk (Use=keep) changed"
        [ "$(stat -c %b d320.img)" = 0 ] || fail "$1: the spare disk (Use=ignore) was written"
}

run install --yes >install.out 2>&1 || fail "install failed: $(tail -n 5 install.out)"
grep -q "the disks are ready" install.out || fail "install did not finish: $(tail -n 3 install.out)"
check_final "first install"
"$bin" --profile "$top/profiles/hyperion" "${disks[@]}" status | grep -q "done: storage" || fail "status does not show the journal"
n=1

# A power cut after each step, then the same command again.
IFS='|' read -r -a all_steps <<<"$steps"
for step in "${all_steps[@]}"; do
        rm -f d1t.img d500.img
        truncate -s 1000204886016 d1t.img
        truncate -s 500107862016 d500.img
        HYPERION_STOP_AFTER="$step" run install --yes >stop.out 2>&1
        st=$?
        [ $st -eq 137 ] || fail "stop after '$step': exit status $st: $(tail -n 3 stop.out)"
        cleanup_kernel
        run install --yes >resume.out 2>&1 || fail "resume after '$step' failed: $(tail -n 5 resume.out)"
        check_final "resume after '$step'"
        n=$((n + 1))
done
cleanup_kernel
cd / && rm -rf --one-file-system "$tmp"
echo "PASS  test-install.sh: $n installs on image files, $((n - 1)) of them cut after a step and resumed"
