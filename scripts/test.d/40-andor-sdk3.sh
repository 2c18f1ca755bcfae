#!/usr/bin/env bash
# The andor_sdk3 backend against the SDK3 emulator, through the C ABI and through the CLI.
set -euo pipefail
source scripts/lib.sh
T=$(target_dir)
cargo build -q -p atcore-emulator -p labcam-cli
cargo test -q -p atcore-emulator
cargo test -q --test andor_sdk3
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
LABCAM_ANDOR_SDK3_LIB="$T/debug/libatcore.so" "$T/debug/labcam" grab andor_sdk3:0 -n 500 \
    --roi 0:512,0:256 --exposure 1ms --period 10ms -q -o "$out/a.tif" | tee "$out/log"
grep -q "^500 frames in .* lost_overwritten 0, lost_device 0" "$out/log"
