#!/usr/bin/env bash
# Fetches the demo clip: cockatoo.mp4 (1280x720, 280 frames of real footage,
# H.264 4:4:4) from Debian bookworm's python3-imageio package (2.4.1-5), and
# transcodes it once to 4:2:0 H.264 so that NVDEC (nvh264dec) can decode it
# too.
#
# Debian 13 (trixie) ships python3-imageio 2.37, which no longer carries the
# clip. There, and wherever bookworm's version is not in the apt lists, the
# package is fetched by version from bookworm through a private source list
# (the same archive as the system's, its own lists folder; the system's apt
# state is not touched). So bookworm and trixie test the same bytes.
#
# Usage: fetch-clip.sh [DIR]   (default: pipelines/media); prints the clip's path.
# Environment: IIR2D_DEBIAN_MIRROR (default: the archive the system's apt
#              sources name, else http://deb.debian.org/debian).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dir=${1:-$here/media}
pkg=python3-imageio
version=2.4.1-5
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
out=$dir/cockatoo-420.mp4

# The archive named by the system's sources (deb822 URIs: or one-line deb).
mirror() {
  if [ -n "${IIR2D_DEBIAN_MIRROR:-}" ]; then echo "$IIR2D_DEBIAN_MIRROR"; return; fi
  local m
  m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '$1 == "URIs:" && $2 !~ /security/ { print $2; exit }')
  [ -n "$m" ] || m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
    awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }')
  echo "${m:-http://deb.debian.org/debian}"
}

# Downloads $pkg=$version into the current folder.
download() {
  apt-get download "$pkg=$version" >/dev/null 2>&1 && return 0
  local apt_dir
  apt_dir=$(mktemp -d)
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
  local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  local trust="signed-by=$keyring"
  [ -r "$keyring" ] || trust="trusted=yes"
  echo "deb [$trust] $(mirror) bookworm main" >"$apt_dir/sources.list"
  local opts=(-o "Dir::Etc::sourcelist=$apt_dir/sources.list" -o "Dir::Etc::sourceparts=-"
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o "APT::Get::List-Cleanup=0" -o "APT::Sandbox::User=root")
  echo "fetch-clip: $pkg $version from bookworm ($(mirror))" >&2
  apt-get "${opts[@]}" -qq update >&2
  apt-get "${opts[@]}" download "$pkg=$version" >&2
  rm -rf "$apt_dir"
}

if [ ! -s "$out" ]; then
  if [ ! -s "$dir/cockatoo.mp4" ]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    (cd "$tmp" && download)
    dpkg -x "$tmp"/${pkg}_*.deb "$tmp/x"
    src=$(find "$tmp/x" -name cockatoo.mp4 | head -n1)
    [ -n "$src" ] || { echo "fetch-clip: $pkg $version has no cockatoo.mp4" >&2; exit 1; }
    cp "$src" "$dir/cockatoo.mp4"
  fi
  ffmpeg -nostdin -loglevel error -y -i "$dir/cockatoo.mp4" -an -c:v libx264 -preset medium -crf 16 \
    -pix_fmt yuv420p -profile:v high "$out.tmp.mp4"
  mv "$out.tmp.mp4" "$out"
fi
echo "$out"
