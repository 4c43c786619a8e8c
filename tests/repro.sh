#!/bin/bash
# make repro: the same inputs give the same ISO, bit for bit, on another
# machine; and the README's commands work on a bare Debian.
#
# Two builds of the default profile, each from an empty cache, at the same
# time:
#   one  on this machine, from this tree, under another host name (its own
#        UTS namespace, and /etc/hostname in a mount namespace of its own),
#        time zone, locale and umask;
#   two  in a fresh minbase chroot of this machine's own release (debootstrap,
#        nothing else installed), from a copy of the tree at another path,
#        with another /etc/hostname, time zone, locale and umask: there the
#        README's commands (set-up, make iso, make check) are typed as they
#        are written (read from README.md), as root, without sudo;
# then the two ISOs are compared: "identical", or the list of files that
# differ inside the ISO and its root image. Needs root and the network to
# the build machine's Debian mirror.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$top/build/hyperion-build
[ -x "$bin" ] || { echo "build it first: make" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "make repro needs root, like hyperion-build" >&2; exit 1; }
tmp=$(mktemp -d /var/tmp/hyperion-repro.XXXXXX)
keep=0
chroot_dir=$tmp/two/chroot
cleanup() {
        for m in dev/pts dev proc sys run; do umount -l "$chroot_dir/$m" 2>/dev/null || true; done
        [ $keep = 1 ] || rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT
start=$(date +%s)

# The README's commands of "The two commands", set-up and the ISO's, as written.
readme_cmds=$(awk '/^## The two commands/ { on = 1; next } on && /^## / { exit }
        on && /^    [a-z]/ { sub(/^    /, ""); sub(/ *#.*$/, ""); print; block = 1; next } block { exit }' "$top/README.md")
[ -n "$readme_cmds" ] || { echo "make repro: README.md has no commands under '## The two commands'" >&2; exit 1; }

# One: here, another host name in /etc/hostname and the kernel.
build_one() {
        local t0 t1 d=$tmp/one
        mkdir -p "$d"
        echo "repro-one" >"$d/hostname"
        t0=$(date +%s)
        echo "build one: this machine, host name repro-one, TZ=Europe/Paris, LANG=fr_FR.UTF-8, umask 0022, empty cache"
        unshare --uts --mount -- env -i PATH="$PATH" TZ=Europe/Paris LANG=fr_FR.UTF-8 LC_ALL=fr_FR.UTF-8 \
                "$BASH" -c 'mount --bind "$1" /etc/hostname && hostname repro-one && umask 0022 && shift && exec "$@"' sh "$d/hostname" \
                "$bin" --output "$d/hyperion.iso" --cache "$d/cache" --work "$d/work" \
                >"$d/build.out" 2>&1 || { tail -n 30 "$d/build.out"; echo "build one failed"; return 1; }
        t1=$(date +%s)
        echo "build one: $((t1 - t0)) s, $(cut -d' ' -f1 "$d/hyperion.iso.sha256")"
}

# Two: a bare Debian of this release, the README typed into it.
build_two() {
        local t0 t1 t2 release mirror src=/srv/hyperion-elsewhere
        mkdir -p "$tmp/two"
        release=$(. /etc/os-release && echo "$VERSION_CODENAME")
        mirror=$("$bin" --print-mirror)
        t0=$(date +%s)
        echo "build two: a fresh minbase chroot of Debian $release, host name hyperion-repro-two, TZ=America/New_York, LANG=C.UTF-8, umask 0077"
        debootstrap --variant=minbase "$release" "$chroot_dir" "$mirror" >"$tmp/two/debootstrap.out" 2>&1 ||
                { tail -n 20 "$tmp/two/debootstrap.out"; echo "build two: debootstrap failed"; return 1; }
        echo "hyperion-repro-two" >"$chroot_dir/etc/hostname"
        mkdir -p "$chroot_dir$src"
        (cd "$top" && git ls-files -z 2>/dev/null | xargs -0 cp --parents -a -t "$chroot_dir$src" 2>/dev/null) ||
                cp -a "$top/." "$chroot_dir$src"
        rm -rf "$chroot_dir$src/build" "$chroot_dir$src/build-san" "$chroot_dir$src/build-fuzz" "$chroot_dir$src"/hyperion.iso*
        for m in proc sys dev dev/pts run; do mkdir -p "$chroot_dir/$m"; done
        mount -t proc proc "$chroot_dir/proc"
        mount -t sysfs sysfs "$chroot_dir/sys"
        mount --bind /dev "$chroot_dir/dev"
        mount -t devpts devpts "$chroot_dir/dev/pts" -o newinstance,ptmxmode=0666
        mount -t tmpfs tmpfs "$chroot_dir/run"
        t1=$(date +%s)
        echo "build two: the bare system in $((t1 - t0)) s; typing the README's commands:"
        printf '    %s\n' "$readme_cmds"
        unshare --uts -- chroot "$chroot_dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb \
                TZ=America/New_York LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
                /bin/sh -c 'hostname hyperion-repro-two && umask 0077 && cd "$1" && set -e && eval "$2"' sh "$src" "$readme_cmds" \
                >"$tmp/two/build.out" 2>&1 || { tail -n 30 "$tmp/two/build.out"; echo "build two failed"; return 1; }
        t2=$(date +%s)
        cp "$chroot_dir$src/hyperion.iso" "$chroot_dir$src/hyperion.iso.sha256" "$tmp/two/"
        echo "build two: the README's commands in $((t2 - t1)) s, $(cut -d' ' -f1 "$tmp/two/hyperion.iso.sha256");" \
                "make check there: $(grep -c '^PASS' "$tmp/two/build.out") PASS, $(grep -c '^SKIP' "$tmp/two/build.out") SKIP"
}

build_one & one=$!
build_two & two=$!
ok=1
wait $one || ok=0
wait $two || ok=0
[ $ok = 1 ] || { keep=1; echo "make repro: FAIL: a build failed; kept $tmp"; exit 1; }
# The caches and the chroot (GBs) go now: a failed comparison keeps only the ISOs.
for m in dev/pts dev proc sys run; do umount -l "$chroot_dir/$m" 2>/dev/null || true; done
rm -rf --one-file-system "$tmp/one/cache" "$chroot_dir"

echo
if "$bin" --compare "$tmp/one/hyperion.iso" "$tmp/two/hyperion.iso"; then
        echo "make repro: PASS: the two ISOs are identical ($(( $(date +%s) - start )) s)"
else
        keep=1
        echo "make repro: FAIL: the ISOs differ; both are kept in $tmp ($(( $(date +%s) - start )) s)"
        exit 1
fi
