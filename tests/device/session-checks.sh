#!/usr/bin/env bash
# Run ON THE GPU MACHINE from the repository root: one session's GPU
# evidence in a few device calls (each under the device tool's 10 minutes).
#   session-checks.sh suites PKG LABEL [RUNNER]
#       every test binary of the package at once (GPU cases included; the
#       qualitymeter ffmpeg cases need ffmpeg, absent there), the clip
#       through nvh264dec, graph_bench, and stream-checks.sh (decoded frames
#       against the CPU path, idle and under load)
#   session-checks.sh extra PKG LABEL
#       the element benchmark at 4K/8K, qualitymeter_bench on CUDA memory,
#       the soak on CUDA memory and compute-sanitizer (sanitize-checks.sh)
# PKG: .device/pkg (prepare.sh, GStreamer 1.22) or .device126/pkg126
# (prepare-126.sh, 1.26, RUNNER=trixie-run). Logs under $OUT/LABEL.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
part=$1; pkg=$root/$2; label=$3; runner=${4:-}
out=${OUT:-/tmp/out}/$label; mkdir -p "$out"
[ -d "$pkg" ] || tar -C "$(dirname "$pkg")" -xJf "$pkg.tar.xz"
# shellcheck disable=SC1091
source "$pkg/rt/env.sh"
export GST_PLUGIN_PATH=$pkg/plugin
clip=$(ls "$pkg"/media/*.mp4 | head -n1)
export IIR2D_CLIP=$clip
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
echo "GStreamer: $(gst-launch-1.0 --version | sed -n 2p)"
gst-inspect-1.0 iir2dfilter >/dev/null 2>&1  # the registry, once
case $part in
suites)
  for t in "$pkg"/bin/test_*; do
    n=$(basename "$t"); f=""
    [ "$n" = test_qualitymeter ] && f="--gtest_filter=-*Ffmpeg*:*Ladder*"
    (timeout 420 $runner "$t" --gtest_brief=1 $f >"$out/$n.log" 2>&1; echo "rc=$?" >>"$out/$n.log") &
  done
  wait
  for t in "$pkg"/bin/test_*; do
    n=$(basename "$t")
    echo "$n: $(tail -n1 "$out/$n.log") $(grep -E '^\[  (PASSED|FAILED|SKIPPED) ' "$out/$n.log" | tr '\n' ' ')"
    grep -E '^\[  FAILED  \] ' "$out/$n.log" | head -n 8
  done
  timeout 120 $runner "$pkg/bin/graph_bench" --clip "$clip" --csv "$out/graph.csv" >"$out/graph.txt" 2>&1
  echo "graph_bench rc=$?"; cat "$out/graph.txt"
  OUT=$out CLIP=$clip CASES=${CASES:-"id1 id6 id6x2"} timeout 300 bash "$root/tests/device/stream-checks.sh" "$pkg" streams $runner
  ;;
extra)
  timeout 90 $runner "$pkg/bin/iir2d_bench" --mode element --sizes ${ELEMENT_SIZES:-4K} --csv "$out/element.csv" >"$out/element.txt" 2>&1
  echo "element bench rc=$?"; cat "$out/element.txt"
  timeout 60 $runner "$pkg/bin/qualitymeter_bench" --cuda --frames 30 --csv "$out/qm-cuda.csv" >"$out/qm.txt" 2>&1
  echo "qualitymeter_bench rc=$?"; tail -n 20 "$out/qm.txt"
  timeout 60 $runner "$pkg/bin/soak" --cuda --frames "${SOAK_FRAMES:-5000}" >"$out/soak.txt" 2>&1
  echo "soak rc=$?"; tail -n 12 "$out/soak.txt"
  OUT=$out FRAMES=4 IIR2D_FILTER="${IIR2D_FILTER:-*CudaOutput*/NV12_64x48:*CudaOutput*/I420_10LE_33x17}" \
    timeout 200 bash "$root/tests/device/sanitize-checks.sh" 2>&1 | tail -n 20
  ;;
esac
