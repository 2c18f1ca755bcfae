#!/usr/bin/env bash
# The C++ binding: a test program from two translation units and an example, built with
# -std=c++17 -Wall -Wextra -Werror, run under valgrind memcheck.
set -euo pipefail
source scripts/lib.sh
need_apt g++ valgrind
T=$(target_dir)
cargo build -q -p labcam
mkdir -p "$T/cpptest"
flags="-std=c++17 -Wall -Wextra -Werror -pedantic -Iinclude -Ibindings/cpp"
g++ $flags bindings/cpp/tests/test_binding.cpp bindings/cpp/tests/second_tu.cpp \
    -L"$T/debug" -llabcam -Wl,-rpath,"$T/debug" -o "$T/cpptest/test_binding"
g++ $flags bindings/cpp/examples/grab.cpp -L"$T/debug" -llabcam -Wl,-rpath,"$T/debug" -o "$T/cpptest/grab"
vg="valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect -q"
$vg "$T/cpptest/test_binding"
$vg "$T/cpptest/grab" sim | tail -1
