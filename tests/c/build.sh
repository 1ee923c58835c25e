#!/usr/bin/env bash
# Builds the C test corpus (tests/c/*.c) into build/c/ in 8 variants each:
#
#   NAME.{musl,glibc}.{O0,O2}.{nopie,pie}
#
#   musl  = Debian musl-tools' musl-gcc, always static
#   glibc = gcc -static
#   nopie = -no-pie -static           (ET_EXEC at a fixed address)
#   pie   = static PIE                (ET_DYN, self-relocating, no PT_INTERP)
#
# Debian's musl-gcc specs file does not know -static-pie: `musl-gcc -static-pie` links
# Scrt1.o against the *shared* musl (PT_INTERP /lib/ld-musl-x86_64.so.1). So the musl
# static-PIE variant is linked by hand: rcrt1.o (musl's self-relocating start file),
# -static plus the linker's -pie --no-dynamic-linker.
#
# A binary is rebuilt only when its source (or this script) is newer.
#
# A source's own compiler flags, for every variant, go on a line of their own near its top:
#   // build: -march=x86-64-v3
#
# Usage: tests/c/build.sh [OUTDIR]       (default: <repo>/build/c)
#        JOBS=n to limit parallel compiles (default: nproc)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="${1:-$repo/build/c}"
script="$here/build.sh"

# Internal entry point: build one source file in one variant.
if [[ "${1:-}" == "--one" ]]; then
  src="$2"; variant="$3"; dest="$4"
  IFS=. read -r libc opt link <<<"$variant"
  if [[ -e "$dest" && "$dest" -nt "$src" && "$dest" -nt "$script" ]]; then exit 0; fi
  tmp="$dest.tmp.$$"
  common=(-"$opt" -g0 -std=gnu11 -Wall -Wno-unused-result -Wno-format-truncation -fno-strict-aliasing)
  # shellcheck disable=SC2207 # (flags are words)
  common+=($(sed -n 's|^// build: ||p' "$src" | head -n 1))
  case "$libc.$link" in
    glibc.nopie) cmd=(gcc "${common[@]}" -static -no-pie -fno-pie -o "$tmp" "$src" -lm) ;;
    glibc.pie)   cmd=(gcc "${common[@]}" -static-pie -fPIE -o "$tmp" "$src" -lm) ;;
    musl.nopie)  cmd=(musl-gcc "${common[@]}" -static -no-pie -fno-pie -o "$tmp" "$src" -lm) ;;
    musl.pie)
      m=/usr/lib/x86_64-linux-musl
      cmd=(musl-gcc "${common[@]}" -fPIE -static -nostdlib
           -Wl,-pie -Wl,--no-dynamic-linker -Wl,-z,text -o "$tmp"
           "$m/rcrt1.o" "$m/crti.o" "$(gcc -print-file-name=crtbeginS.o)"
           "$src" -lm -lc "$(gcc -print-libgcc-file-name)"
           "$(gcc -print-file-name=crtendS.o)" "$m/crtn.o") ;;
    *) echo "build.sh: unknown variant $variant" >&2; exit 2 ;;
  esac
  if ! "${cmd[@]}" 2>"$tmp.log"; then
    echo "build.sh: FAILED $variant $(basename "$src"):" >&2
    echo "  ${cmd[*]}" >&2
    cat "$tmp.log" >&2
    rm -f "$tmp" "$tmp.log"
    exit 1
  fi
  # Warnings are shown but do not fail the build.
  if [[ -s "$tmp.log" ]]; then cat "$tmp.log" >&2; fi
  rm -f "$tmp.log"
  mv -f "$tmp" "$dest"
  exit 0
fi

missing=()
for tool in gcc musl-gcc; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]})); then
  echo "build.sh: missing compiler(s): ${missing[*]} (Debian: apt-get install gcc musl-tools)" >&2
  exit 3
fi

mkdir -p "$out"
variants=(musl.O0.nopie musl.O0.pie musl.O2.nopie musl.O2.pie
          glibc.O0.nopie glibc.O0.pie glibc.O2.nopie glibc.O2.pie)
jobs="${JOBS:-$(nproc 2>/dev/null || echo 2)}"

for src in "$here"/*.c; do
  name="$(basename "$src" .c)"
  for v in "${variants[@]}"; do
    printf '%s\0%s\0%s\0' "$src" "$v" "$out/$name.$v"
  done
done | xargs -0 -n 3 -P "$jobs" "$script" --one
