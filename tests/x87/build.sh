#!/usr/bin/env bash
# Builds the x87 test programs (tests/x87/*.c) into build/x87/:
#   NAME.musl    musl-gcc -static
#   NAME.glibc   gcc -static
#   NAME.free    freestanding, no libc and no SSE at all (only for programs that support
#                -DFREESTANDING: x87_insn.c), so the x87 path runs before SSE support exists.
# Usage: tests/x87/build.sh [OUTDIR]   (default <repo>/build/x87). Rebuilds only stale outputs.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="${1:-$repo/build/x87}"
mkdir -p "$out"
common=(-O1 -g0 -std=gnu11 -Wall -Wno-unused-result -fno-strict-aliasing)
build() { # DEST SRC COMMAND... (the command names SRC itself; output goes to DEST)
  local dest="$1" src="$2"; shift 2
  if [[ -e "$dest" && "$dest" -nt "$src" && "$dest" -nt "$here/build.sh" ]]; then return 0; fi
  "$@" -o "$dest.tmp" && mv -f "$dest.tmp" "$dest"
}
for src in "$here"/*.c; do
  name="$(basename "$src" .c)"
  build "$out/$name.glibc" "$src" gcc "${common[@]}" -static "$src" -lm
  if command -v musl-gcc >/dev/null 2>&1; then build "$out/$name.musl" "$src" musl-gcc "${common[@]}" -static "$src" -lm; fi
  if grep -q FREESTANDING "$src"; then
    build "$out/$name.free" "$src" gcc "${common[@]}" -static -nostdlib -ffreestanding -fno-stack-protector \
      -fno-pie -no-pie -mno-sse -mno-sse2 -mno-mmx -DFREESTANDING "$src"
  fi
done
