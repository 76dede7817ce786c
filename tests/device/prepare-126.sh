#!/usr/bin/env bash
# Run HERE, as root (no GPU needed): the GStreamer 1.26 counterpart of
# prepare.sh. Builds an sm_90-only tree in the Debian 13 chroot of
# tests/ci/trixie.sh (made there the first time) and bundles trixie's
# GStreamer runtime with it (../shared/docs/DEVICE_RECIPE_126.md): the plugin,
# the test binaries, the benchmarks and the bookworm transcode of the demo
# clip (so that 1.22 and 1.26 decode the same bytes), packed as
# <repo>/.device126/pkg126.tar.xz. Then, with the device tool:
#   run(command="PKG=.device126/pkg126 RUNNER=trixie-run tests/device/gpu-checks.sh",
#       carry=[".device126/pkg126.tar.xz"])
# Env: TRIXIE_ROOT (as tests/ci/trixie.sh), CUDA_ARCHS (default 90),
#      PREBUILT=1 (package <chroot>/build-device126 as it is, no build),
#      EXTRA_PLUGINS (more plugins; videofilter is always in: the meter tests
#      use videobalance).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
R=${TRIXIE_ROOT:-/var/tmp/iir2d-trixie}
bundle=${GST_DEVICE_BUNDLE_TRIXIE:-$root/../shared/tools/gst-device-bundle-trixie.sh}
[ "${PREBUILT:-0}" = 1 ] || TRIXIE_ROOT=$R TRIXIE_BUILD=/build-device126 TRIXIE_TEST=0 \
  MESON_ARGS="-Dcuda=enabled -Dcuda-archs=${CUDA_ARCHS:-90} -Dcuda-ptx=false" ROOT=$root bash "$root/tests/ci/trixie.sh"
build=$R/build-device126
stage=$(mktemp -d)/pkg126
mkdir -p "$stage/bin" "$stage/plugin" "$stage/media" "$root/.device126"
cp "$build/gst/libgstiir2d.so" "$stage/plugin/"
for t in "$build"/tests/*/test_* "$build"/tests/bench/*_bench \
         "$build"/tests/bench/soak; do
  [ -x "$t" ] && [ -f "$t" ] && cp "$t" "$stage/bin/"
done
cp "$("$root/pipelines/fetch-clip.sh")" "$stage/media/"
PLUGINS="videofilter ${EXTRA_PLUGINS:-}" bash "$bundle" "$R" "$stage/rt" "$stage/plugin/libgstiir2d.so" "$stage"/bin/* >/dev/null
strip --strip-unneeded "$stage"/bin/* "$stage"/plugin/*.so 2>/dev/null || true
tar -C "$(dirname "$stage")" -I 'xz -T2 -6' -cf "$root/.device126/pkg126.tar.xz" pkg126
rm -rf "$(dirname "$stage")"
du -sh "$root/.device126/pkg126.tar.xz"
