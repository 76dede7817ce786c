#!/usr/bin/env bash
# Makes (and remakes) the pictures of docs/gallery.md in docs/gallery/:
#   - before/after crops of a frame of the demo clip (pipelines/fetch-clip.sh)
#     for each filter id, and for a strength ramp: the frame's luma through
#     iir2dfilter in system memory, i.e. through refcpu (the CPU path);
#   - each id's 1-D impulse response and magnitude frequency response, from
#     refcpu (tests/bench/iir2d_response), plotted with matplotlib;
#   - the GPU speed table of docs/perf/*.csv as a bar chart.
# Needs what the demo needs plus python3-matplotlib (installed when missing:
# it is this script's own dependency, not the tests').
#
# Usage: pipelines/gallery.sh
# Environment: BUILD_DIR (default <repo>/build; built when needed with
#              pipelines/build.sh, MESON_ARGS apply), FRAME_TIME (seconds
#              into the clip, default 10), CROP (WxH+X+Y of the 1280x720
#              frame, default 240x180+470+200: eye, feathers, beak).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
build=${BUILD_DIR:-$root/build}
out=$root/docs/gallery
py=/usr/bin/python3  # Debian's, where python3-matplotlib goes (not a pyenv/venv one)

"$here/install-deps.sh"
if ! "$py" -c 'import matplotlib, PIL, numpy' 2>/dev/null; then
  echo "[gallery] installing python3-matplotlib"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3-matplotlib >/dev/null
fi
if [ ! -x "$build/tests/bench/iir2d_response" ] || [ ! -f "$build/gst/libgstiir2d.so" ]; then
  BUILD_TAG=gallery "$here/build.sh" "$build"
fi
export GST_PLUGIN_PATH=$build/gst
. "$here/need-elements.sh"
need_plugin

clip=$("$here/fetch-clip.sh")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The frame's luma (GRAY8: what planes=luma filters; chroma is copied).
ffmpeg -nostdin -loglevel error -ss "${FRAME_TIME:-10}" -i "$clip" -frames:v 1 -vf format=gray "$work/before.png"
filter() {  # NAME PROPERTIES...
  local name=$1
  shift
  gst-launch-1.0 -q filesrc location="$work/before.png" ! pngdec ! videoconvert ! video/x-raw,format=GRAY8 \
    ! iir2dfilter "$@" ! videoconvert ! video/x-raw,format=GRAY8 ! pngenc ! filesink location="$work/$name.png"
}
for id in 1 2 3 4 5 6 7 8; do
  echo "[gallery] filter-id=$id"
  filter "id$id" filter-id=$id
done
for s in 0.25 0.5 0.75 1; do
  echo "[gallery] filter-id=6 strength=$s"
  filter "strength$s" filter-id=6 strength=$s
done
"$build/tests/bench/iir2d_response" 129 >"$work/response.csv"

mkdir -p "$out"
"$py" "$here/gallery.py" --work "$work" --out "$out" --crop "${CROP:-240x180+470+200}" \
  --response "$work/response.csv" "$root"/docs/perf/*.csv
du -ch "$out"/*.png | tail -n 1 | sed 's/\ttotal/ in docs\/gallery\//'
