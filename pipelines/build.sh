#!/usr/bin/env bash
# Configures (first time, or when the options change) and builds the plugin,
# its tests and the benchmark, and says what it does as it goes: meson's
# output, ninja's [step/steps] lines, each prefixed with the elapsed time, and
# a line every minute while a long step (nvcc) runs. Used by pipelines/demo.sh
# and tests/run.sh, so both can share one build folder.
#
# CUDA architectures: where nvidia-smi sees a GPU, the kernels are built for
# that GPU's compute capability only (-Dcuda-archs=<cc> -Dcuda-ptx=false:
# about a fifth of the fat binary's nvcc time); with no GPU, for every
# architecture of meson_options.txt (the fat binary CI and packages need:
# several minutes of nvcc on a 2-core machine). MESON_ARGS naming
# cuda-archs, or IIR2D_CUDA_FAT=1, keeps the fat binary.
#
# Usage: pipelines/build.sh BUILD_DIR
# Environment: MESON_ARGS   extra `meson setup` options (e.g. -Dcuda=disabled)
#              IIR2D_CUDA_FAT=1   all architectures even where a GPU is found
#              NINJA_ARGS   extra ninja options (e.g. -j2)
#              BUILD_TAG    the tag of the progress lines (default: build)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:?usage: build.sh BUILD_DIR}
tag=${BUILD_TAG:-build}
t0=$(date +%s)
say() {
  local s=$(($(date +%s) - t0))
  printf '[%s %d:%02d] %s\n' "$tag" $((s / 60)) $((s % 60)) "$*"
}

# shellcheck disable=SC2206
args=(${MESON_ARGS:-})
if [[ " ${args[*]} " == *cuda-archs* ]]; then
  say "CUDA architectures as MESON_ARGS says"
elif [ "${IIR2D_CUDA_FAT:-0}" = 1 ]; then
  say "IIR2D_CUDA_FAT=1: CUDA kernels for every architecture of meson_options.txt"
elif command -v nvidia-smi >/dev/null 2>&1 && caps=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null) &&
  caps=$(tr -d ' .' <<<"$caps" | grep -E '^[0-9]+$' | sort -un | paste -sd, -) && [ -n "$caps" ]; then
  say "GPU found (compute capability ${caps}): CUDA kernels for it only (IIR2D_CUDA_FAT=1 builds them for all)"
  args+=("-Dcuda-archs=$caps" "-Dcuda-ptx=false")
else
  say "no GPU seen by nvidia-smi: CUDA kernels (where nvcc is found) for every architecture, several minutes of nvcc"
fi

stamp=$build/.iir2d-meson-args
# Back to every architecture in a folder this script configured for one GPU:
# meson keeps an option on reconfigure, so name the defaults.
if [[ " ${args[*]} " != *cuda-archs* ]] && [ -f "$build/build.ninja" ] && grep -q cuda-archs "$stamp" 2>/dev/null; then
  defaults=$(cd "$root" && meson introspect --buildoptions meson.build | python3 -c '
import json, sys
o = {x["name"]: x["value"] for x in json.load(sys.stdin)}
print("-Dcuda-archs=%s -Dcuda-ptx=%s" % (",".join(o["cuda-archs"]), str(o["cuda-ptx"]).lower()))')
  read -r -a more <<<"$defaults"
  args+=("${more[@]}")
fi
if [ ! -f "$build/build.ninja" ]; then
  say "meson setup $build ${args[*]}"
  meson setup "$build" "$root" "${args[@]}"
  printf '%s\n' "${args[*]}" >"$stamp"
elif [ "$(cat "$stamp" 2>/dev/null)" != "${args[*]}" ]; then
  say "meson setup --reconfigure $build ${args[*]} (the options changed)"
  meson setup --reconfigure "$build" "$root" "${args[@]}"
  printf '%s\n' "${args[*]}" >"$stamp"
else
  say "reusing $build (configured with: ${args[*]:-defaults})"
fi

# ninja prints a step when it ends: a heartbeat covers long nvcc steps.
(while sleep 60; do say "still building (an nvcc step takes minutes, the fat binary several)"; done) &
beat=$!
trap 'kill "$beat" 2>/dev/null || true' EXIT
status=0
# pipefail: the pipeline fails with ninja's status.
# shellcheck disable=SC2086
ninja -C "$build" ${NINJA_ARGS:-} 2>&1 | while IFS= read -r line; do say "$line"; done || status=$?
kill "$beat" 2>/dev/null || true
if [ "$status" -ne 0 ]; then
  say "build failed (ninja exit $status)"
  exit "$status"
fi
say "built $build"
