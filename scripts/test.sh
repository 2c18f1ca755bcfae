#!/usr/bin/env bash
# Runs every test of labcam: the Rust tests (through the C ABI), then each suite in
# scripts/test.d/ (C under valgrind, vendor backends against their emulators, the fake GigE
# Vision camera, the C++/MATLAB/LabVIEW bindings). Installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
need_apt gcc valgrind pkg-config

cargo build --workspace --all-targets
cargo test --workspace
for t in scripts/test.d/*.sh; do
    echo
    echo "=== $t"
    bash "$t"
done
echo
echo "all labcam tests passed"
