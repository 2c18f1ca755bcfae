#!/usr/bin/env bash
# LabVIEW deliverables: CLFN.md regenerated from the header must match the committed file,
# and the generator must refuse a header with a type a Call Library Function Node cannot pass.
set -euo pipefail
python3 bindings/labview/gen_clfn_table.py --check
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed 's/int32_t labcam_set_log(const char \*path, int32_t level);/int32_t labcam_set_log(const char *path, bool level);/' include/labcam.h > "$tmp/bad.h"
grep -q "bool level" "$tmp/bad.h"
if python3 bindings/labview/gen_clfn_table.py "$tmp/bad.h" "$tmp/out.md" 2>"$tmp/err"; then
    echo "the generator accepted a bool parameter"; exit 1
fi
grep -q "cannot pass" "$tmp/err"
echo "LabVIEW table ok"
