#!/usr/bin/env bash
# Run ON THE GPU MACHINE (issue 9): are CUDA frames read only once they are
# complete? Decodes the real clip with nvh264dec into iir2dfilter on CUDA
# memory (no queue in front), downloads every frame and compares it with
# the CPU path filtering the same decoded frames; each case once on an idle
# GPU and three times while two other CUDA processes keep it busy (where an
# unsynchronised read shows). Also counts host synchronisations per frame
# in a chain of two filters, and runs qualitymeter's CUDA-vs-CPU case under
# load.
#
# Args: PKG LABEL [RUNNER]: PKG holds rt/ (rt/env.sh) and plugin/ and bin/
# (a package of prepare.sh, or the trixie bundle of DEVICE_RECIPE_126.md);
# RUNNER starts the package's test binaries (trixie-run for the trixie
# bundle). The clip is $CLIP. Writes under $OUT/LABEL; prints a table.
# CASES and RUNS narrow the cases (id1 id6 id6x2 id1-queue) and runs
# (idle load1 load2 load3); EXTRAS=0 leaves out the chain and the meter;
# PLUGIN_DIR takes the plugin from elsewhere.
set -uo pipefail
P=$(cd "$1" && pwd); label=$2; runner=${3:-}
out=${OUT:-/tmp/out}/$label; mkdir -p "$out"
# shellcheck disable=SC1091
source "$P/rt/env.sh"
export GST_PLUGIN_PATH=${PLUGIN_DIR:-$P/plugin}  # PLUGIN_DIR: another build of the plugin, e.g. an older one
clip=${CLIP:?set CLIP to the H.264 clip}
W=1280 H=720
dec="filesrc location=$clip ! qtdemux ! h264parse ! nvh264dec"
raw="video/x-raw,format=NV12,width=$W,height=$H"
load() { for i in 1 2; do $runner "$P/bin/test_cuda_vs_refcpu" --gtest_repeat=-1 --gtest_filter='*Video*' >/dev/null 2>&1 & done; }
unload() { pkill -f test_cuda_vs_refcpu; wait 2>/dev/null; }
compare() {  # reference file, candidate file -> "frames differing largest"
  python3 - "$1" "$2" "$((W * H * 3 / 2))" <<'PY'
import sys, numpy as np
a = np.fromfile(sys.argv[1], np.uint8); b = np.fromfile(sys.argv[2], np.uint8); n = int(sys.argv[3])
if a.size != b.size or a.size % n: print(a.size // n, "size-mismatch", b.size // n); sys.exit()
d = np.abs(a.reshape(-1, n).astype(np.int16) - b.reshape(-1, n).astype(np.int16)).max(axis=1)
print(d.size, int((d > 1).sum()), int(d.max()))
PY
}
declare -A chain=(
  [id1]="iir2dfilter filter-id=1"
  [id6]="iir2dfilter filter-id=6"
  [id6x2]="iir2dfilter filter-id=6 ! iir2dfilter filter-id=6"
  [id1-queue]="queue max-size-buffers=1 ! iir2dfilter filter-id=1"
)
rows=("case run frames differing(>1) largest")
for c in ${CASES:-id1 id6 id6x2 id1-queue}; do
  f=${chain[$c]}
  cpu=${f//queue max-size-buffers=1 ! /}
  gst-launch-1.0 -q $dec ! cudadownload ! $raw ! $cpu ! filesink location="$out/ref.nv12" || rows+=("$c cpu-reference failed")
  for run in ${RUNS:-idle load1 load2 load3}; do
    [ $run = idle ] || { load; sleep 2; }
    gst-launch-1.0 -q $dec ! "video/x-raw(memory:CUDAMemory)" ! $f ! cudadownload ! $raw ! filesink location="$out/gpu.nv12" \
      >"$out/$c-$run.log" 2>&1 || rows+=("$c $run pipeline-failed")
    [ $run = idle ] || unload
    rows+=("$c $run $(compare "$out/ref.nv12" "$out/gpu.nv12")")
  done
done
rm -f "$out"/*.nv12
if [ "${EXTRAS:-1}" = 1 ]; then
# Host synchronisations per frame in a chain of two filters (debug log of the CUDA session).
GST_DEBUG=iir2dcuda:6 GST_DEBUG_NO_COLOR=1 gst-launch-1.0 -q videotestsrc num-buffers=100 ! video/x-raw,format=NV12,width=3840,height=2160 \
  ! cudaupload ! iir2dfilter name=f1 ! iir2dfilter name=f2 ! cudadownload ! fakesink 2>"$out/chain.log"
for e in f1 f2; do
  rows+=("chain $e host-syncs: $(grep "<$e>" "$out/chain.log" | grep -o '([0-9]* of [0-9]* frames host-synchronised)' | tail -1)")
done
# qualitymeter: CUDA against CPU on the clip's frames, under load.
load; sleep 2
IIR2D_CLIP=$clip $runner "$P/bin/test_qualitymeter" --gtest_brief=1 --gtest_filter='*QualityMeterCuda*' >"$out/meter-load.log" 2>&1
rows+=("qualitymeter CUDA-vs-CPU under load rc=$? $(grep -E '^\[  (PASSED|FAILED) ' "$out/meter-load.log" | tr '\n' ' ')")
unload
fi
echo "==== $label ($(gst-launch-1.0 --version | sed -n 2p))"
printf '%s\n' "${rows[@]}" | tee "$out/table.txt"
