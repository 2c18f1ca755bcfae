#!/usr/bin/env bash
# The MATLAB package (bindings/matlab/+labcam) run in GNU Octave, through this project's
# loadlibrary/calllib for Octave (bindings/matlab/octave, a MEX file over libffi).
set -euo pipefail
source scripts/lib.sh
need_apt octave liboctave-dev libffi-dev
T=$(target_dir)
cargo build -q -p labcam
mkoctfile --mex -o bindings/matlab/octave/labcam_ffi.mex bindings/matlab/octave/labcam_ffi.c -lffi -ldl
LABCAM_LIB="$T/debug/liblabcam.so" LABCAM_HEADER="$PWD/include/labcam.h" \
    octave --no-gui --no-window-system --quiet bindings/matlab/tests/run_tests.m
