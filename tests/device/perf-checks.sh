#!/usr/bin/env bash
# Run ON THE GPU MACHINE from the repository root (docs/PERFORMANCE.md): the
# CUDA test suite, the benchmark, a sweep of the segment knobs, ncu on chosen
# kernels, compute-sanitizer memcheck/racecheck, writing under $OUT (or
# /tmp/out) and printing the tables last.
#
# Needs a package made HERE by tests/device/prepare.sh (sm_90 build). Only
# bin/iir2d_bench, bin/test_cuda_vs_refcpu, plugin/ and rt/ are used; the
# carry limit is 64 MiB, so copy those into a folder of their own, e.g.
#   mkdir -p .device/perf/bin && cp -r .device/pkg/{rt,plugin} .device/perf/ &&
#   cp .device/pkg/bin/{iir2d_bench,test_cuda_vs_refcpu} .device/perf/bin/
# and run(command="PKG=.device/perf tests/device/perf-checks.sh", carry=[".device/perf"]).
# Args: steps (default: tests bench sweep ncu sanitize).
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# The packed package of prepare.sh (.device/pkg.tar.xz carried): unpack once.
if [ -z "${PKG:-}" ] && [ ! -d "$root/.device/pkg" ] && [ -f "$root/.device/pkg.tar.xz" ]; then
  tar -C "$root/.device" -xJf "$root/.device/pkg.tar.xz"
fi
P=$(cd "${PKG:-$root/.device/pkg}" && pwd)
out=${OUT:-/tmp/out}; mkdir -p "$out"
# shellcheck disable=SC1091
source "$P/rt/env.sh"
export GST_PLUGIN_PATH=$P/plugin GST_DEBUG=${GST_DEBUG:-1}
steps=${*:-tests bench sweep ncu sanitize}
S=(); t0=$(date +%s)
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem,clocks.max.sm --format=csv >"$out/gpu.txt" 2>&1
for st in $steps; do case $st in
tests)
  timeout 330 "$P/bin/test_cuda_vs_refcpu" --gtest_brief=1 >"$out/test_cuda.log" 2>&1; rc=$?
  S+=("tests rc=$rc $(grep -E '^\[  (PASSED|FAILED|SKIPPED) ' "$out/test_cuda.log" | tr '\n' ' ')")
  S+=("$(grep -E 'summary' "$out/test_cuda.log")") ;;
bench)
  timeout 240 "$P/bin/iir2d_bench" --csv "$out/bench.csv" --baseline --compare ${BENCH_ARGS:-} >"$out/bench.txt" 2>&1
  S+=("bench rc=$?") ;;
sweep)
  for a in "" "--row-warps 24 --col-warps 24" "--min-seg 1.0" "--l2-span 512"; do
    echo "== defaults $a" >>"$out/sweep.txt"
    # shellcheck disable=SC2086
    timeout 60 "$P/bin/iir2d_bench" --mode kernel --sizes 4K --types f32,u8,f64 --runs 30 $a 2>&1 | grep -E "^4K " >>"$out/sweep.txt"
  done; S+=("sweep done") ;;
ncu)
  M=gpu__time_duration.sum,dram__bytes_read.sum,dram__bytes_write.sum,dram__throughput.avg.pct_of_peak_sustained_elapsed,lts__t_bytes.sum,sm__warps_active.avg.pct_of_peak_sustained_active,sm__throughput.avg.pct_of_peak_sustained_elapsed,smsp__inst_executed.sum,launch__registers_per_thread
  for c in "f32 1" "f32 2" "f32 4" "f32 5" "f32 6" "u8 1" "u8 6" "f64 1" "f64 6"; do set -- $c
    # The benchmark's warm-up makes 5 calls (10 launches): profile the row and column pass of the next.
    timeout 40 ncu --clock-control none --metrics $M --kernel-name regex:'fast_|scan_' --launch-skip 10 --launch-count 2 --csv \
      "$P/bin/iir2d_bench" --mode kernel --sizes 4K --types "$1" --ids "$2" --runs 1 >"$out/ncu_$1_$2.csv" 2>/dev/null
  done; cat "$out"/ncu_*.csv >"$out/ncu.csv"; rm -f "$out"/ncu_*.csv; S+=("ncu: $(wc -l <"$out/ncu.csv") lines") ;;
sanitize)
  F='*ScanRows.RowLengthsAroundChunks/id6_mirror_iir2d_f32:*ScanRows.RowLengthsAroundChunks/id5_constant_exact_f64:*ScanRows.RowLengthsAroundChunks/id2_wrap_iir2d_mixed:*VideoAligned*id1_mirror_exact_f32_u8:*FastSegments.ShortSegments*id5_mirror_exact_f32*:*FastSegments.ShortSegments*id6_wrap_iir2d_f64*:*FastSegments.ShortSegments*id4_constant_exact_mixed*:*VideoVsRef*id6_mirror_exact_f32_s05_nv12uv*:*VideoAligned*id2_mirror_iir2d_f32_u16*'
  for tool in memcheck racecheck; do
    timeout 150 compute-sanitizer --tool $tool "$P/bin/test_cuda_vs_refcpu" --gtest_brief=1 --gtest_filter="$F" >"$out/$tool.log" 2>&1
    S+=("$tool rc=$? $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$out/$tool.log" | head -1)")
  done ;;
esac; S+=("  [$st done at $(( $(date +%s) - t0 ))s]"); done
cat "$out/gpu.txt"
sed -n '/Kernel time/,$p' "$out/bench.txt" 2>/dev/null
cat "$out/sweep.txt" 2>/dev/null
echo "==== summary"; printf '%s\n' "${S[@]}"
