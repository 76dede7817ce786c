#!/usr/bin/env bash
# Run ON THE GPU MACHINE from the repository root (issue 15): the CUDA suites
# (test_cuda_vs_refcpu in 8 parallel shards, test_cuda_frame), the kernel
# benchmark with path 'before' (the tiled column pass) beside the default in
# the same run, a sweep of the scan column pass's blocks per SM and ncu's DRAM
# bytes of the column passes. Needs a folder made HERE (sm_90 build):
#   mkdir -p .device/perfN/bin && cp build/tests/cuda/test_cuda_{vs_refcpu,frame} build/tests/bench/iir2d_bench .device/perfN/bin/
#   bash ../shared/tools/gst-device-bundle.sh .device/perfN/rt .device/perfN/bin/* && strip --strip-unneeded .device/perfN/bin/*
#   (cd .device && tar -cJf perfN.tar.xz perfN)
# then run(command="PKG=perfN tests/device/colscan-checks.sh", carry=[".device/perfN.tar.xz"]).
# Args: steps (default: tests bench sweep ncu).
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
name=${PKG:?PKG=folder name under .device}
[ -d "$root/.device/$name" ] || tar -C "$root/.device" -xJf "$root/.device/$name.tar.xz"
P=$root/.device/$name
out=${OUT:-/tmp/out}; mkdir -p "$out"
# shellcheck disable=SC1091
source "$P/rt/env.sh"
steps=${*:-tests bench sweep ncu}
S=(); t0=$(date +%s)
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv,noheader >"$out/gpu.txt" 2>&1
for st in $steps; do case $st in
tests)
  for i in 0 1 2 3 4 5 6 7; do
    GTEST_TOTAL_SHARDS=8 GTEST_SHARD_INDEX=$i timeout 400 "$P/bin/test_cuda_vs_refcpu" --gtest_brief=1 >"/tmp/vs_$i.log" 2>&1 &
  done
  timeout 400 "$P/bin/test_cuda_frame" --gtest_brief=1 >/tmp/frame.log 2>&1 &
  wait
  cat /tmp/vs_*.log >"$out/test_cuda_vs_refcpu.log"; cp /tmp/frame.log "$out/test_cuda_frame.log"
  for f in "$out/test_cuda_vs_refcpu.log" "$out/test_cuda_frame.log"; do
    S+=("$(basename "$f"): $(grep -E '^\[  PASSED' "$f" | awk '{s+=$4} END {print s+0}') passed, $(grep -E '^\[  SKIPPED' "$f" | awk '{s+=$4} END {print s+0}') skipped, $(grep -cE '^\[  FAILED  \] [A-Za-z]' "$f") failed")
  done
  grep -E '^\[  FAILED  \] [A-Za-z]' "$out/test_cuda_vs_refcpu.log" "$out/test_cuda_frame.log" | head -20 ;;
bench)
  timeout 300 "$P/bin/iir2d_bench" --mode kernel --before --csv "$out/bench.csv" ${BENCH_ARGS:-} >"$out/bench.txt" 2>&1
  S+=("bench rc=$?") ;;
sweep)
  for b in 1 2 4 8; do
    echo "== --col-bps $b" >>"$out/sweep.txt"
    timeout 60 "$P/bin/iir2d_bench" --mode kernel --sizes 4K --types u8,f32 --ids 1,3,5,6 --runs 30 --col-bps $b 2>&1 | grep -E "^4K " >>"$out/sweep.txt"
  done; S+=("sweep done") ;;
ncu)
  M=gpu__time_duration.sum,dram__bytes_read.sum,dram__bytes_write.sum,dram__throughput.avg.pct_of_peak_sustained_elapsed,lts__t_bytes.sum,sm__warps_active.avg.pct_of_peak_sustained_active,launch__registers_per_thread
  for c in "f32 1" "u8 1" "u8 6" "u16 1"; do set -- $c
    timeout 60 ncu --clock-control none --metrics $M --kernel-name regex:'fast_|scan_' --launch-skip 10 --launch-count 2 --csv \
      "$P/bin/iir2d_bench" --mode kernel --sizes 4K --types "$1" --ids "$2" --runs 1 2>/dev/null | grep -v '^==' >>"$out/ncu.csv"
  done; S+=("ncu: $(wc -l <"$out/ncu.csv" 2>/dev/null) lines") ;;
esac; S+=("  [$st done at $(( $(date +%s) - t0 ))s]"); done
cat "$out/gpu.txt"
sed -n '/Kernel time/,$p' "$out/bench.txt" 2>/dev/null
cat "$out/sweep.txt" 2>/dev/null
echo "==== summary"; printf '%s\n' "${S[@]}"
