#!/usr/bin/env bash
# The CLI as a user runs it: grab from the simulated camera into a TIFF, check the file,
# and check that errors print the status name and exit non-zero.
set -euo pipefail
source scripts/lib.sh
T=$(target_dir)
cargo build -q -p labcam-cli
labcam="$T/debug/labcam"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$labcam" grab sim -n 20 --roi 0:256,0:128 --bin 2,2 --exposure 1ms --period 5ms -q -o "$out/g.tif" | tee "$out/log"
grep -q "^20 frames in .* lost_overwritten 0, lost_device 0" "$out/log"
# Walk the TIFF directories: N pages of WxH 16-bit pixels, page k holding frame k (its first
# pixels from the sim formula, x stepping by the binning).
check_tiff() {
python3 - "$@" <<'PY'
import struct, sys
path, n_want, w_want, h_want, xstep = sys.argv[1], *map(int, sys.argv[2:])
d = open(path, "rb").read()
assert d[:4] == b"II*\x00", d[:4]
off = struct.unpack_from("<I", d, 4)[0]
pages = 0
while off:
    n = struct.unpack_from("<H", d, off)[0]
    tags = {}
    for i in range(n):
        tag, typ, cnt, val = struct.unpack_from("<HHII", d, off + 2 + 12 * i)
        if typ == 3 and cnt == 1:
            val &= 0xFFFF
        tags[tag] = (typ, cnt, val)
    w, h, bits = tags[256][2], tags[257][2], tags[258][2]
    assert (w, h, bits) == (w_want, h_want, 16), (w, h, bits)
    typ, cnt, val = tags[273]
    strip = val if cnt == 1 else struct.unpack_from("<I", d, val)[0]
    px = struct.unpack_from("<4H", d, strip)
    want = tuple((xstep * i + 7919 * pages) % 65536 for i in range(4))
    assert px == want, ("page", pages, "holds another frame", px, want)
    pages += 1
    off = struct.unpack_from("<I", d, off + 2 + 12 * n)[0]
assert pages == n_want, pages
print("TIFF ok:", pages, "pages, frames 0 to", pages - 1)
PY
}
check_tiff "$out/g.tif" 20 128 64 2
# An unpaced camera far faster than the TIFF writer: the sequence stops after n frames, so
# the file holds frames 0..n-1, none overwritten.
"$labcam" grab sim -n 60 --roi 0:256,0:256 --attr RealTimePacing=false -q -o "$out/u.tif" | tee "$out/log"
grep -q "^60 frames in .* lost_overwritten 0, lost_device 0" "$out/log"
check_tiff "$out/u.tif" 60 256 256 1
if "$labcam" grab sim -n 0 -o "$out/zero.tif" 2>"$out/err"; then echo "-n 0 must fail"; exit 1; fi
grep -q "0 is not in 1" "$out/err"
if "$labcam" grab sim -n 5 --roi 0:5000,0:10 -o "$out/bad.tif" 2>"$out/err"; then
    echo "a bad ROI must fail"; exit 1
fi
grep -q "INVALID_ARGUMENT" "$out/err"
if "$labcam" info nosuch:0 2>"$out/err"; then echo "unknown backend must fail"; exit 1; fi
grep -q "NOT_FOUND" "$out/err"
"$labcam" attrs sim > "$out/attrs"
grep -q "^Gain .*ENUM .*RW .*Medium .*Low | Medium | High" "$out/attrs"
# A reader that goes away early does not make labcam fail loudly.
first=$( ("$labcam" attrs sim 2>"$out/pipe-err" || true) | head -1 )
[[ "$first" == NAME* ]]
! grep -q "panicked" "$out/pipe-err"
[ "$("$labcam" get sim SerialNumber)" = "SIM-00000" ]
echo "CLI ok"
