#!/usr/bin/env bash
# Run ON THE GPU MACHINE from the repository root, with .device/pkg.tar.xz
# (or .device/pkg) carried (see prepare.sh). Runs the GPU test suites, the element in CUDA pipelines
# and the demo clip through NVDEC, writing logs under $OUT (or /tmp/out).
# Args: a list of steps (default: tests element pipelines clip): also graph, bench
# Env: PKG (the package folder relative to the repository, default
# .device/pkg; .device126/pkg126 for prepare-126.sh's GStreamer 1.26 one),
# RUNNER (starts the package's test binaries: trixie-run for 1.26).
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
pkg=$root/${PKG:-.device/pkg}
runner=${RUNNER:-}
out=${OUT:-/tmp/out}; mkdir -p "$out"
# Carried packed (prepare.sh, prepare-126.sh): unpack once.
if [ ! -d "$pkg" ] && [ -f "$pkg.tar.xz" ]; then tar -C "$(dirname "$pkg")" -xJf "$pkg.tar.xz"; fi
# shellcheck disable=SC1091
source "$pkg/rt/env.sh"
export GST_PLUGIN_PATH=$pkg/plugin
steps=${*:-tests element pipelines clip}
summary=()
note() { summary+=("$1"); }
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt"

for step in $steps; do
case $step in
tests)
  # The qualitymeter suite compares against ffmpeg, which this machine lacks:
  # its ffmpeg cases run in CI; here it checks CUDA against CPU on the clip.
  export IIR2D_CLIP
  IIR2D_CLIP=$(ls "$pkg"/media/*.mp4 | head -n1)
  for t in "$pkg"/bin/test_*; do
    n=$(basename "$t")
    filter=""
    [ "$n" = test_qualitymeter ] && filter="--gtest_filter=-*Ffmpeg*"
    $runner "$t" --gtest_brief=1 $filter >"$out/$n.log" 2>&1; rc=$?
    note "$n: rc=$rc $(grep -E '^\[  (PASSED|FAILED|SKIPPED) ' "$out/$n.log" | tr '\n' ' ')"
  done ;;
element)
  for e in iir2dfilter qualitymeter; do
    gst-inspect-1.0 $e >"$out/inspect-$e.txt" 2>&1
    note "gst-inspect-1.0 $e rc=$? ($(grep -c 'memory:CUDAMemory' "$out/inspect-$e.txt") CUDA caps lines)"
  done ;;
pipelines)
  for p in "videotestsrc num-buffers=300 ! video/x-raw,format=NV12,width=1920,height=1080 ! cudaupload ! iir2dfilter filter-id=6 ! cudadownload ! fakesink" \
           "videotestsrc num-buffers=100 ! video/x-raw,format=I420,width=3840,height=2160 ! cudaupload ! iir2dfilter filter-id=5 planes=all precision=f64 ! cudadownload ! fakesink" \
           "videotestsrc num-buffers=60 pattern=ball ! video/x-raw,format=P010_10LE,width=1920,height=1080,framerate=30/1 ! cudaupload ! iir2dfilter filter-id=6 sigma=3 temporal-mode=adaptive ! cudadownload ! videoconvert ! fakesink" \
           "videotestsrc num-buffers=60 pattern=smpte ! video/x-raw,format=RGBA,width=1280,height=720,framerate=30/1 ! cudaupload ! iir2dfilter filter-id=4 unity-gain=true planes=luma ! cudadownload ! videoconvert ! fakesink"; do
    s=$(date +%s.%N); gst-launch-1.0 -q $p >>"$out/pipelines.log" 2>&1; rc=$?; e=$(date +%s.%N)
    note "rc=$rc $(awk -v a=$s -v b=$e 'BEGIN{printf "%.2fs", b-a}'): gst-launch-1.0 $p"
  done ;;
clip)
  clip=$(ls "$pkg"/media/*.mp4 | head -n1)
  p="filesrc location=$clip ! qtdemux ! h264parse ! nvh264dec ! video/x-raw(memory:CUDAMemory) ! iir2dfilter filter-id=6 ! cudadownload ! videoconvert ! openh264enc bitrate=8000000 ! h264parse ! mp4mux ! filesink location=$out/cockatoo-iir2d.mp4"
  s=$(date +%s.%N); gst-launch-1.0 -q $p >"$out/clip.log" 2>&1; rc=$?; e=$(date +%s.%N)
  note "rc=$rc $(awk -v a=$s -v b=$e 'BEGIN{printf "%.2fs", b-a}') output $(stat -c %s "$out/cockatoo-iir2d.mp4" 2>/dev/null) bytes: gst-launch-1.0 $p" ;;
graph)
  # Issue 9: chains and a 16-stream decode graph, host syncs per frame.
  clip=$(ls "$pkg"/media/*.mp4 | head -n1)
  $runner "$pkg/bin/graph_bench" --clip "$clip" --csv "$out/graph.csv" ${GRAPH_ARGS:-} >"$out/graph.txt" 2>&1
  note "graph_bench rc=$?"
  cat "$out/graph.txt" ;;
bench)
  $runner "$pkg/bin/iir2d_bench" --csv "$out/bench.csv" ${BENCH_ARGS:-} >"$out/bench.txt" 2>&1; note "bench rc=$?"
  cat "$out/bench.txt" ;;
esac
done
echo "==== summary"
printf '%s\n' "${summary[@]}"
