#!/usr/bin/env bash
# Run HERE (no GPU needed): builds an sm_90-only tree and gathers everything a
# GPU check needs into <repo>/.device/pkg (ignored by git): Debian's GStreamer
# runtime (shared/tools/gst-device-bundle.sh), the plugin, the test binaries,
# the benchmark, the soak and the demo clip, and packs it as <repo>/.device/pkg.tar.xz
# (the CUDA binaries carry several MB of device code each; packed, the whole
# set fits the device tool's 64 MiB carry limit). Then, with the device tool:
#   run(command="tests/device/gpu-checks.sh", carry=[".device/pkg.tar.xz"])
# Env: BUILD_DIR (default <repo>/build-device), CUDA_ARCHS (default 90).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${BUILD_DIR:-$root/build-device}
pkg=$root/.device/pkg
bundle=${GST_DEVICE_BUNDLE:-$root/../shared/tools/gst-device-bundle.sh}
[ -f "$build/build.ninja" ] || meson setup "$build" "$root" -Dcuda=enabled -Dcuda-archs="${CUDA_ARCHS:-90}" -Dcuda-ptx=false >/dev/null
ninja -C "$build" >/dev/null
rm -rf "$pkg"; mkdir -p "$pkg/bin" "$pkg/plugin" "$pkg/media"
cp "$build/gst/libgstiir2d.so" "$pkg/plugin/"
# The test binaries of every tier (tests/<tier>/test_*) and the benchmark.
for t in "$build"/tests/*/test_* "$build"/tests/bench/*_bench "$build"/tests/bench/soak; do
  [ -x "$t" ] && [ -f "$t" ] && cp "$t" "$pkg/bin/"
done
cp "$("$root/pipelines/fetch-clip.sh")" "$pkg/media/"
PLUGINS="${EXTRA_PLUGINS:-}" bash "$bundle" "$pkg/rt" "$pkg/plugin/libgstiir2d.so" "$pkg"/bin/* >/dev/null
strip --strip-unneeded "$pkg"/bin/* "$pkg"/plugin/*.so 2>/dev/null || true
tar -C "$root/.device" -cJf "$root/.device/pkg.tar.xz" pkg
du -sh "$pkg" "$root/.device/pkg.tar.xz"
