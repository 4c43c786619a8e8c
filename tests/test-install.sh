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
# again); a reinstall keeps what the profile preserves, even cut and
# resumed, and refuses a profile that moves it. Needs root and loop
# devices; says so and skips otherwise.
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
# Day two's commands change a running host only: not this machine.
for c in apply refresh-archive; do
        st=0
        "$bin" --profile "$top/profiles/hyperion" $c --yes >day2.out 2>&1 || st=$?
        [ $st -eq 2 ] && grep -q "installed, running hyperion host" day2.out || fail "'$c' off an installed host: exit $st: $(cat day2.out)"
done
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
# The installer stops itself before that step (HYPERION_PAUSE_BEFORE): the
# signal arrives there, however fast or loaded the machine.
HYPERION_PAUSE_BEFORE="lv vg0/hadoop-disk" "${runcmd[@]}" install --yes >term.out 2>&1 &
pid=$!
for _ in $(seq 1 600); do
        [ "$(awk '{ print $3 }' /proc/$pid/stat 2>/dev/null)" = T ] && break
        sleep 0.1
done
[ "$(awk '{ print $3 }' /proc/$pid/stat 2>/dev/null)" = T ] || fail "SIGTERM: the install did not pause before lv vg0/hadoop-disk: $(tail -n 3 term.out)"
kill -TERM $pid
kill -CONT $pid
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

# A reinstall over the finished install, from a changed profile (one more
# package, one more guest, hadoop's disk grown): the storage partition
# (Preserve=yes) and vg0 (Preserve=yes) keep what they hold, byte for byte.
fresh
run install --yes >install.out 2>&1 || fail "install before the reinstall failed: $(tail -n 5 install.out)"
cleanup_kernel
sector() { sfdisk -J d1t.img | python3 -c "import json,sys; p=json.load(sys.stdin)['partitiontable']['partitions'][$1]; print(p['$2'])"; }
st_start=$(( $(sector 4 start) * 512 )) st_size=$(( $(sector 4 size) * 512 ))
root_at=$(( $(sector 2 start) * 512 )) root_size=$(( $(sector 2 size) * 512 ))
dev=$(losetup -f --show -o $st_start --sizelimit $st_size d1t.img)
echo "kept by the reinstall" >marker.txt
debugfs -w -R "write marker.txt marker.txt" "$dev" >/dev/null 2>&1 || fail "reinstall: cannot write the marker into storage"
st_uuid=$(blkid -p -s UUID -o value "$dev")
losetup -d "$dev"
root_uuid=$(losetup -f --show -r -o $root_at --sizelimit $root_size d1t.img | { read -r d; blkid -p -s UUID -o value "$d"; losetup -d "$d"; })
# hadoop-disk's first extent, from LVM's own map of the physical volume.
pv=$(losetup -f --show -r -o 1048576 --sizelimit 500106813440 d500.img)
pe_start=$(pvs --driverloaded n --noheadings --units b --nosuffix -o pe_start "$pv" 2>/dev/null | tr -d ' ')
first=$(lvs --driverloaded n --noheadings -o seg_pe_ranges vg0/hadoop-disk 2>/dev/null | sed 's/.*:\([0-9]*\)-.*/\1/' | tr -d ' ')
extent=$(vgs --driverloaded n --noheadings --units b --nosuffix -o vg_extent_size vg0 2>/dev/null | tr -d ' ')
losetup -d "$pv"
[ -n "$pe_start" ] && [ -n "$first" ] && [ -n "$extent" ] || fail "reinstall: no map of hadoop-disk (pe_start '$pe_start', extent '$first', size '$extent')"
lv_at=$(( 1048576 + pe_start + first * extent ))
head -c 4096 /dev/urandom >lv-marker.bin
dd if=lv-marker.bin of=d500.img bs=4096 seek=$((lv_at / 4096)) conv=notrunc status=none
lv_marker() { dd if=d500.img bs=4096 skip=$((lv_at / 4096)) count=1 status=none | cmp -s - lv-marker.bin; }
cp -r "$top/profiles/hyperion" changed
sed -i 's/^Install=less nano$/Install=less nano htop/' changed/profile.conf
grep -q htop changed/profile.conf || fail "reinstall: the changed profile has no new package"
sed -i '/^\[Domain hadoop\]/,/^\[/ s/^Disk=10G$/Disk=12G/' changed/20-guests.conf
printf '\n[Domain europa]\nType=pv\nMemory=128M\nVCPUs=1\nDisk=2G\nSwap=128M\n' >>changed/20-guests.conf
rerun=("$bin" --profile changed "${disks[@]}" --root "$tmp/target")
"${rerun[@]}" plan >re-plan.out 2>&1 || fail "reinstall plan failed: $(tail -n 5 re-plan.out)"
for want in "^Reinstall plan for host 'hyperion'" "^  preserve: storage .* ext4" "^  new: efi, boot, root, swap$" \
        "^  reuse: vg0, 6 volumes kept (hadoop-disk hadoop-swap io-disk io-swap tethys-disk tethys-swap)" \
        "grow vg0/hadoop-disk: from 10G to 12G" "lv vg0/europa-disk: 2G" "check system/storage: its ext4 (UUID $st_uuid"; do
        grep -q "$want" re-plan.out || fail "reinstall plan: no '$want' in: $(cat re-plan.out)"
done
! grep -q "format system/storage\|pv vms/pv\|lv vg0/hadoop-disk" re-plan.out || fail "the reinstall plan writes what it preserves"
# A power cut in the middle, then the same command: the reinstall carries on.
HYPERION_FAIL_AT="lv vg0/europa-disk: lvcreate" "${rerun[@]}" install --yes >stop.out 2>&1
[ $? -eq 137 ] || fail "reinstall cut before europa's lvcreate: $(tail -n 3 stop.out)"
cleanup_kernel
"${rerun[@]}" install --yes >re.out 2>&1 || fail "reinstall (resumed) failed: $(tail -n 5 re.out)"
grep -q "resuming" re.out || fail "the cut reinstall did not resume: $(tail -n 5 re.out)"
check_reinstalled() { # $1: what
        local dev lvs
        dev=$(losetup -f --show -r -o $st_start --sizelimit $st_size d1t.img)
        [ "$(blkid -p -s UUID -o value "$dev")" = "$st_uuid" ] || { losetup -d "$dev"; fail "$1: the storage filesystem's UUID changed"; }
        debugfs -R "cat marker.txt" "$dev" 2>/dev/null | cmp -s - marker.txt || { losetup -d "$dev"; fail "$1: the marker in storage is gone"; }
        losetup -d "$dev"
        lv_marker || fail "$1: hadoop-disk's bytes changed"
        dev=$(losetup -f --show -r -o $root_at --sizelimit $root_size d1t.img)
        [ "$(blkid -p -s UUID -o value "$dev")" != "$root_uuid" ] || { losetup -d "$dev"; fail "$1: the root was not made anew"; }
        debugfs -R "cat /var/lib/hyperion/install.journal" "$dev" >re-journal.out 2>/dev/null
        losetup -d "$dev"
        grep -q "^previous part system/storage 5 $st_start $st_size ext4 $st_uuid preserve$" re-journal.out ||
                fail "$1: the journal does not carry the installed layout: $(head -n 12 re-journal.out)"
        [ "$(tail -n 1 re-journal.out)" = storage ] || fail "$1: the journal does not end with 'storage'"
        dev=$(losetup -f --show -r -o 1048576 --sizelimit 500106813440 d500.img)
        lvs=$(lvs --driverloaded n --noheadings --units b --nosuffix -o lv_name,lv_size vg0 2>/dev/null | awk '{print $1"="$2}' | sort | tr '\n' ' ')
        losetup -d "$dev"
        [ "$lvs" = "europa-disk=2147483648 europa-swap=134217728 hadoop-disk=12884901888 hadoop-swap=4294967296 io-disk=4294967296 io-swap=134217728 tethys-disk=2147483648 tethys-swap=134217728 " ] ||
                fail "$1: vg0 holds '$lvs'"
        [ "$(stat -c '%Y %s %b' d3t.img; dd if=d3t.img bs=1M count=16 2>/dev/null | sha256sum)" = "$keep_before" ] ||
                fail "$1: the data disk (Use=keep) changed"
        [ -z "$(losetup -j d1t.img; losetup -j d500.img)" ] || fail "$1: loop devices left"
}
check_reinstalled "reinstall"
# Again over the reinstalled host, --wipe given: what is preserved is still kept.
"${rerun[@]}" install --yes --wipe >re2.out 2>&1 || fail "second reinstall failed: $(tail -n 5 re2.out)"
root_uuid=$(losetup -f --show -r -o $root_at --sizelimit $root_size d1t.img | { read -r d; blkid -p -s UUID -o value "$d"; losetup -d "$d"; })
grep -q "^  reuse: vg0, 8 volumes kept" re2.out || fail "second reinstall: $(grep -A3 'volume group' re2.out)"
dev=$(losetup -f --show -r -o $st_start --sizelimit $st_size d1t.img)
debugfs -R "cat marker.txt" "$dev" 2>/dev/null | cmp -s - marker.txt || { losetup -d "$dev"; fail "reinstall with --wipe: the storage marker is gone"; }
losetup -d "$dev"
lv_marker || fail "reinstall with --wipe: hadoop-disk's bytes changed"
# A profile that moves the preserved partition (root 1G larger): refused with
# both layouts side by side, and not one byte of the disks changes.
cp -r changed moved
sed -i '/^\[Partition system\/root\]/,/^\[/ s/^Size=15G$/Size=16G/' moved/10-disks.conf
before=$(disk_state)
"$bin" --profile moved "${disks[@]}" --root "$tmp/target" install --yes --wipe >moved.out 2>&1 &&
        fail "a reinstall that moves the preserved storage went ahead: $(tail -n 5 moved.out)"
for want in "holds an installed hyperion, and this profile cannot reinstall it: 'system/storage' is preserved, and the profile moves and shrinks it" \
        "installed (start, size, format)" "storage .*ext4 .*| 5: .*preserved"; do
        grep -q "$want" moved.out || fail "moved storage: no '$want' in: $(cat moved.out)"
done
[ "$before" = "$(disk_state)" ] || fail "the refused reinstall wrote to the disks"
# A reinstall cut as it formats the old root (the finished journal on it is
# gone, the new one not yet made): the rerun finds no journal, but the
# profile's own table with storage and vg0 (Preserve=yes) in place. It is
# reinstalled again from what the disks hold, keeping them; as nothing
# proves the disks are this hyperion's, what it formats needs --wipe.
HYPERION_FAIL_AT="format system/root: mkfs.ext4" "${rerun[@]}" install --yes >stop.out 2>&1
[ $? -eq 137 ] || fail "reinstall cut at the root's mkfs: $(tail -n 3 stop.out)"
cleanup_kernel
before=$(disk_state)
"${rerun[@]}" install --yes >cut.out 2>&1 && fail "the rerun after the cut formatted without --wipe: $(tail -n 5 cut.out)"
for want in "a reinstall cut while it formatted the root; planned again from the disks" \
        "disk 'system' (.*d1t.img) holds this profile's partition table and what it preserves, but no install journal" \
        "formats 'efi' (vfat at /boot/efi), 'boot' (ext4 at /boot), 'swap' (swap); add --wipe to let it (--wipe never formats what is preserved)"; do
        grep -q "$want" cut.out || fail "rerun after the cut: no '$want' in: $(cat cut.out)"
done
[ "$before" = "$(disk_state)" ] || fail "the refused rerun after the cut wrote to the disks"
"${rerun[@]}" plan --wipe >cut-plan.out 2>&1 || fail "the plan after the cut: $(tail -n 5 cut-plan.out)"
grep -q "^reinstall: over a hyperion whose install journal is gone" cut-plan.out || fail "the plan after the cut: $(head -n 5 cut-plan.out)"
"${rerun[@]}" install --yes --wipe >cut.out 2>&1 || fail "the reinstall after the cut (--wipe) failed: $(tail -n 5 cut.out)"
grep -q "^  preserve: storage .* ext4" cut.out || fail "the reinstall after the cut: $(grep -A3 'disk system' cut.out)"
check_reinstalled "reinstall after a cut at the root's mkfs"
n=$((n + 4))

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
echo "PASS  test-install.sh: $n installs on image files, $((n - 4)) of them cut (before each of the $points writes, after a step, by SIGTERM) and resumed; a reinstall from a changed profile (cut and resumed, then again with --wipe) keeps storage and vg0's volumes byte for byte; a reinstall cut at the old root's mkfs is recognised from the disks (refused without --wipe, then reinstalled keeping them); a profile moving the preserved partition, a swapped image, a second vg0 and another profile refused"
