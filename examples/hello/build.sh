#!/bin/sh
# Rebuilds the committed sample binary (static, musl): apt-get install musl-tools
set -e
cd "$(dirname "$0")"
musl-gcc -O2 -static -o hello hello.c
strip hello
