#!/usr/bin/env bash
# Run ON THE GPU MACHINE from the repository root (issue 15, rounds 6 and 7):
# kernel benchmark sweeps of the band size (--band-mb) and of the scan column
# pass's blocks per SM at 4K and 8K (sweep), ncu's DRAM bytes of a whole call
# (row and column kernels, application replay without cache flushes, so that
# what the row pass leaves in L2 counts), the element benchmark, the scan row
# pass's segments per row (rows: --row-scan-warps N over WARPS, 0: one warp
# per row; $OUT/rowseg.csv has the CSV rows with N in front, printed as one
# line per case of the precisions in PRECS, default f32) and the host's view
# of one synchronised call (sync: path 'sync' beside 'fast').
#   band-checks.sh PKG [steps]   (PKG: .device/pkg from prepare.sh;
#                                 steps: sweep ncu element rows sync; default the first three)
# Logs under $OUT (or /tmp/out). Each benchmark runs alone on the GPU.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
pkg=$root/$1; shift
out=${OUT:-/tmp/out}; mkdir -p "$out"
[ -d "$pkg" ] || tar -C "$(dirname "$pkg")" -xJf "$pkg.tar.xz"
# shellcheck disable=SC1091
source "$pkg/rt/env.sh"
export GST_PLUGIN_PATH=$pkg/plugin
B=$pkg/bin/iir2d_bench
steps=${*:-sweep ncu element}
for st in $steps; do case $st in
sweep)
  for sz in ${SIZES:-4K 8K}; do for bps in ${BPS:-4 8}; do for mb in ${BANDS:-0 12 24 48}; do
    echo "== $sz --col-bps $bps --band-mb $mb" | tee -a "$out/sweep.txt"
    timeout 90 "$B" --mode kernel --sizes "$sz" --types ${TYPES:-u8,u16,f32} --ids ${IDS:-1,3,5,6} --runs 30 \
      --col-bps "$bps" --band-mb "$mb" 2>&1 | grep -E "^$sz " | tee -a "$out/sweep.txt"
  done; done; done ;;
ncu)
  M=gpu__time_duration.sum,dram__bytes_read.sum,dram__bytes_write.sum
  # "size type id band-MiB skip count": skip the first calls' launches (2 per call whole, 2 per band banded) of
  # precision f32, the first in the benchmark's order, and profile two calls.
  for c in ${NCU_CASES:-"4K u8 1 0 6 4" "4K f32 1 0 6 4" "4K u8 6 0 6 4" "8K u8 1 0 6 4" "8K u8 1 32 24 16"}; do
    set -- $c
    echo "== ncu $c" >>"$out/ncu.txt"
    timeout 120 ncu --replay-mode application --cache-control none --clock-control none --metrics $M \
      --kernel-name regex:'fast_|scan_' --launch-skip "$5" --launch-count "$6" --csv \
      "$B" --mode kernel --sizes "$1" --types "$2" --ids "$3" --band-mb "$4" --runs 3 2>/dev/null | grep -v '^==' >>"$out/ncu.txt"
  done
  python3 - "$out/ncu.txt" <<'PY' | tee "$out/ncu-sum.txt"
import csv, sys, collections, re
case=None; acc=collections.OrderedDict()
for line in open(sys.argv[1]):
    if line.startswith('== ncu'): case=line[7:].strip(); acc[case]=collections.defaultdict(float); continue
    r=next(csv.reader([line]))
    if len(r) < 15 or r[0] == 'ID': continue
    name, unit, val = r[-3], r[-2], r[-1].replace(',', '')
    try: v=float(val)
    except ValueError: continue
    scale={'byte':1,'Kbyte':1e3,'Mbyte':1e6,'Gbyte':1e9,'nsecond':1e-3,'usecond':1,'msecond':1e3}.get(unit,1)
    m=re.search(r'(\w+_kernel)', r[4]); k=m.group(1) if m else r[4][:30]
    acc[case][(k, name)] += v*scale
    if name.startswith('gpu__time'): acc[case][(k, 'launches')] += 1
for c, d in acc.items():
    print('==', c, '(sums over the profiled launches; bytes, us)')
    for (k, n), v in d.items(): print('  %-28s %-24s %14.1f' % (k, n, v))
PY
  ;;
element)
  timeout 120 "$B" --mode element --sizes ${ELEMENT_SIZES:-4K,8K} --band-mb "${ELEMENT_BAND:-0}" >"$out/element.txt" 2>&1
  sed -n '/iir2dfilter on NV12/,$p' "$out/element.txt" ;;
rows)
  : >"$out/rowseg.csv"
  for n in ${WARPS:-0 16 24 32 48 64}; do
    rm -f "$out/rowseg-one.csv"
    if timeout 120 "$B" --mode kernel --sizes ${SIZES:-1080p,4K,8K} --types ${TYPES:-u8,u16,f32} --ids ${IDS:-1,2,3,7} \
         --runs 30 --row-scan-warps "$n" --csv "$out/rowseg-one.csv" >/dev/null 2>&1; then
      tail -n +2 "$out/rowseg-one.csv" | sed "s/^/$n,/" >>"$out/rowseg.csv"
    else
      echo "sweep $n: rc=$? (left out)"
    fi
  done
  PRECS=${PRECS:-f32} python3 - "$out/rowseg.csv" <<'PY'
import collections, csv, os, sys
t = collections.OrderedDict()
for r in csv.reader(open(sys.argv[1])):
    n, size, typ, prec, fid, ms, ratio = r[0], r[6], r[9], r[10], r[11], float(r[16]), float(r[21])
    t.setdefault((size, typ, prec, fid), {})[int(n)] = (ms, ratio)
ns = sorted({n for v in t.values() for n in v})
print("row-scan-warps sweep, ms (ratio to copy):", " ".join(f"N={n}" for n in ns))
for (size, typ, prec, fid), v in t.items():
    if prec not in os.environ["PRECS"].split(","): continue
    best = min(v, key=lambda n: v[n][0])
    print(f"{size:6} {typ:4} {prec:6} id{fid} " + " ".join(f"{v[n][0]:.4f}({v[n][1]:.3f})" for n in ns) + f"  best N={best}")
PY
  ;;
sync)
  timeout 120 "$B" --mode kernel --sizes ${SYNC_SIZES:-4K,8K} --types u8,u16 --ids 1,6 --host-sync --runs 50 \
    >"$out/sync.txt" 2>&1; echo "sync rc=$?"
  grep -E '^(4K|8K|1080p) ' "$out/sync.txt" ;;
esac; done
