#!/usr/bin/env bash
# The C program in tests/c/: strict C99 against the generated header and the shared
# library, run under valgrind memcheck (zero errors, zero leaks).
set -euo pipefail
source scripts/lib.sh
need_apt gcc valgrind
T=$(target_dir)
cargo build -q -p labcam
mkdir -p "$T/ctest"
gcc -std=c99 -Wall -Wextra -Werror -pedantic -Iinclude tests/c/acquisition.c \
    -L"$T/debug" -llabcam -Wl,-rpath,"$T/debug" -o "$T/ctest/acquisition"
valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --show-leak-kinds=definite,indirect -q "$T/ctest/acquisition"
