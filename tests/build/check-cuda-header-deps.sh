#!/bin/sh
# Suite build: every CUDA object of the build must depend on the headers its
# unit includes, so that changing a header rebuilds it. Meson before 1.4
# gave nvcc no -MD, and ninja rebuilt nothing when a header changed
# (cuda/meson.build). For each .cu object this asks ninja, without building,
# for its recorded dependencies (-t deps, filled from nvcc's depfile) and its
# declared inputs (-t inputs, where the wrapper of cuda/meson.build carries
# the headers), and looks for every header that the unit includes directly
# with #include "...".  Args: BUILD_ROOT SOURCE_ROOT
set -eu
build=$1; src=$2
objs=$(ninja -C "$build" -t targets all | sed -n 's/^\([^:]*\.cu\.o\): .*/\1/p')
[ -n "$objs" ] || { echo "no CUDA objects in $build"; exit 1; }
fail=0; checked=0
for o in $objs; do
  unit=$(basename "$o" .o); unit=${unit#meson-generated_.._tracked_}
  file=$(find "$src/cuda" -name "$unit" | head -n1)
  [ -n "$file" ] || { echo "FAIL $o: no source $unit under $src/cuda"; fail=1; continue; }
  known=$( { ninja -C "$build" -t deps "$o"; ninja -C "$build" -t inputs "$o"; } 2>/dev/null)
  for h in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$file"); do
    checked=$((checked + 1))
    if ! printf '%s\n' "$known" | grep -q -- "/$h\$"; then
      echo "FAIL $o: a change to $h would not rebuild it (ninja does not list it)"; fail=1
    fi
  done
done
echo "$checked included headers checked over $(echo "$objs" | wc -w) CUDA objects"
exit $fail
