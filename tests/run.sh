#!/usr/bin/env bash
# The test command of README.md (and of CI, .ci/run). Installs the Debian
# packages it needs, then runs the legs one after the other:
#
#   host   this machine's GStreamer (1.22 on Debian 12): a fresh build (CUDA
#          kernels too where nvcc is found, for this GPU only where one is
#          seen: pipelines/build.sh), every suite through `meson test`, the
#          summary of tests/summary.py;
#   then each tests/ci/<leg>.sh named in LEGS (default: every one present,
#          sanitize first, then trixie, then any other in name order).
#
# Each leg prints its own block, headed "==== <leg> (GStreamer <version>)",
# with one line per suite: passed, skipped and failed GoogleTest cases. The
# final lines are one line per leg and, last, the overall
#     N passed, N failed, N skipped
# Per-case listings stay in each build's meson-logs/testlog.txt.
#
# The leg contract (what tests/ci/<leg>.sh must do):
#   - it is run as `bash tests/ci/<leg>.sh [ARGS...]` from the repository
#     root, ARGS being this script's arguments (for its `meson test`);
#   - environment: ROOT (the repository root), LEG_BUILD_ROOT (an empty
#     folder of its own for its builds and logs), MESON_ARGS (as given here;
#     the leg may add its own options);
#   - it may print anything (its build's progress, meson test's output);
#   - it prints on stdout `GST_VERSION=<version>` (the GStreamer it built
#     and ran against; optional) and, as its last line, `TESTLOG=<path>`:
#     the meson-logs/testlog.json of its test run;
#   - it exits 0 when its suites passed, 77 when the leg cannot run on this
#     machine (e.g. no chroot; the reason on stderr: reported as skipped),
#     anything else when something failed.
#
# Environment: BUILD_DIR   the host leg's build folder; unset: <repo>/build-tests,
#                          wiped first (a fresh build); set (e.g. to the demo's
#                          <repo>/build): reused, only what changed is rebuilt
#              MESON_ARGS  extra `meson setup` options (e.g. -Dcuda-archs=90)
#              LEGS        the legs after host, e.g. "sanitize" ("" for host only)
# Arguments are passed on to `meson test` (e.g. --suite refcpu).
# Exit status: non-zero when any leg failed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(realpath -m "${BUILD_DIR:-$root/build-tests}")
legs_root=$build-legs
t0=$(date +%s)
step() {
  local s=$(($(date +%s) - t0))
  printf '[run.sh %d:%02d] %s\n' $((s / 60)) $((s % 60)) "$*"
}

step "installing the Debian packages that are missing (pipelines/install-deps.sh)"
"$root/pipelines/install-deps.sh"

if [ -z "${LEGS+set}" ]; then
  legs=()
  for leg in sanitize trixie; do [ -f "$root/tests/ci/$leg.sh" ] && legs+=("$leg"); done
  for f in "$root"/tests/ci/*.sh; do
    [ -f "$f" ] || continue
    leg=$(basename "$f" .sh)
    [[ " ${legs[*]} " == *" $leg "* ]] || legs+=("$leg")
  done
else
  read -r -a legs <<<"${LEGS//,/ }"
fi
step "legs: host${legs[*]:+ ${legs[*]}}"

lines=()  # one per leg, for the end
total_p=0 total_f=0 total_s=0 failed_legs=0

# summarise LEG VERSION STATUS TESTLOG: the leg's block and its line.
summarise() {
  local leg=$1 version=$2 status=$3 testlog=$4 out last p=0 f=0 s=0 verdict
  echo
  if [ -n "$testlog" ] && [ -f "$testlog" ]; then
    out=$(python3 "$root/tests/summary.py" --title "$leg (GStreamer $version)" "$testlog") || true
    printf '%s\n' "$out"
    last=$(tail -n 1 <<<"$out")
    if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped$ ]]; then
      p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]} s=${BASH_REMATCH[3]}
    fi
  else
    echo "==== $leg (GStreamer $version)"
    echo "no test log${testlog:+ at $testlog}: the leg stopped before its tests (see its output above)"
  fi
  if [ "$status" -eq 77 ]; then
    verdict="skipped: cannot run here (see its output above)"
  elif [ "$status" -ne 0 ]; then
    failed_legs=$((failed_legs + 1))
    if [ "$f" -eq 0 ]; then
      f=1
      verdict="FAILED (exit $status, no failed case: counted as 1 failed)"
    else
      verdict="FAILED (exit $status)"
    fi
  elif [ "$f" -ne 0 ]; then
    failed_legs=$((failed_legs + 1))
    verdict="FAILED"
  else
    verdict="ok"
  fi
  total_p=$((total_p + p)) total_f=$((total_f + f)) total_s=$((total_s + s))
  lines+=("$(printf '%-10s GStreamer %-8s %6d passed, %4d failed, %6d skipped  %s' "$leg" "$version" "$p" "$f" "$s" "$verdict")")
}

# ---- host leg -------------------------------------------------------------
if [ -z "${BUILD_DIR:-}" ]; then
  step "host: fresh build in $build"
  rm -rf "$build"
else
  step "host: building in $build (BUILD_DIR: reused)"
fi
host_version=$(pkg-config --modversion gstreamer-1.0 2>/dev/null || echo "?")
status=0
BUILD_TAG="run.sh host build" "$root/pipelines/build.sh" "$build" || status=$?
if [ "$status" -eq 0 ]; then
  step "host: meson test"
  meson test -C "$build" --print-errorlogs --num-processes 2 "$@" || status=$?
  summarise host "$host_version" "$status" "$build/meson-logs/testlog.json"
else
  summarise host "$host_version" "$status" ""
fi

# ---- further legs -----------------------------------------------------------
for leg in "${legs[@]}"; do
  script=$root/tests/ci/$leg.sh
  dir=$legs_root/$leg
  if [ ! -f "$script" ]; then
    step "$leg: no script $script"
    summarise "$leg" "?" 1 ""
    continue
  fi
  step "$leg: bash tests/ci/$leg.sh (builds in $dir)"
  rm -rf "$dir"
  mkdir -p "$dir"
  status=0
  (cd "$root" && ROOT=$root LEG_BUILD_ROOT=$dir bash "$script" "$@") | tee "$dir.out" || status=$?
  testlog=$(sed -n 's/^TESTLOG=//p' "$dir.out" | tail -n 1)
  version=$(sed -n 's/^GST_VERSION=//p' "$dir.out" | tail -n 1)
  summarise "$leg" "${version:-?}" "$status" "$testlog"
done

echo
step "done"
echo "==== legs"
printf '%s\n' "${lines[@]}"
echo "$total_p passed, $total_f failed, $total_s skipped"
[ "$failed_legs" -eq 0 ]
