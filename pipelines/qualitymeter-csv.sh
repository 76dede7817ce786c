#!/usr/bin/env bash
# The demo clip teed into iir2dfilter and qualitymeter: the meter compares the
# filtered frames (distorted) with the decoded ones (reference) and writes one
# CSV row per frame (PSNR/SSIM per plane, temporal delta) to quality.csv.
# Usage: pipelines/qualitymeter-csv.sh [cpu|gpu] [OUT.csv]
#   cpu (default): avdec_h264, system memory, metrics on the CPU
#   gpu: nvh264dec, CUDA memory end to end, metrics by CUDA kernels
# Environment: BUILD_DIR (default <repo>/build), IIR2D_PROPS (default "filter-id=6").
set -eu
here=$(cd "$(dirname "$0")" && pwd)
export GST_PLUGIN_PATH=${BUILD_DIR:-$here/../build}/gst
clip=$("$here/fetch-clip.sh")
csv=${2:-quality.csv}
props=${IIR2D_PROPS:-filter-id=6}
case ${1:-cpu} in
  cpu) dec=avdec_h264 ;;
  gpu) dec=nvh264dec ;;
  *) echo "usage: $0 [cpu|gpu] [OUT.csv]" >&2; exit 2 ;;
esac
# shellcheck disable=SC2086
gst-launch-1.0 filesrc location="$clip" ! qtdemux ! h264parse ! $dec ! tee name=t t. ! queue ! q.reference t. ! queue ! iir2dfilter $props ! q.distorted qualitymeter name=q stats-file="$csv" ! fakesink
echo "per-frame quality: $csv ($(($(wc -l <"$csv") - 1)) frames)"
