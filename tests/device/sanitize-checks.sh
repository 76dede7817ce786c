#!/usr/bin/env bash
# Run ON THE GPU MACHINE from the repository root, with .device/pkg.tar.xz
# (or .device/pkg) carried (see prepare.sh), issue 10: compute-sanitizer
# memcheck and racecheck over
#   - the element suites' CUDA cases (test_iir2dfilter, test_iir2dfilter_live,
#     test_qualitymeter, test_gst_parts: --gtest_filter on their CUDA tests),
#   - three pipelines: the filter with temporal smoothing on CUDA memory,
#     the meter on CUDA memory (filter on the distorted branch), and frames
#     of a foreign CUDA context (the soak program's --foreign-context: a
#     second pipeline uploads them in its own context).
# Prints, per tool and case, the tool's "ERROR SUMMARY" line and the exit
# status; logs under $OUT (or /tmp/out)/sanitize. Exit status: 0 when every
# run reported 0 errors.
#   run(command="tests/device/sanitize-checks.sh", carry=[".device/pkg.tar.xz"])
# Env: TOOLS (default "memcheck racecheck"), COMPUTE_SANITIZER (the binary;
#      default: on PATH, else /usr/local/cuda/bin/compute-sanitizer),
#      FRAMES (frames per pipeline, default 8: racecheck is slow),
#      CASES (a subset of the cases, in order), IIR2D_FILTER (gtest filter of
#      test_iir2dfilter, default *Cuda*).
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
pkg=$root/.device/pkg
out=${OUT:-/tmp/out}/sanitize; mkdir -p "$out"
if [ ! -d "$pkg" ] && [ -f "$pkg.tar.xz" ]; then tar -C "$root/.device" -xJf "$pkg.tar.xz"; fi
# shellcheck disable=SC1091
source "$pkg/rt/env.sh"
export GST_PLUGIN_PATH=$pkg/plugin
cs=${COMPUTE_SANITIZER:-$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)}
if [ ! -x "$cs" ]; then
  echo "sanitize-checks.sh: compute-sanitizer not found (set COMPUTE_SANITIZER); looked at $cs" >&2
  exit 2
fi
"$cs" --version | tail -n1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
# Build the registry once, outside the sanitizer (gst-plugin-scanner would
# otherwise run under it for every case).
gst-inspect-1.0 iir2dfilter >/dev/null 2>&1
gst-inspect-1.0 qualitymeter >/dev/null 2>&1
n=${FRAMES:-8}
declare -A cases=(
  [test_iir2dfilter]="$pkg/bin/test_iir2dfilter --gtest_filter=${IIR2D_FILTER:-*Cuda*}"
  [test_iir2dfilter_live]="$pkg/bin/test_iir2dfilter_live --gtest_filter=*Cuda*"
  [test_qualitymeter]="$pkg/bin/test_qualitymeter --gtest_filter=*Cuda*:-*Ffmpeg*"
  [test_gst_parts]="$pkg/bin/test_gst_parts --gtest_filter=*OnTheGpu*"
  [pipe_filter_temporal]="gst-launch-1.0 -q videotestsrc num-buffers=$n pattern=ball ! video/x-raw,format=NV12,width=1280,height=720 ! cudaupload ! iir2dfilter filter-id=6 planes=all temporal-mode=adaptive ! cudadownload ! fakesink"
  [pipe_meter_cuda]="gst-launch-1.0 -q videotestsrc num-buffers=$n pattern=ball ! video/x-raw,format=I420,width=1280,height=720,framerate=30/1 ! cudaupload ! tee name=t ! queue ! q.reference t. ! queue ! iir2dfilter temporal-mode=fixed ! q.distorted qualitymeter name=q ! fakesink"
  [pipe_foreign_context]="$pkg/bin/soak --cuda --foreign-context --frames $n --width 1280 --height 720"
)
order=${CASES:-"test_iir2dfilter test_iir2dfilter_live test_qualitymeter test_gst_parts pipe_filter_temporal pipe_meter_cuda pipe_foreign_context"}
status=0
summary=()
for tool in ${TOOLS:-memcheck racecheck}; do
  for c in $order; do
    log=$out/$tool-$c.log
    extra=()
    [ "$tool" = memcheck ] && extra=(--leak-check full)
    s=$(date +%s)
    # shellcheck disable=SC2086
    "$cs" --tool "$tool" "${extra[@]}" --target-processes all --error-exitcode 99 ${cases[$c]} >"$log" 2>&1
    rc=$?
    line=$(grep -oE "(ERROR|RACECHECK) SUMMARY: .*" "$log" | sort -u | paste -sd';' -)
    [ -n "$line" ] || line="(no summary line: see $log)"
    # 99: the tool found errors; other non-zero: the program itself failed.
    [ "$rc" -eq 0 ] || status=1
    summary+=("$(printf '%-10s %-22s rc=%-3s %4ss  %s' "$tool" "$c" "$rc" "$(( $(date +%s) - s ))" "$line")")
    echo "${summary[-1]}"
  done
done
echo "==== compute-sanitizer summary"
printf '%s\n' "${summary[@]}"
exit "$status"
