#!/usr/bin/env bash
# The test command of README.md: installs the Debian packages it needs, builds
# from scratch in a fresh folder (CUDA kernels too where nvcc is found) and
# runs every GoogleTest suite through `meson test`. GPU suites skip with a
# printed reason where no CUDA device can be used.
#
# Environment: BUILD_DIR (default <repo>/build-tests, wiped first),
#              MESON_ARGS (extra `meson setup` options, e.g. -Dcuda-archs=90).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build-tests}
"$root/pipelines/install-deps.sh"
rm -rf "$build"
# shellcheck disable=SC2086
meson setup "$build" "$root" ${MESON_ARGS:-}
ninja -C "$build"
meson test -C "$build" --print-errorlogs --num-processes 2 "$@"
# Show what each suite ran or skipped, so that "passed" never hides zero tests.
grep -h -E '^\[  (PASSED|SKIPPED|FAILED) +\] [0-9]+ tests?[,.]|^\[==========\] [0-9]+ tests? from' "$build/meson-logs/testlog.txt" || true
