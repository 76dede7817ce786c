#!/usr/bin/env bash
# The test command of README.md: installs the Debian packages it needs, builds
# from scratch in a fresh folder (CUDA kernels too where nvcc is found) and
# runs every GoogleTest suite through `meson test`, tier by tier (meson
# suites refcpu, cuda, elements). GPU cases skip with a printed reason where
# no CUDA device can be used. Ends with GoogleTest's own counts per suite
# (tests/summary.py) and the line "N passed, N failed, N skipped"; the
# per-case listing stays in <build>/meson-logs/testlog.txt.
#
# Environment: BUILD_DIR (default <repo>/build-tests, wiped first),
#              MESON_ARGS (extra `meson setup` options, e.g. -Dcuda-archs=90).
# Arguments are passed on to `meson test` (e.g. --suite refcpu).
# Exit status: non-zero when a suite or a case failed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build-tests}
"$root/pipelines/install-deps.sh"
rm -rf "$build"
# shellcheck disable=SC2086
meson setup "$build" "$root" ${MESON_ARGS:-}
ninja -C "$build"
# A failing suite must not skip the summary: keep meson's status for the end.
status=0
meson test -C "$build" --print-errorlogs --num-processes 2 "$@" || status=$?
python3 "$root/tests/summary.py" "$build/meson-logs/testlog.json" || { [ "$status" -ne 0 ] || status=1; }
exit "$status"
