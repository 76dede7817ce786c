#!/usr/bin/env bash
# Run ON THE GPU MACHINE from the repository root (issue 15, the band path):
# kernel benchmark sweeps of the band size (--band-mb) and of the scan column
# pass's blocks per SM at 4K and 8K, ncu's DRAM bytes of a whole call (row and
# column kernels, application replay without cache flushes, so that what the
# row pass leaves in L2 counts), and the element benchmark.
#   band-checks.sh PKG [steps]   (PKG: .device/pkg from prepare.sh; steps: sweep ncu element)
# Logs under $OUT (or /tmp/out).
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
  timeout 120 "$B" --mode element --sizes 4K,8K --band-mb "${ELEMENT_BAND:-0}" >"$out/element.txt" 2>&1
  sed -n '/iir2dfilter on NV12/,$p' "$out/element.txt" ;;
esac; done
