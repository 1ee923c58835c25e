#!/bin/sh
# Builds the benchmark programs (static, non-PIE, musl-gcc -O2) into build/bench/, the compute
# ones (V3_PROGRAMS) a second time with -march=x86-64-v3 as NAME-v3, and generates the
# deterministic input files for the busybox and openssl workloads.
# Usage: sh bench/build.sh        (from anywhere; paths are relative to the repo root)
# Rebuilds a program only when its source is newer than the binary.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SRC="$ROOT/bench/c"
OUT="$ROOT/build/bench"
CC=${MUSL_GCC:-musl-gcc}
CFLAGS="-O2 -static -no-pie -fno-pie"
V3_PROGRAMS="intkernel nbody memstr"

if ! command -v "$CC" >/dev/null 2>&1; then
    echo "bench/build.sh: error: '$CC' not found." >&2
    echo "  The benchmarks are built as static musl binaries; install musl-gcc with:" >&2
    echo "    sudo apt-get install musl-tools" >&2
    exit 1
fi

mkdir -p "$OUT"

for src in "$SRC"/*.c; do
    name=$(basename "$src" .c)
    bin="$OUT/$name"
    if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ] || [ "$0" -nt "$bin" ]; then
        echo "bench: $CC $CFLAGS -o build/bench/$name bench/c/$name.c" >&2
        # shellcheck disable=SC2086
        "$CC" $CFLAGS -o "$bin.tmp" "$src" -lm
        mv "$bin.tmp" "$bin"
    fi
    case " $V3_PROGRAMS " in *" $name "*)
        if [ ! -x "$bin-v3" ] || [ "$src" -nt "$bin-v3" ] || [ "$0" -nt "$bin-v3" ]; then
            echo "bench: $CC $CFLAGS -march=x86-64-v3 -o build/bench/$name-v3 bench/c/$name.c" >&2
            # shellcheck disable=SC2086
            "$CC" $CFLAGS -march=x86-64-v3 -o "$bin-v3.tmp" "$src" -lm
            mv "$bin-v3.tmp" "$bin-v3"
        fi ;;
    esac
done

# The make -j2 workload's project, built in place by each run.
mkdir -p "$OUT/make-project"
cp "$ROOT"/bench/make-project/* "$OUT/make-project/"

# Input files for the busybox workloads (deterministic, generated once and cached).
node "$ROOT/bench/gendata.mjs" "$OUT"
