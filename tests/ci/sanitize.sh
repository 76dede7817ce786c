#!/usr/bin/env bash
# CI leg "sanitize": builds the project CPU-only with AddressSanitizer and
# UndefinedBehaviorSanitizer (-Db_sanitize=address,undefined) and runs every
# meson suite under it, leak detection on. Any ASan, LSan or UBSan report
# fails the case that produced it (halt_on_error, exitcode 1 /
# -fno-sanitize-recover), and so the leg.
#
# SANITIZE=thread instead builds with ThreadSanitizer and runs the element
# suites only (suite `elements`): a data race report fails its case. It is
# not part of the default CI run (tests/run.sh calls this leg without it);
# see README.md for its time.
#
# Called by tests/run.sh as `bash tests/ci/sanitize.sh [meson test args]`.
# Environment: ROOT (repo root; default: two folders up from this script),
#              LEG_BUILD_ROOT (folder for this leg's builds; default
#              $ROOT/build-ci), SANITIZE (address,undefined | thread).
# Output: meson's per-case lines, then GST_VERSION=<version> (the host's
# GStreamer it built against) and, last, TESTLOG=<build>/meson-logs/testlog.json
# Exit status: 0 when every suite passed.
set -uo pipefail
ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
LEG_BUILD_ROOT=${LEG_BUILD_ROOT:-$ROOT/build-ci}
mode=${SANITIZE:-address,undefined}
case $mode in
  # The install check runs the system's gst-inspect-1.0 on the installed
  # plugin, which a sanitized plugin cannot load (the runtime must come
  # first); the host leg runs it on the plain build.
  address,undefined) build=$LEG_BUILD_ROOT/sanitize-asan; suites=(--no-suite install) ;;
  thread) build=$LEG_BUILD_ROOT/sanitize-tsan; suites=(--suite elements) ;;
  *) echo "sanitize.sh: SANITIZE must be address,undefined or thread, not '$mode'" >&2; exit 2 ;;
esac
supp=$ROOT/tests/sanitizers

fail() { echo "sanitize.sh: $*" >&2; echo "TESTLOG=$build/meson-logs/testlog.json"; exit 1; }

# Configured once per folder; reconfigured only when the options differ.
# -Db_lundef=false: the plugin module is linked without the sanitizer
# runtime, which the (sanitized) test executables that load it provide.
# -fno-sanitize-recover: a UBSan report ends the process with an error, so
# the case fails (UBSan's default is to print and go on).
opts=(-Dcuda=disabled -Dbuildtype=debugoptimized -Db_sanitize="$mode" -Db_lundef=false)
[ "$mode" = thread ] || opts+=(-Dcpp_args=-fno-sanitize-recover=all -Dcpp_link_args=-fno-sanitize-recover=all)
if [ -f "$build/build.ninja" ]; then
  meson configure "$build" "${opts[@]}" >/dev/null || fail "meson configure failed"
else
  meson setup "$build" "$ROOT" "${opts[@]}" >/dev/null || fail "meson setup failed"
fi
nice -n 10 ninja -C "$build" -j"${NINJA_JOBS:-2}" || fail "build failed"

# The sanitized plugin needs the sanitizer runtime in the process that
# loads it. gst-plugin-scanner is not sanitized, so it cannot load it and
# the plugin would be left out of the registry (every element test then
# fails: "element iir2dfilter not found"). GST_REGISTRY_FORK=no would scan
# in the test process instead, but then every system plugin is loaded
# there and LSan reports their leaks (OpenNI2 drivers, ...). So the scanner
# runs through a wrapper that preloads the runtime (leak checks off: the
# scanner loads every plugin once and exits). A registry of this build only,
# fresh per run (meson's test environment names tests/gst-registry.bin).
scanner=$(pkg-config --variable=pluginscannerdir gstreamer-1.0)/gst-plugin-scanner
wrapper=$build/gst-plugin-scanner-sanitized
if [ "$mode" = thread ]; then preload=$(c++ -print-file-name=libtsan.so)
else preload="$(c++ -print-file-name=libasan.so) $(c++ -print-file-name=libubsan.so)"; fi
cat >"$wrapper" <<WRAP
#!/bin/sh
# Written by tests/ci/sanitize.sh: gst-plugin-scanner with the sanitizer runtime.
LD_PRELOAD="$preload" ASAN_OPTIONS=detect_leaks=0 TSAN_OPTIONS=report_bugs=0 exec "$scanner" "\$@"
WRAP
chmod +x "$wrapper"
export GST_PLUGIN_SCANNER=$wrapper GST_PLUGIN_SCANNER_1_0=$wrapper
rm -f "$build/tests/gst-registry.bin"
# GLib's slice allocator hides leaks and use-after-free from ASan.
export G_SLICE=always-malloc G_DEBUG=gc-friendly
if [ "$mode" = thread ]; then
  export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 suppressions=$supp/tsan.supp"
else
  export ASAN_OPTIONS="halt_on_error=1 abort_on_error=0 exitcode=66 detect_leaks=1 detect_stack_use_after_return=0 fast_unwind_on_malloc=0 strict_string_checks=1 check_initialization_order=1"
  export LSAN_OPTIONS="suppressions=$supp/lsan.supp print_suppressions=0 exitcode=66"
  export UBSAN_OPTIONS="halt_on_error=1 print_stacktrace=1 exitcode=66 suppressions=$supp/ubsan.supp"
fi

# Self-check: a UBSan, ASan and LSan report must each end a process with a
# non-zero status under these flags and options, or a report in the suites
# would pass unseen.
if [ "$mode" != thread ]; then
  canary=$build/sanitizer-canary
  c++ -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all "$ROOT/tests/sanitizers/canary.cpp" \
    -o "$canary" || fail "cannot build the canary"
  for c in ubsan asan leak; do
    if out=$("$canary" "$c" 2>&1); then fail "a $c report does not fail a process: $out"; fi
    grep -qE "runtime error|AddressSanitizer|LeakSanitizer" <<<"$out" || fail "no $c report: $out"
  done
  echo "sanitize.sh: UBSan, ASan and LSan reports fail the process (canary)"
fi

status=0
# The sanitizers slow the suites down: meson's timeouts times 4.
meson test -C "$build" --print-errorlogs --num-processes "${TEST_JOBS:-2}" --timeout-multiplier 4 \
  "${suites[@]}" "$@" || status=$?
echo "GST_VERSION=$(pkg-config --modversion gstreamer-1.0 2>/dev/null || echo '?')"
echo "TESTLOG=$build/meson-logs/testlog.json"
exit "$status"
