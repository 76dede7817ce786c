#!/usr/bin/env bash
# RGBA graphics smoothed through their luma (planes=luma: Y' of BT.709, the
# default for RGB caps; Cb and Cr kept), with unity gain so flat areas keep
# their level; alpha is copied untouched.
# Usage: pipelines/iir2d-rgb.sh [cpu|gpu]
#   cpu (default): system memory, the CPU reference (640x360)
#   gpu: cudaupload/cudadownload around the filter, CUDA kernels (1280x720)
# Environment: BUILD_DIR (default <repo>/build), SINK (default fakesink).
# Without cudaupload (no NVIDIA driver or nvcodec) `gpu` says so and prints
# the cpu command (exit 3).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
export GST_PLUGIN_PATH=${BUILD_DIR:-$here/../build}/gst
sink=${SINK:-fakesink}
filter="iir2dfilter filter-id=4 unity-gain=true planes=luma"
case ${1:-cpu} in
  cpu) caps=video/x-raw,format=RGBA,width=640,height=360,framerate=30/1; up=""; down="" ;;
  gpu) caps=video/x-raw,format=RGBA,width=1280,height=720,framerate=30/1; up="cudaupload !"; down="cudadownload !" ;;
  *) echo "usage: $0 [cpu|gpu]" >&2; exit 2 ;;
esac
. "$here/need-elements.sh"
need_plugin
[ "${1:-cpu}" = cpu ] || need_gpu "$0 cpu" cudaupload cudadownload
# shellcheck disable=SC2086
gst-launch-1.0 videotestsrc num-buffers=60 pattern=smpte ! $caps ! $up $filter ! $down videoconvert ! $sink
