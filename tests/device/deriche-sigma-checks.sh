#!/usr/bin/env bash
# Run ON THE GPU MACHINE (issues 9, 15): id 6 (Deriche) on 8-bit video, CUDA against the
# CPU reference, by sigma and size: the fraction of samples that differ (the
# contract allows 0.1 %, by 1 code). Args: PKG LABEL (as stream-checks.sh);
# EXTRA: more iir2dfilter properties (e.g. precision=mixed).
set -uo pipefail
P=$(cd "$1" && pwd); label=$2
out=${OUT:-/tmp/out}/$label; mkdir -p "$out"
source "$P/rt/env.sh"; export GST_PLUGIN_PATH=$P/plugin
for size in 320x180 1920x1080; do
  W=${size%x*} H=${size#*x}
  python3 -c "import random,sys; sys.stdout.buffer.write(random.Random(7).randbytes($W*$H*3//2))" > "$out/in.raw"
  src="filesrc location=$out/in.raw blocksize=$((W*H*3/2)) ! rawvideoparse format=nv12 width=$W height=$H framerate=30/1"
  for ug in false true; do
    for s in 2 4 6 8 12 16 24 32 48 64; do
      f="iir2dfilter filter-id=6 sigma=$s unity-gain=$ug ${EXTRA:-}"
      IIR2D_CPU_PATH=reference gst-launch-1.0 -q $src ! $f ! filesink location=$out/cpu.raw
      gst-launch-1.0 -q $src ! cudaupload ! $f ! cudadownload ! video/x-raw ! filesink location=$out/gpu.raw
      python3 - "$out/cpu.raw" "$out/gpu.raw" "$label $size ug=$ug sigma=$s" <<'PY'
import sys
a = open(sys.argv[1], 'rb').read(); b = open(sys.argv[2], 'rb').read()
if len(a) != len(b): print(sys.argv[3], "size", len(a), len(b)); sys.exit()
d = [abs(x - y) for x, y in zip(a, b) if x != y]
print(sys.argv[3], "differ %.5f" % (len(d) / len(a)), "max", max(d) if d else 0)
PY
    done
  done
done
rm -f "$out"/*.raw
