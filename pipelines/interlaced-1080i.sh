#!/usr/bin/env bash
# 1080i50 through iir2dfilter, field by field (field-mode=auto) against the
# whole frame (field-mode=progressive), and how much combing a deinterlacer
# is left with in each case.
#
#   videotestsrc (1920x1080 50p, a white bar on black moving 8 px per frame)
#     ! interlace field-pattern=1:1      -> 1080i50: 25 frames/s, two fields
#                                           20 ms apart (interlace-mode=interleaved)
#     ! iir2dfilter filter-id=6 sigma=3 field-mode=auto|progressive
#     ! deinterlace method=linear        -> 50p again (one frame per field)
#     ! GRAY8 frames to a file
#
# Then, on the luma of the last deinterlaced frame (frame k of the output
# shows the instant of 50p source frame k), in a 160x160 crop around an
# edge of the moving bar, two numbers (8-bit codes):
#  - field-mixing energy E = mean over the crop of |out_k - ideal_k|, where
#    ideal_k is 50p source frame k filtered by the same iir2dfilter as a
#    progressive picture: what the filter should give for that instant.
#    Filtering a field alone and interpolating it back changes nothing
#    there (the edge is vertical: the vertical pass sees a constant), so
#    auto stays close to the ideal; the whole-frame filter mixes the rows
#    of the instant 20 ms away into each row, and the deinterlacer, which
#    rebuilds each instant from its own field's rows, keeps that mixture
#    as a ghost edge 8 px away;
#  - combing energy C = mean over the crop of |Y(x,y) - (Y(x,y-1) +
#    Y(x,y+1)) / 2|: the part of each row its two neighbours do not predict
#    (field-rate teeth). A linear deinterlacer leaves none in any case; it
#    is printed to show the damage is a ghost, not teeth.
# The unfiltered chain is printed as the floor (E against the raw source).
#
# A PNG of the three crops side by side (unfiltered | auto | progressive),
# each 160x160, is written to $OUT_DIR/interlaced-1080i-crops.png.
#
# Usage: pipelines/interlaced-1080i.sh [cpu|gpu]
#   cpu (default): system memory, the CPU reference
#   gpu: cudaupload/cudadownload around the filter (CUDA kernels)
# Environment: BUILD_DIR (default <repo>/build), OUT_DIR (default
#   <repo>/pipelines/media), FRAMES (50p source frames, default 8), METHOD
#   (deinterlace's method, default linear; greedyh is its own default).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
export GST_PLUGIN_PATH=${BUILD_DIR:-$here/../build}/gst
out_dir=${OUT_DIR:-$here/media}
frames=${FRAMES:-8}
method=${METHOD:-linear}
mkdir -p "$out_dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
case ${1:-cpu} in
  cpu) up=""; down="" ;;
  gpu) up="cudaupload !"; down="cudadownload !" ;;
  *) echo "usage: $0 [cpu|gpu]" >&2; exit 2 ;;
esac
w=1920
h=1080
run() {  # $1: filter (or identity), $2: output file
  # shellcheck disable=SC2086
  gst-launch-1.0 -q videotestsrc num-buffers="$frames" pattern=bar horizontal-speed=8 \
    ! video/x-raw,format=I420,width=$w,height=$h,framerate=50/1 \
    ! interlace field-pattern=1:1 top-field-first=true \
    ! $up $1 ! $down deinterlace method="$method" fields=all \
    ! videoconvert ! video/x-raw,format=GRAY8 ! filesink location="$2"
}
# The ideal: each 50p frame filtered as a progressive picture (CPU).
gst-launch-1.0 -q videotestsrc num-buffers="$frames" pattern=bar horizontal-speed=8 \
  ! video/x-raw,format=I420,width=$w,height=$h,framerate=50/1 ! tee name=t \
  t. ! queue ! iir2dfilter filter-id=6 sigma=3 ! videoconvert ! video/x-raw,format=GRAY8 \
  ! filesink location="$tmp/ideal.gray" \
  t. ! queue ! videoconvert ! video/x-raw,format=GRAY8 ! filesink location="$tmp/source.gray"
run identity "$tmp/none.gray"
run "iir2dfilter filter-id=6 sigma=3 field-mode=auto" "$tmp/auto.gray"
run "iir2dfilter filter-id=6 sigma=3 field-mode=progressive" "$tmp/progressive.gray"

python3 - "$tmp" "$w" "$h" "$out_dir" <<'EOF'
import os, subprocess, sys
tmp, w, h, out_dir = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
frame = w * h
def last_frame(name):
    data = open(os.path.join(tmp, name + ".gray"), "rb").read()
    n = len(data) // frame
    if n == 0:
        sys.exit(name + ": no frame came out")
    return data[(n - 1) * frame:n * frame]
imgs = {k: last_frame(k) for k in ("none", "auto", "progressive", "ideal", "source")}
# The crop: 160x160 centred on the column where the unfiltered frame's
# horizontal gradient over the middle rows is largest (a bar edge).
y0, size = h // 2 - 80, 160
ref = imgs["none"]
best, bx = -1, size
for x in range(size // 2, w - size // 2):
    g = sum(abs(ref[y * w + x] - ref[y * w + x - 1]) for y in range(y0, y0 + size, 8))
    if g > best:
        best, bx = g, x
x0 = bx - size // 2
def comb(img):
    total = 0
    for y in range(y0, y0 + size):
        for x in range(x0, x0 + size):
            total += abs(2 * img[y * w + x] - img[(y - 1) * w + x] - img[(y + 1) * w + x])
    return total / 2 / (size * size)
def mixing(img, ideal):
    total = 0
    for y in range(y0, y0 + size):
        for x in range(x0, x0 + size):
            total += abs(img[y * w + x] - ideal[y * w + x])
    return total / (size * size)
E = {"none": mixing(imgs["none"], imgs["source"]), "auto": mixing(imgs["auto"], imgs["ideal"]),
     "progressive": mixing(imgs["progressive"], imgs["ideal"])}
C = {k: comb(imgs[k]) for k in ("none", "auto", "progressive")}
print("crop: %dx%d at x=%d y=%d of the last deinterlaced frame (luma, 8-bit codes)" % (size, size, x0, y0))
print("                          field-mixing E   combing C")
for k, name in (("none", "unfiltered (vs source)"), ("auto", "field-mode=auto"),
                ("progressive", "field-mode=progressive")):
    print("  %-24s %8.3f %11.3f" % (name, E[k], C[k]))
if E["auto"] > 0:
    print("  E progressive / auto     %8.1f" % (E["progressive"] / E["auto"]))
row = bytearray()
for y in range(y0, y0 + size):
    for k in ("none", "auto", "progressive"):
        row += imgs[k][y * w + x0:y * w + x0 + size]
        row += b"\xff" * 4  # a white separator
png = os.path.join(out_dir, "interlaced-1080i-crops.png")
subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "gray",
                "-s", "%dx%d" % (3 * (size + 4), size), "-i", "-", png], input=bytes(row), check=True)
print("crops (unfiltered | auto | progressive): " + png)
EOF
