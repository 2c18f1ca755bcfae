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

# Installation: a CMake project with find_package(labcam CONFIG), and pkg-config.
need_apt cmake pkg-config make
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
scripts/install.sh "$prefix"
cmake -S bindings/cpp/tests/consumer -B "$prefix/build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$prefix/build" >/dev/null
"$prefix/build/grab" sim | tail -1
PKG_CONFIG_PATH="$prefix/lib/pkgconfig" g++ -std=c++17 -Wall -Wextra -Werror bindings/cpp/examples/grab.cpp \
    $(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs labcam) -Wl,-rpath,"$prefix/lib" -o "$prefix/grab-pc"
"$prefix/grab-pc" sim | tail -1
