#!/bin/bash
# make packages: hyperion's Debian packages, built and installed as an
# administrator would, on this machine's release and on trixie.
#
#   dpkg-buildpackage -b     hyperion-build, hyperion-common,
#                            hyperion-firstboot, hyperion-live
#   lintian                  no error
#   apt install ./hyperion-build_*.deb
#   hyperion-build --check   the default profile, with no option
#
# on this machine (into build/debs/, installed here), and in a fresh minbase
# chroot of trixie (SUITES= to choose; the packages are built there, for
# trixie's libraries). Needs root and the network to the Debian mirror.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "make packages needs root (apt, debootstrap)" >&2; exit 1; }
here=$(. /etc/os-release && echo "$VERSION_CODENAME")
suites=${SUITES:-$here trixie}
tmp=$(mktemp -d /var/tmp/hyperion-packages.XXXXXX)
mounted=()
declare -A bootstrap_pid=()
cleanup() {
        for p in "${bootstrap_pid[@]}"; do kill "$p" 2>/dev/null || true; done
        wait
        for m in "${mounted[@]}"; do umount -l "$m" 2>/dev/null || true; done
        rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT
mirror=$("$top/build/hyperion-build" --print-mirror)
build_deps=$(awk '/^Build-Depends:/ { on = 1; sub(/^Build-Depends:/, ""); print; next } on && /^[ \t]/ { print; next } { on = 0 }' \
        "$top/debian/control" | tr ',' '\n' | sed 's/[(<].*//; s/[[:space:]]//g' | grep -v '^$' | tr '\n' ' ')

# In ROOT (/ or a chroot): the tree at SRC, the packages built, checked, installed, run.
packages_in() {
        local suite=$1 root=$2 src=$3 in=()
        [ "$root" = / ] || in=(chroot "$root")
        local t0
        t0=$(date +%s)
        "${in[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends \
                build-essential debhelper lintian $build_deps >"$tmp/$suite-deps.out" 2>&1 ||
                { tail -n 20 "$tmp/$suite-deps.out"; echo "$suite: the build dependencies do not install"; return 1; }
        "${in[@]}" sh -c 'cd "$1" && rm -rf ../hyperion*_*.deb ../hyperion_*.buildinfo ../hyperion_*.changes &&
                dpkg-buildpackage -b -uc -us' sh "$src" >"$tmp/$suite-build.out" 2>&1 ||
                { tail -n 30 "$tmp/$suite-build.out"; echo "$suite: dpkg-buildpackage failed"; return 1; }
        local debs
        debs=$(cd "$root$src/.." && ls hyperion-*.deb)
        echo "$suite: built in $(( $(date +%s) - t0 )) s:"
        (cd "$root$src/.." && for d in $debs; do printf '    %s  %s\n' "$d" "$(du -h "$d" | cut -f1)"; done)
        "${in[@]}" sh -c 'cd "$1/.." && lintian --fail-on error --suppress-tags-from-file /dev/null hyperion-*.deb' sh "$src" \
                >"$tmp/$suite-lintian.out" 2>&1 || { cat "$tmp/$suite-lintian.out"; echo "$suite: lintian reports errors"; return 1; }
        echo "$suite: lintian: no error ($(grep -c '^W:' "$tmp/$suite-lintian.out" || true) warnings)"
        "${in[@]}" sh -c 'cd "$1/.." && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q ./hyperion-build_*.deb ./hyperion-common_*.deb' \
                sh "$src" >"$tmp/$suite-install.out" 2>&1 ||
                { tail -n 20 "$tmp/$suite-install.out"; echo "$suite: apt install ./hyperion-build_*.deb failed"; return 1; }
        "${in[@]}" sh -c 'cd /tmp && hyperion-build --check >/dev/null && test -d /usr/share/hyperion/source/firstboot &&
                man -w hyperion-build >/dev/null' >"$tmp/$suite-run.out" 2>&1 ||
                { cat "$tmp/$suite-run.out"; echo "$suite: the installed hyperion-build does not take its default profile"; return 1; }
        echo "$suite: apt install ./hyperion-build_*.deb: hyperion-build --check takes /usr/share/hyperion/profiles/hyperion"
        if [ "$root" = / ]; then
                mkdir -p "$top/build/debs"
                (cd "$src/.." && cp $debs "$top/build/debs/")
        fi
}

# The other suites' bare chroots are made (network and disk) while this
# machine's packages build (CPU).
for suite in $suites; do
        [ "$suite" = "$here" ] && continue
        echo "$suite: a fresh minbase chroot (beside the rest)"
        debootstrap --variant=minbase "$suite" "$tmp/$suite" "$mirror" >"$tmp/$suite-debootstrap.out" 2>&1 &
        bootstrap_pid[$suite]=$!
done

status=0
for suite in $suites; do
        if [ "$suite" = "$here" ]; then
                # Here: dpkg-buildpackage writes beside the tree; build in a copy.
                mkdir -p "$tmp/here/src"
                (cd "$top" && git ls-files -z 2>/dev/null | xargs -0 cp --parents -a -t "$tmp/here/src") || cp -a "$top/." "$tmp/here/src"
                packages_in "$suite" / "$tmp/here/src" || status=1
                continue
        fi
        root=$tmp/$suite
        wait "${bootstrap_pid[$suite]}" ||
                { tail -n 20 "$tmp/$suite-debootstrap.out"; echo "$suite: debootstrap failed"; status=1; continue; }
        mkdir -p "$root/srv/src"
        (cd "$top" && git ls-files -z 2>/dev/null | xargs -0 cp --parents -a -t "$root/srv/src") || cp -a "$top/." "$root/srv/src"
        rm -rf "$root/srv/src/build" "$root/srv/src/build-san" "$root/srv/src/build-fuzz"
        for m in proc sys dev; do
                mkdir -p "$root/$m"
                case $m in
                proc) mount -t proc proc "$root/proc" ;;
                sys) mount -t sysfs sysfs "$root/sys" ;;
                dev) mount --bind /dev "$root/dev" ;;
                esac
                mounted=("$root/$m" "${mounted[@]}")
        done
        chroot "$root" apt-get update -q >/dev/null 2>&1 || true
        packages_in "$suite" "$root" /srv/src || status=1
done
[ $status = 0 ] && echo "make packages: PASS" || echo "make packages: FAIL"
exit $status
