#!/usr/bin/env bash
# The README's Install section, checked: `meson install` of this build into a
# DESTDIR puts the plugin in the folder meson was configured for, that folder
# is GStreamer's own pluginsdir when the prefix is GStreamer's, gst-inspect-1.0
# finds both elements there WITHOUT GST_PLUGIN_PATH (GST_PLUGIN_SYSTEM_PATH
# points into the DESTDIR, the registry is a temporary file) and shows the
# configured origin (and iir2dfilter's author), and the messages header and gstiir2d-1.0.pc are
# installed and usable (a C++ file including the header through pkg-config's
# flags compiles).
#
# Usage (tests/install/meson.build): check-install.sh BUILD PREFIX PLUGINDIR
#   GST_PREFIX GST_PLUGINSDIR INCLUDEDIR PKGCONFIGDIR ORIGIN AUTHOR CXX...
# Exit status: 0 when all holds, 1 otherwise (never 77: a plugin that is not
# found is a failure).
set -euo pipefail
build=$1 prefix=$2 plugindir=$3 gst_prefix=$4 gst_pluginsdir=$5 includedir=$6 pcdir=$7 origin=$8 author=$9
shift 9
cxx=("$@")
fail() { echo "FAIL: $*"; exit 1; }

dest=$(mktemp -d "${TMPDIR:-/tmp}/iir2d-install.XXXXXX")
trap 'rm -rf "$dest"' EXIT

echo "meson install -C $build --destdir $dest"
meson install -C "$build" --destdir "$dest" --no-rebuild --quiet

so=$dest$plugindir/libgstiir2d.so
[ -f "$so" ] || fail "the plugin is not at $plugindir/libgstiir2d.so; installed: $(cd "$dest" && find . -name '*.so')"
if [ "$prefix" = "$gst_prefix" ]; then
  [ "$plugindir" = "$gst_pluginsdir" ] ||
    fail "prefix $prefix is GStreamer's, but the plugin went to $plugindir, not GStreamer's pluginsdir $gst_pluginsdir"
  echo "prefix $prefix is GStreamer's: plugin installed into its pluginsdir $plugindir"
else
  echo "prefix $prefix is not GStreamer's ($gst_prefix): plugin installed into $plugindir (README: add it to GST_PLUGIN_PATH)"
fi

# GStreamer as an installed system sees it: no GST_PLUGIN_PATH, system path
# = the installed folder, a fresh registry.
inspect() {
  env -u GST_PLUGIN_PATH -u GST_PLUGIN_PATH_1_0 \
    GST_PLUGIN_SYSTEM_PATH_1_0="$dest$plugindir" GST_PLUGIN_SYSTEM_PATH="$dest$plugindir" \
    GST_REGISTRY_1_0="$dest/registry.bin" GST_REGISTRY="$dest/registry.bin" GST_REGISTRY_FORK=no \
    gst-inspect-1.0 "$@"
}
for element in iir2dfilter qualitymeter; do
  out=$(inspect "$element" 2>&1) || fail "gst-inspect-1.0 $element did not find the installed element: $out"
  grep -q "$so" <<<"$out" || fail "gst-inspect-1.0 $element did not load $so: $(grep -i filename <<<"$out")"
  echo "gst-inspect-1.0 $element: found in $so"
done
out=$(inspect iir2dfilter 2>&1)
grep -qF "$author" <<<"$out" || fail "iir2dfilter's author is not the configured '$author': $(grep -i author <<<"$out")"
echo "iir2dfilter author: $author"
out=$(inspect iir2d 2>&1) || fail "gst-inspect-1.0 iir2d: $out"
grep -qF "$origin" <<<"$out" || fail "the plugin's origin is not the configured '$origin': $(grep -i origin <<<"$out")"
echo "plugin origin: $origin"

hdr=$dest$includedir/gstiir2d-1.0/gstqualitymetermessages.h
pc=$dest$pcdir/gstiir2d-1.0.pc
[ -f "$hdr" ] || fail "the messages header is not at $includedir/gstiir2d-1.0/gstqualitymetermessages.h"
[ -f "$pc" ] || fail "gstiir2d-1.0.pc is not at $pcdir"
# The .pc's flags as an application gets them, its -I folders that exist
# only under the DESTDIR taken from there.
cflags=()
for flag in $(PKG_CONFIG_PATH="$dest$pcdir" pkg-config --cflags gstiir2d-1.0); do
  if [[ $flag == -I* ]] && [ ! -d "${flag#-I}" ] && [ -d "$dest${flag#-I}" ]; then flag=-I$dest${flag#-I}; fi
  cflags+=("$flag")
done
got=$(PKG_CONFIG_PATH="$dest$pcdir" pkg-config --variable=pluginsdir gstiir2d-1.0)
[ "$got" = "$plugindir" ] || fail "gstiir2d-1.0.pc says pluginsdir=$got, the plugin is in $plugindir"
src=$dest/use-messages.cpp
printf '#include <gstqualitymetermessages.h>\nint main() { return 0; }\n' >"$src"
"${cxx[@]}" -std=c++17 -fsyntax-only "${cflags[@]}" "$src" ||
  fail "a file including <gstqualitymetermessages.h> with pkg-config --cflags gstiir2d-1.0 does not compile"
echo "gstiir2d-1.0.pc: pluginsdir=$got, the header compiles with its --cflags"
echo "install check passed"
