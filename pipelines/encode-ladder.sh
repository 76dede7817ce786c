#!/usr/bin/env bash
# An encode ladder measured by one qualitymeter: the demo clip is decoded
# once, teed into three H.264 encodes at different bitrates (x264enc, else
# openh264enc), each decoded again and measured against the decoded clip on
# the meter's pads distorted, distorted_0 and distorted_1 (issue 13). One
# stats file gets every pad's rows; this script adds the bitrate column.
# Usage: pipelines/encode-ladder.sh [OUT.csv] [KBPS KBPS KBPS]
#   default: ladder.csv, 400 1200 3000 kbit/s
# Environment: BUILD_DIR (default <repo>/build).
# Needs: gstreamer1.0-plugins-ugly (x264enc) or gstreamer1.0-plugins-bad
# (openh264enc), gstreamer1.0-libav (avdec_h264).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
export GST_PLUGIN_PATH=${BUILD_DIR:-$here/../build}/gst
clip=$("$here/fetch-clip.sh")
csv=${1:-ladder.csv}
rates=("${2:-400}" "${3:-1200}" "${4:-3000}")
pads=(distorted distorted_0 distorted_1)
if gst-inspect-1.0 x264enc >/dev/null 2>&1; then
  enc() { echo "x264enc bitrate=$1 speed-preset=veryfast tune=zerolatency key-int-max=60"; }
elif gst-inspect-1.0 openh264enc >/dev/null 2>&1; then
  enc() { echo "openh264enc bitrate=$(($1 * 1000)) rate-control=bitrate"; }
else
  echo "$0: neither x264enc (gstreamer1.0-plugins-ugly) nor openh264enc (gstreamer1.0-plugins-bad) is installed" >&2
  exit 1
fi
# Queues that hold frames, not bytes: the encoders' latency must not block the tee.
q="queue max-size-buffers=120 max-size-bytes=0 max-size-time=0"
raw=$(mktemp --suffix=.csv)
trap 'rm -f "$raw"' EXIT
launch="filesrc location=$clip ! qtdemux ! h264parse ! avdec_h264 ! tee name=t t. ! $q ! q.reference"
for i in 0 1 2; do
  launch+=" t. ! $q ! $(enc "${rates[$i]}") ! h264parse ! avdec_h264 ! q.${pads[$i]}"
done
launch+=" qualitymeter name=q post-messages=false stats-file=$raw ! fakesink"
# shellcheck disable=SC2086
gst-launch-1.0 -q $launch
# The meter's CSV (header row first, a pad column) with the bitrate in front.
awk -F, -v OFS=, -v p="${pads[*]}" -v r="${rates[*]}" '
  BEGIN { n = split(p, pad, " "); split(r, rate, " "); for (i = 1; i <= n; i++) kbps[pad[i]] = rate[i] }
  NR == 1 { print "bitrate-kbps", $0; next }
  { print kbps[$1], $0 }' "$raw" >"$csv"
echo "encode ladder: $csv ($(($(wc -l <"$csv") - 1)) rows)"
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
  { n[$1]++; psnr[$1] += $col["psnr-avg"]; ssim[$1] += $col["ssim-all"] }
  END { for (b in n) printf "  %5s kbit/s: %4d frames, mean psnr-avg %.2f dB, mean ssim-all %.4f\n", b, n[b], psnr[b] / n[b], ssim[b] / n[b] }' "$csv" | sort -n
