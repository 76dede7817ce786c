#!/usr/bin/env bash
# The main job, on a fresh machine: install what is needed, build the plugin,
# fetch a real camera clip, filter it with iir2dfilter (on the GPU through
# CUDA memory where there is one, on the CPU elsewhere), encode the result to
# an MP4 next to the clip, and report frame count, wall time and quality.
#
# The build shows meson's and ninja's progress with the elapsed time
# (pipelines/build.sh): on a GPU machine the CUDA kernels are built for that
# GPU only, without one for every architecture (several minutes of nvcc).
#
# Environment:
#   BUILD_DIR     build folder (default: <repo>/build; tests/run.sh can reuse it)
#   MESON_ARGS    extra `meson setup` options (e.g. -Dcuda=disabled, -Dcuda-archs=90)
#   IIR2D_CUDA_FAT=1  CUDA kernels for every architecture even on a GPU machine
#   IIR2D_PROPS   iir2dfilter properties (default: "filter-id=6")
#   IIR2D_PATH    force "cpu" or "gpu" (default: gpu when a GPU and nvcodec are usable)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
build=${BUILD_DIR:-$root/build}
props=${IIR2D_PROPS:-filter-id=6}

echo "[demo] installing the Debian packages that are missing (pipelines/install-deps.sh)"
"$here/install-deps.sh"
BUILD_TAG=demo "$here/build.sh" "$build"
export GST_PLUGIN_PATH=$build/gst

echo "[demo] fetching the clip (pipelines/fetch-clip.sh)"

clip=$("$here/fetch-clip.sh")
out=${clip%.mp4}-iir2d.mp4
# qualitymeter sits inline before the encoder and measures what the filter
# costs (per-frame CSV; its summary is printed at the end).
stats=${out%.mp4}-quality.csv
qlog=${out%.mp4}-quality.log
meter="tee name=t t. ! queue ! q.reference t. ! queue ! iir2dfilter $props ! q.distorted qualitymeter name=q stats-file=$stats post-messages=false"

has() { gst-inspect-1.0 "$1" >/dev/null 2>&1; }
path=${IIR2D_PATH:-}
if [ -z "$path" ]; then
  path=cpu
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1 && has cudaupload; then path=gpu; fi
fi
enc="x264enc speed-preset=faster pass=quant quantizer=16"
has x264enc || enc="openh264enc bitrate=8000000"

. "$here/need-elements.sh"
need_plugin
[ "$path" = cpu ] || need_gpu "IIR2D_PATH=cpu $0" cudaupload cudadownload
case $path in
  gpu)
    if has nvh264dec; then dec="nvh264dec"; else dec="avdec_h264 ! cudaupload"; fi
    chain="$dec ! video/x-raw(memory:CUDAMemory) ! $meter ! cudadownload ! videoconvert" ;;
  cpu)
    chain="avdec_h264 ! video/x-raw ! $meter" ;;
  *) echo "IIR2D_PATH must be cpu or gpu" >&2; exit 2 ;;
esac

pipeline="filesrc location=$clip ! qtdemux ! h264parse ! $chain ! $enc ! h264parse ! mp4mux ! filesink location=$out"
echo "path: $path"
echo "gst-launch-1.0 $pipeline"
t0=$(date +%s.%N)
# shellcheck disable=SC2086
GST_DEBUG=qualitymeter:4 GST_DEBUG_NO_COLOR=1 GST_DEBUG_FILE=$qlog gst-launch-1.0 -q $pipeline
t1=$(date +%s.%N)

frames=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$out")
awk -v f="$frames" -v a="$t0" -v b="$t1" -v o="$out" 'BEGIN {
  printf "frames: %d\nwall time: %.2f s (%.1f frames/s, decode + filter + encode)\noutput: %s\n", f, b - a, f / (b - a), o }'

# Quality of the filtered (and re-encoded) clip against its source, with
# ffmpeg's psnr and ssim filters.
ffmpeg -nostdin -hide_banner -i "$clip" -i "$out" -lavfi \
  "[0:v]settb=AVTB,setpts=PTS-STARTPTS[a];[1:v]settb=AVTB,setpts=PTS-STARTPTS[b];[a]split[a1][a2];[b]split[b1][b2];[a1][b1]psnr;[a2][b2]ssim" \
  -f null - 2>&1 | grep -E "Parsed_(psnr|ssim).*(PSNR|SSIM) " | sed 's/^\[Parsed_\([a-z]*\)_[0-9]* @ [^]]*\]/quality vs source (\1):/'

# What the filter alone costs, measured inline by qualitymeter (before the encoder).
echo "quality of the filter (qualitymeter, per-frame rows in $stats):"
# qualitymeter's INFO lines "summary of <pad>: ..." (one set per distorted pad).
summary=$(sed -n 's/.*summary of \([^:]*\): /  \1: /p' "$qlog")
if [ -z "$summary" ]; then
  echo "demo: no qualitymeter summary in $qlog (did the meter run?)" >&2
  exit 1
fi
echo "$summary"
