#!/bin/bash
# make repro: the same inputs give the same ISO, bit for bit.
#
# Two builds of profiles/hyperion, each from an empty cache, in different
# folders, under a different host name (a new UTS namespace), time zone,
# locale and umask; then the two ISOs are compared: "identical", or the list
# of files that differ inside the ISO and its root image. Needs root.
# The two builds run at the same time (they share nothing but the mirror).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$top/build/hyperion-build
[ -x "$bin" ] || { echo "build it first: make" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "make repro needs root, like hyperion-build" >&2; exit 1; }
tmp=$(mktemp -d /var/tmp/hyperion-repro.XXXXXX)
keep=0
cleanup() { [ $keep = 1 ] || rm -rf --one-file-system "$tmp"; }
trap cleanup EXIT
start=$(date +%s)

# build NAME HOSTNAME TZ LANG UMASK
build() {
        local name=$1 host=$2 tz=$3 lang=$4 mask=$5 t0 t1
        mkdir -p "$tmp/$name"
        t0=$(date +%s)
        echo "build $name: host name $host, TZ=$tz, LANG=$lang, umask $mask, empty cache $tmp/$name/cache"
        unshare --uts -- env -i PATH="$PATH" TZ="$tz" LANG="$lang" LC_ALL="$lang" \
                "$BASH" -c 'hostname "$1" && umask "$2" && shift 2 && exec "$@"' sh "$host" "$mask" \
                "$bin" --profile "$top/profiles/hyperion" --output "$tmp/$name/hyperion.iso" \
                --cache "$tmp/$name/cache" --work "$tmp/$name/work-$host" --source "$top" \
                >"$tmp/$name/build.out" 2>&1 || { tail -n 30 "$tmp/$name/build.out"; echo "build $name failed"; return 1; }
        t1=$(date +%s)
        echo "build $name: $((t1 - t0)) s, $(cut -d' ' -f1 "$tmp/$name/hyperion.iso.sha256")"
}

build one repro-one Europe/Paris fr_FR.UTF-8 0022 & one=$!
build two hyperion-repro-two America/New_York C.UTF-8 0077 & two=$!
ok=1
wait $one || ok=0
wait $two || ok=0
[ $ok = 1 ] || { keep=1; echo "make repro: FAIL: a build failed; kept $tmp"; exit 1; }
# The caches (GBs) go now: a failed comparison keeps only the ISOs.
rm -rf --one-file-system "$tmp/one/cache" "$tmp/two/cache"

echo
if "$bin" --compare "$tmp/one/hyperion.iso" "$tmp/two/hyperion.iso"; then
        echo "make repro: PASS: the two ISOs are identical ($(( $(date +%s) - start )) s)"
else
        keep=1
        echo "make repro: FAIL: the ISOs differ; both are kept in $tmp ($(( $(date +%s) - start )) s)"
        exit 1
fi
