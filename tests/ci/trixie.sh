#!/usr/bin/env bash
# CI leg "trixie": builds from scratch and runs every suite under Debian 13's
# GStreamer 1.26, in a Debian 13 chroot made with debootstrap from the same
# archive as this machine's apt sources.
#
# The chroot lives in a fixed folder outside the repository (TRIXIE_ROOT,
# default /var/tmp/iir2d-trixie) and is reused when a previous run left it
# complete (the marker file .iir2d-ready); making it takes about 8 minutes
# (debootstrap about 2, the packages about 6). Each run then installs what
# pipelines/install-deps.sh lists (nothing when present), wipes its build
# folder (<chroot>/build-iir2d), builds with CUDA when the toolkit is in
# /usr/local/cuda (bound read-only into the chroot; kernels for sm_90 only,
# the host leg builds the fat binary), fetches the demo clip with
# pipelines/fetch-clip.sh inside the chroot (bookworm's imageio by version,
# see that script) and runs `meson test`.
#
# Run by tests/run.sh as `bash tests/ci/trixie.sh [meson test args]` (env
# ROOT = repository root; see the leg contract there); needs root for
# debootstrap, chroot and the bind mounts (exit 77, skipped, without). Exit
# status 0 when every suite passed. Prints GST_VERSION=<version> and, last,
# TESTLOG=<path of meson's testlog.json>, which tests/summary.py reads.
# Environment: TRIXIE_ROOT, IIR2D_DEBIAN_MIRROR (default: the system's),
#   TRIXIE_BUILD (the build folder's path inside the chroot, default
#   /build-iir2d), TRIXIE_TEST=0 (build only: tests/device/prepare-126.sh),
#   MESON_ARGS (added after the CUDA options chosen below, so it can
#   override them).
set -euo pipefail
root=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
R=${TRIXIE_ROOT:-/var/tmp/iir2d-trixie}
start=$(date +%s)
say() { printf '[trixie %4ss] %s\n' "$(($(date +%s) - start))" "$*" >&2; }

[ "$(id -u)" -eq 0 ] || { echo "tests/ci/trixie.sh: needs root (debootstrap, chroot, mount); skipped" >&2; exit 77; }

mirror() {
  if [ -n "${IIR2D_DEBIAN_MIRROR:-}" ]; then echo "$IIR2D_DEBIAN_MIRROR"; return; fi
  local m
  m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '$1 == "URIs:" && $2 !~ /security/ { print $2; exit }')
  [ -n "$m" ] || m=$(cat /etc/apt/sources.list 2>/dev/null |
    awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }')
  echo "${m:-http://deb.debian.org/debian}"
}

mounted=()
cleanup() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}" || true; done
}
trap cleanup EXIT
bind() {  # bind SRC DST [ro]
  mkdir -p "$2"
  mountpoint -q "$2" && return 0
  mount --bind "$1" "$2"
  mounted+=("$2")
  [ "${3:-}" != ro ] || mount -o remount,bind,ro "$2"
}

in_chroot() {
  chroot "$R" /usr/bin/env -i PATH=/usr/local/cuda/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive CI="${CI:-}" "$@"
}

if [ ! -f "$R/.iir2d-ready" ]; then
  command -v debootstrap >/dev/null || {
    say "installing debootstrap"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
  }
  say "debootstrap trixie into $R from $(mirror)"
  rm -rf "$R"
  mkdir -p "$(dirname "$R")"
  debootstrap --variant=minbase trixie "$R" "$(mirror)" >"$R.debootstrap.log" 2>&1 || {
    tail -n 20 "$R.debootstrap.log" >&2; exit 1; }
  touch "$R/.iir2d-ready"
fi
cp /etc/resolv.conf "$R/etc/resolv.conf" 2>/dev/null || true

mountpoint -q "$R/proc" || { mount -t proc proc "$R/proc"; mounted+=("$R/proc"); }
bind /dev "$R/dev"
bind /dev/pts "$R/dev/pts"
# The same source tree, writable: the clip test fetches into the chroot's
# own folder (below), and the build folder is the chroot's.
bind "$root" "$R/src"
meson_args="-Dcuda=disabled"
if [ -x /usr/local/cuda/bin/nvcc ]; then
  cuda=$(readlink -f /usr/local/cuda)
  bind "$cuda" "$R$cuda" ro
  [ "$cuda" = /usr/local/cuda ] || ln -sfn "$cuda" "$R/usr/local/cuda"
  meson_args="-Dcuda=enabled -Dcuda-archs=90 -Dcuda-ptx=false"
fi

say "packages (pipelines/install-deps.sh)"
in_chroot bash /src/pipelines/install-deps.sh
gst_version=$(in_chroot pkg-config --modversion gstreamer-1.0)
say "GStreamer $gst_version in $R"
echo "GST_VERSION=$gst_version"

build=${TRIXIE_BUILD:-/build-iir2d}
meson_args="$meson_args ${MESON_ARGS:-}"
say "build $build (meson setup $meson_args)"
rm -rf "${R:?}$build"
# shellcheck disable=SC2086
in_chroot meson setup "$build" /src $meson_args >&2
in_chroot ninja -C "$build" >&2
[ "${TRIXIE_TEST:-1}" != 0 ] || { say "built"; exit 0; }

say "clip (pipelines/fetch-clip.sh)"
clip=$(in_chroot bash /src/pipelines/fetch-clip.sh /var/cache/iir2d-media)

say "meson test"
status=0
in_chroot env IIR2D_CLIP="$clip" meson test -C "$build" --print-errorlogs --num-processes 2 "$@" >&2 || status=$?
say "done, status $status"
echo "TESTLOG=$R$build/meson-logs/testlog.json"
exit "$status"
