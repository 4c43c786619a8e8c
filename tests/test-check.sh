#!/bin/sh
# test-check.sh HYPERION-BUILD: the user's view of --check: the shipped
# profile is valid and prints the same bytes every run; a copy with an
# unknown key or a malformed size, in any section, is refused with
# FILE:LINE: and exit status 1.
set -u
bin=$1
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hyperion-check.XXXXXX")
fail() { echo "FAIL  test-check.sh: $*; files kept in $tmp"; exit 1; }

"$bin" --check --profile "$top/profiles/hyperion" >"$tmp/one" 2>"$tmp/err" || fail "the hyperion profile is refused: $(cat "$tmp/err")"
"$bin" --check --profile "$top/profiles/hyperion" >"$tmp/two" || fail "second run"
cmp -s "$tmp/one" "$tmp/two" || fail "two runs printed different bytes"
cmp -s "$tmp/one" "$top/tests/expected/hyperion.profile" || fail "output differs from tests/expected/hyperion.profile"

# For every section header of every file: a copy with a bad key, and one
# with a bad size, right under that header.
n=0
for f in "$top"/profiles/hyperion/*.conf; do
        grep -n '^\[' "$f" | while IFS=: read -r line header; do
                for bad in 'Sise=15G' 'Size=15Q'; do
                        rm -rf "$tmp/p"
                        cp -r "$top/profiles/hyperion" "$tmp/p"
                        name=$(basename "$f")
                        sed -i "${line}a\\$bad" "$tmp/p/$name"
                        want="$tmp/p/$name:$((line + 1)):"
                        st=0
                        "$bin" --check --profile "$tmp/p" >/dev/null 2>"$tmp/err" || st=$?
                        [ $st -ne 0 ] || fail "'$bad' under $header in $name was accepted"
                        [ $st -eq 1 ] || fail "exit status $st for '$bad' under $header (expected 1)"
                        grep -q "^$want " "$tmp/err" || fail "no '$want' message for '$bad' under $header: $(head -n 2 "$tmp/err")"
                done
                n=$((n + 1))
        done || exit 1
done
"$bin" --check --profile "$tmp/nonexistent" >/dev/null 2>&1
[ $? -eq 1 ] || fail "a missing profile folder must exit 1"
"$bin" --no-such-option >/dev/null 2>&1
[ $? -eq 2 ] || fail "a bad option must exit 2"
"$bin" --help | grep -q -- '--check' || fail "--help does not list --check"
rm -rf "$tmp"
echo "PASS  test-check.sh"
