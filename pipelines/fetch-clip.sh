#!/usr/bin/env bash
# Fetches the demo clip: cockatoo.mp4 (1280x720, 280 frames of real footage,
# H.264 4:4:4) from Debian's python3-imageio package, and transcodes it once
# to 4:2:0 H.264 so that NVDEC (nvh264dec) can decode it too.
# Usage: fetch-clip.sh [DIR]   (default: pipelines/media); prints the clip's path.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dir=${1:-$here/media}
mkdir -p "$dir"
out=$dir/cockatoo-420.mp4
if [ ! -s "$out" ]; then
  if [ ! -s "$dir/cockatoo.mp4" ]; then
    tmp=$(mktemp -d)
    (cd "$tmp" && apt-get download python3-imageio >/dev/null 2>&1 || { apt-get update -qq && apt-get download python3-imageio >/dev/null; })
    dpkg -x "$tmp"/python3-imageio_*.deb "$tmp/x"
    cp "$(find "$tmp/x" -name cockatoo.mp4 | head -n1)" "$dir/cockatoo.mp4"
    rm -rf "$tmp"
  fi
  ffmpeg -nostdin -loglevel error -y -i "$dir/cockatoo.mp4" -an -c:v libx264 -preset medium -crf 16 \
    -pix_fmt yuv420p -profile:v high "$out.tmp.mp4"
  mv "$out.tmp.mp4" "$out"
fi
echo "$out"
