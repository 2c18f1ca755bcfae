#!/usr/bin/env bash
# The aravis backend against the Aravis fake GigE Vision camera, a separate process speaking
# GigE Vision on 127.0.0.1 (one test replaces it by its own instance, which it unplugs, then
# starts a fresh one).
set -euo pipefail
source scripts/lib.sh
need_apt aravis-tools libaravis-0.8-0
T=$(target_dir)
pkill -f arv-fake-gv-camera-0.8 2>/dev/null || true
arv-fake-gv-camera-0.8 -i 127.0.0.1 >/tmp/labcam-fake-gv.log 2>&1 &
trap 'pkill -f arv-fake-gv-camera-0.8 2>/dev/null || true' EXIT
cargo build -q -p labcam-cli
for i in $(seq 50); do
    "$T/debug/labcam" list aravis 2>/dev/null | grep -q "aravis:Aravis-Fake-GV01" && break
    sleep 0.2
done
"$T/debug/labcam" list aravis
LABCAM_TEST_ARAVIS=1 cargo test -q --test aravis
# The acceptance check: 200 frames from the fake camera into a TIFF, no loss.
out=$(mktemp -d)
"$T/debug/labcam" grab aravis:127.0.0.1 -n 200 -q -o "$out/f.tif" | tee "$out/log"
grep -q "^200 frames in .* lost_overwritten 0, lost_device 0" "$out/log"
rm -rf "$out"
