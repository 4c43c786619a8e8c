#!/bin/bash
# test-install.sh FIRSTBOOT: the installer on image files of the real sizes
# (sparse: they cost nothing until written), as far as this kernel allows
# without device-mapper: GPT tables with libparted (read back with
# sfdisk -J), filesystems through loop devices over each partition's range,
# LVM metadata (--driverloaded n), the journal. A power cut before every
# write the install makes (HYPERION_FAIL_AT), then a rerun, ends in the same
# state as an install never cut; the disk marked keep and the one marked
# ignore are never written; an image swapped for another after the prompt
# is refused; a volume group named vg0 on a disk not formatted is refused
# by the plan; SIGTERM leaves no mount or loop device and the rerun
# finishes; a rerun with another profile is refused (--start-over begins
# again). Needs root and loop devices; says so and skips otherwise.
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
runcmd=("$bin" --profile "$top/profiles/hyperion" "${disks[@]}" --root "$tmp/target")
run() { "${runcmd[@]}" "$@"; }
# What a refused run must not change: the blocks the images hold, their first 64 MiB.
disk_state() { stat -c %b d1t.img d500.img; for i in d1t d500; do dd if=$i.img bs=1M count=64 2>/dev/null | sha256sum; done; }

run plan >plan.out 2>&1 || fail "plan failed: $(tail -n 3 plan.out)"
grep -q "^disk system -> d1t.img" plan.out || fail "plan: the 1TB image is not the system disk"
grep -q "^The disks are image files" plan.out || fail "plan: image files are not a storage-only plan"

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
        local pv lvs uuid
        pv=$(losetup -f --show -r -o 1048576 --sizelimit 500106813440 d500.img)
        lvs=$(lvs --driverloaded n --noheadings --units b --nosuffix -o lv_name,lv_size vg0 2>/dev/null | awk '{print $1"="$2}' | sort | tr '\n' ' ')
        losetup -d "$pv"
        [ "$lvs" = "hadoop-disk=10737418240 hadoop-swap=4294967296 io-disk=4294967296 io-swap=134217728 tethys-disk=2147483648 tethys-swap=134217728 " ] ||
                fail "$1: vg0 holds '$lvs'"
        # The root filesystem has the UUID of the plan (the journal's seed), and the journal says done.
        pv=$(losetup -f --show -r -o $((2048 * 512 + 512 * 1048576)) --sizelimit $((15 * 1073741824)) d1t.img)
        uuid=$(blkid -p -s UUID -o value "$pv")
        debugfs -R "cat /var/lib/hyperion/install.journal" "$pv" 2>/dev/null >journal.out
        losetup -d "$pv"
        grep -q "^storage$" journal.out || fail "$1: the journal does not end with 'storage': $(tail -n 2 journal.out)"
        [ -n "$want_uuid" ] || want_uuid=$uuid
        [ "$uuid" = "$want_uuid" ] || fail "$1: the root filesystem's UUID is $uuid, the plan's is $want_uuid"
        [ "$(stat -c '%Y %s %b' d3t.img; dd if=d3t.img bs=1M count=16 2>/dev/null | sha256sum)" = "$keep_before" ] ||
                fail "$1: the data disk (Use=keep) changed"
        [ "$(stat -c %b d320.img)" = 0 ] || fail "$1: the spare disk (Use=ignore) was written"
        [ -z "$(losetup -j d1t.img; losetup -j d500.img)" ] || fail "$1: loop devices left: $(losetup -j d1t.img)"
        ! grep -q " $tmp/target" /proc/self/mountinfo || fail "$1: mounts left under $tmp/target"
}
fresh() {
        rm -f d1t.img d500.img
        truncate -s 1000204886016 d1t.img
        truncate -s 500107862016 d500.img
}

rm -f points.txt
HYPERION_WRITE_POINTS="$tmp/points.txt" run install --yes >install.out 2>&1 || fail "install failed: $(tail -n 5 install.out)"
grep -q "the disks are ready" install.out || fail "install did not finish: $(tail -n 3 install.out)"
want_uuid=
check_final "first install"
"$bin" --profile "$top/profiles/hyperion" "${disks[@]}" status | grep -q "done: storage" || fail "status does not show the journal"
n=1
points=$(wc -l <points.txt)
[ "$points" -ge 20 ] || fail "only $points write points: $(tr '\n' '|' <points.txt)"

# A power cut before each write the install makes, then the same command again.
while read -r point; do
        fresh
        HYPERION_FAIL_AT="$point" run install --yes >stop.out 2>&1
        st=$?
        [ $st -eq 137 ] || fail "power cut before '$point': exit status $st: $(tail -n 3 stop.out)"
        cleanup_kernel
        run install --yes >resume.out 2>&1 || fail "resume after a cut before '$point' failed: $(tail -n 5 resume.out)"
        want_uuid=
        check_final "resume after a cut before '$point'"
        n=$((n + 1))
done <points.txt
# And after a journal entry, as HYPERION_STOP_AFTER does.
fresh
HYPERION_STOP_AFTER="vg vg0" run install --yes >stop.out 2>&1
[ $? -eq 137 ] || fail "stop after 'vg vg0': $(tail -n 3 stop.out)"
cleanup_kernel
run install --yes >resume.out 2>&1 || fail "resume after 'vg vg0' failed: $(tail -n 5 resume.out)"
want_uuid=
check_final "resume after 'vg vg0'"
n=$((n + 1))

# A rerun of an unfinished install with another profile: refused, nothing written.
fresh
HYPERION_FAIL_AT="format system/storage: mkfs.ext4" run install --yes >stop.out 2>&1
cleanup_kernel
cp -r "$top/profiles/hyperion" other-profile
sed -i 's/^Hostname=hyperion/Hostname=other/' other-profile/profile.conf
before=$(disk_state)
"$bin" --profile other-profile "${disks[@]}" --root "$tmp/target" install --yes >other.out 2>&1 &&
        fail "another profile resumed the unfinished install: $(tail -n 3 other.out)"
grep -q "unfinished install of another plan" other.out || fail "another profile: $(tail -n 3 other.out)"
[ "$before" = "$(disk_state)" ] || fail "the refused rerun wrote to the disks"
"$bin" --profile other-profile "${disks[@]}" --root "$tmp/target" install --yes --start-over >other.out 2>&1 ||
        fail "--start-over failed: $(tail -n 3 other.out)"
grep -q "the disks are ready" other.out || fail "--start-over did not finish: $(tail -n 3 other.out)"
cleanup_kernel

# SIGTERM in the middle: nothing mounted or attached is left, the rerun finishes.
fresh
"${runcmd[@]}" install --yes >term.out 2>&1 &
pid=$!
for _ in $(seq 1 300); do
        grep -q "step .*: lv vg0/hadoop-disk" term.out && break
        sleep 0.1
done
kill -TERM $pid
wait $pid
st=$?
[ $st -eq 130 ] || fail "SIGTERM: exit status $st, not 130: $(tail -n 3 term.out)"
grep -q "interrupted" term.out || fail "SIGTERM: no 'interrupted' message: $(tail -n 3 term.out)"
[ -z "$(losetup -j d1t.img; losetup -j d500.img)" ] || fail "SIGTERM left loop devices: $(losetup -j d1t.img; losetup -j d500.img)"
! grep -q " $tmp/target" /proc/self/mountinfo || fail "SIGTERM left mounts under $tmp/target"
run install --yes >resume.out 2>&1 || fail "resume after SIGTERM failed: $(tail -n 5 resume.out)"
want_uuid=
check_final "resume after SIGTERM"
n=$((n + 1))

# An image swapped for another after the host-name prompt: refused, the new one untouched.
fresh
truncate -s 1000204886016 d1t-other.img
mkfifo answer
"${runcmd[@]}" install <answer >swap.out 2>&1 &
pid=$!
exec 3>answer
for _ in $(seq 1 300); do
        grep -q "Type the host name" swap.out && break
        sleep 0.1
done
mv d1t-other.img d1t.img
echo hyperion >&3
exec 3>&-
wait $pid && fail "an image swapped after the prompt was written to: $(tail -n 3 swap.out)"
grep -q "not the image file the plan was made for" swap.out || fail "swapped image: $(tail -n 3 swap.out)"
[ "$(stat -c %b d1t.img d500.img | tr '\n' ' ')" = "0 0 " ] || fail "swapped image: something was written"
rm -f answer

# A volume group named vg0 on the disk marked ignore: the plan refuses it, naming the disk.
fresh
pv=$(losetup -f --show d320.img)
pvcreate -q --driverloaded n "$pv" >/dev/null 2>&1 && vgcreate -q --driverloaded n vg0 "$pv" >/dev/null 2>&1
losetup -d "$pv"
run plan >vg.out 2>&1 && fail "the plan took a second vg0: $(tail -n 3 vg.out)"
grep -q "d320.img already holds a volume group named 'vg0'" vg.out || fail "vg0 on the spare disk: $(tail -n 3 vg.out)"
run install --yes >vg.out 2>&1 && fail "the install took a second vg0"
[ "$(stat -c %b d1t.img d500.img | tr '\n' ' ')" = "0 0 " ] || fail "vg0 elsewhere: the disks were written"

cleanup_kernel
cd / && rm -rf --one-file-system "$tmp"
echo "PASS  test-install.sh: $n installs on image files, $((n - 1)) of them cut (before each of the $points writes, after a step, by SIGTERM) and resumed; swapped image, second vg0 and another profile refused"
