#!/usr/bin/env bash
# Install labcam for C and C++ projects: scripts/install.sh PREFIX  (default /usr/local)
#   PREFIX/lib/liblabcam.so, liblabcam.a
#   PREFIX/include/labcam.h, labcam.hpp
#   PREFIX/lib/cmake/labcam/labcamConfig.cmake, labcamConfigVersion.cmake  (find_package(labcam CONFIG), target labcam::labcam)
#   PREFIX/lib/pkgconfig/labcam.pc
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${1:-/usr/local}
cargo build --release -q -p labcam
T=${CARGO_TARGET_DIR:-target}/release
version=$(grep -m1 '^version' Cargo.toml | sed 's/.*"\(.*\)".*/\1/')
install -d "$prefix/lib" "$prefix/include" "$prefix/lib/cmake/labcam" "$prefix/lib/pkgconfig"
install -m 755 "$T/liblabcam.so" "$prefix/lib/"
install -m 644 "$T/liblabcam.a" "$prefix/lib/"
install -m 644 include/labcam.h bindings/cpp/labcam.hpp "$prefix/include/"
sed "s/@VERSION@/$version/" bindings/cpp/cmake/labcamConfig.cmake.in > "$prefix/lib/cmake/labcam/labcamConfig.cmake"
sed "s/@VERSION@/$version/" bindings/cpp/cmake/labcamConfigVersion.cmake.in > "$prefix/lib/cmake/labcam/labcamConfigVersion.cmake"
cat > "$prefix/lib/pkgconfig/labcam.pc" <<PC
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: labcam
Description: Scientific camera control behind one stable, handle-based C ABI
Version: $version
Libs: -L\${libdir} -llabcam
Libs.private: -lpthread -ldl -lm
Cflags: -I\${includedir}
PC
echo "installed labcam $version into $prefix"
