#!/usr/bin/env bash
# 10-bit 4:2:0 (P010_10LE, MSB-aligned, peak 1023) through iir2dfilter with
# a wider Deriche (sigma 3) and motion-adaptive temporal smoothing, no
# videoconvert in front of the filter.
# Usage: pipelines/iir2d-10bit.sh [cpu|gpu]
#   cpu (default): system memory, the CPU reference (640x360, slow on purpose)
#   gpu: cudaupload/cudadownload around the filter, CUDA kernels (1920x1080)
# Environment: BUILD_DIR (default <repo>/build), SINK (default fakesink).
# Without cudaupload (no NVIDIA driver or nvcodec) `gpu` says so and prints
# the cpu command (exit 3).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
export GST_PLUGIN_PATH=${BUILD_DIR:-$here/../build}/gst
sink=${SINK:-fakesink}
filter="iir2dfilter filter-id=6 sigma=3 temporal-mode=adaptive"
case ${1:-cpu} in
  cpu) caps=video/x-raw,format=P010_10LE,width=640,height=360,framerate=30/1; up=""; down="" ;;
  gpu) caps=video/x-raw,format=P010_10LE,width=1920,height=1080,framerate=30/1; up="cudaupload !"; down="cudadownload !" ;;
  *) echo "usage: $0 [cpu|gpu]" >&2; exit 2 ;;
esac
. "$here/need-elements.sh"
need_plugin
[ "${1:-cpu}" = cpu ] || need_gpu "$0 cpu" cudaupload cudadownload
# shellcheck disable=SC2086
gst-launch-1.0 videotestsrc num-buffers=60 pattern=ball ! $caps ! $up $filter ! $down videoconvert ! $sink
