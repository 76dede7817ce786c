#!/usr/bin/env bash
# GPU check of qualitymeter: the CUDA quality kernels against the CPU
# reference (test_quality_cuda), and the CUDA meter against the CPU meter on
# the same frames, plus every other element test but the ffmpeg ones (the GPU
# machine has no ffmpeg): test_qualitymeter.
#
#   Here (no GPU needed):  tests/qualitymeter-device.sh prepare
#     builds an sm_90-only tree (BUILD_DIR, default <repo>/build-qm-device)
#     and gathers plugin, test binaries, the demo clip and Debian's GStreamer
#     runtime into <repo>/.device/qm (ignored by git, about 40 MB).
#   There, with the device tool:
#     run(command="tests/qualitymeter-device.sh run", carry=[".device/qm"])
#     logs under $OUT; exit status 0 when every test passed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
pkg=$root/.device/qm
case ${1:-} in
  prepare)
    build=${BUILD_DIR:-$root/build-qm-device}
    [ -f "$build/build.ninja" ] ||
      meson setup "$build" "$root" -Dcuda=enabled -Dcuda-archs=90 -Dcuda-ptx=false >/dev/null
    ninja -C "$build" gst/libgstiir2d.so tests/test_quality_cuda tests/test_qualitymeter >/dev/null
    rm -rf "$pkg"
    mkdir -p "$pkg/bin" "$pkg/plugin" "$pkg/media"
    cp "$build/gst/libgstiir2d.so" "$pkg/plugin/"
    cp "$build/tests/test_quality_cuda" "$build/tests/test_qualitymeter" "$pkg/bin/"
    cp "$("$root/pipelines/fetch-clip.sh")" "$pkg/media/cockatoo-420.mp4"
    bash "${GST_DEVICE_BUNDLE:-$root/../shared/tools/gst-device-bundle.sh}" "$pkg/rt" \
      "$pkg/plugin/libgstiir2d.so" "$pkg"/bin/* >/dev/null
    strip --strip-unneeded "$pkg"/bin/* "$pkg"/plugin/*.so 2>/dev/null || true
    du -sh "$pkg"
    ;;
  run)
    # shellcheck disable=SC1091
    source "$pkg/rt/env.sh"
    export GST_PLUGIN_PATH=$pkg/plugin IIR2D_CLIP=$pkg/media/cockatoo-420.mp4
    out=${OUT:-/tmp/out}
    mkdir -p "$out"
    nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"
    gst-inspect-1.0 qualitymeter >"$out/inspect-qualitymeter.txt" 2>&1
    echo "gst-inspect-1.0 qualitymeter: $(grep -c 'memory:CUDAMemory' "$out/inspect-qualitymeter.txt") CUDA caps lines"
    rc=0
    "$pkg/bin/test_quality_cuda" >"$out/test_quality_cuda.log" 2>&1 || rc=1
    "$pkg/bin/test_qualitymeter" --gtest_filter='-*Ffmpeg*' >"$out/test_qualitymeter.log" 2>&1 || rc=1
    for log in "$out/test_quality_cuda.log" "$out/test_qualitymeter.log"; do
      echo "==== $(basename "$log")"
      grep -E '^\[ (quality|cuda) +\]|^\[  (PASSED|SKIPPED|FAILED) +\]|Failure|^\[==========\] [0-9]+ tests' "$log" || true
    done
    exit $rc
    ;;
  *)
    echo "usage: $0 prepare|run" >&2
    exit 2
    ;;
esac
