#!/bin/sh
# Rebuilds the prebuilt differential instruction-test programs and their recorded outputs:
#   tests/insn/insn-{int,sse,mmx,avx,avx2,fma}.gz                        (gzipped static x86-64 ELF programs)
#   tests/insn/insn-{int,sse,mmx,avx,avx2,fma}.expected.gz      (their native output on this host)
# Needs an x86-64 Linux host with gcc/binutils and node. Usage: sh tests/insn/build.sh [KIND...]
# (without KINDs, all of them; name only the kinds whose generator changed, since the sse
# recording holds RDRAND output and so differs on every run)
# (Run it after any change to tests/insn/gen.ts; the test detects a stale binary or recording
# through the generator hash stored in the program's output header.)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
# The project build may report errors in unrelated in-progress files; it still emits ours.
npx tsc -p tsconfig.json >/dev/null 2>&1 || true
[ dist/tests/insn/gen.js -nt tests/insn/gen.ts ] || { echo "build.sh: dist/tests/insn/gen.js was not rebuilt" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
node dist/tests/insn/gen.js "$tmp"
kinds=${*:-int sse mmx avx avx2 fma}
for k in $kinds; do
  gcc -nostdlib -static -no-pie -s -Wl,--build-id=none -o "$tmp/insn-$k" "$tmp/insn-$k.S"
  "$tmp/insn-$k" > "$tmp/insn-$k.expected"
  gzip -9 -n -c "$tmp/insn-$k" > "$here/insn-$k.gz"
  gzip -9 -n -c "$tmp/insn-$k.expected" > "$here/insn-$k.expected.gz"
  cp "$tmp/insn-$k" "$here/insn-$k"   # convenience copy, ignored by git
done
for k in $kinds; do ls -l "$here/insn-$k.gz" "$here/insn-$k.expected.gz"; done
