#!/usr/bin/env bash
# The pvcam backend against the PVCAM emulator, through the C ABI and through the CLI.
set -euo pipefail
source scripts/lib.sh
T=$(target_dir)
cargo build -q -p pvcam-emulator -p labcam-cli
cargo test -q -p pvcam-emulator
cargo test -q --test pvcam
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
LABCAM_PVCAM_LIB="$T/debug/libpvcam.so" "$T/debug/labcam" grab "pvcam:PMPrime95B-Emu0" -n 500 \
    --roi 0:512,0:256 --exposure 5ms -q -o "$out/p.tif" | tee "$out/log"
grep -q "^500 frames in .* lost_overwritten 0, lost_device 0" "$out/log"
