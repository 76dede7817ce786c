# Sourced by the scripts of pipelines/: checks, before a launch line runs,
# that its GStreamer elements are registered, and when one is not says which,
# why it usually is, and what runs instead, rather than gst-launch-1.0's bare
# `no element "cudaupload"`.
#
#   need_plugin                 iir2dfilter and qualitymeter (this project's)
#   need_gpu "CPU COMMAND" E... cudaupload, nvh264dec, ...: GStreamer's nvcodec
# Both exit 3 when something is missing.

# The project's plugin: found through GST_PLUGIN_PATH (the scripts set it to
# $BUILD_DIR/gst) or installed (README: Install).
need_plugin() {
  gst-inspect-1.0 iir2dfilter >/dev/null 2>&1 && return 0
  {
    echo "${0##*/}: element iir2dfilter not found (GST_PLUGIN_PATH=${GST_PLUGIN_PATH:-unset})."
    echo "  Build it first: pipelines/build.sh ${BUILD_DIR:-<repo>/build} (or pipelines/demo.sh), or install it (README: Install)."
  } >&2
  exit 3
}

# nvcodec registers its elements only where the NVIDIA driver's libcuda
# loads (and nvh264dec only where NVDEC is usable on that GPU).
need_gpu() {
  local cpu=$1 missing=() e
  shift
  for e in "$@"; do gst-inspect-1.0 "$e" >/dev/null 2>&1 || missing+=("$e"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  {
    echo "${0##*/} gpu: GStreamer element(s) missing: ${missing[*]}."
    echo "  They come from GStreamer's nvcodec plugin (Debian: gstreamer1.0-plugins-bad), which registers"
    echo "  them only where an NVIDIA GPU and its driver (libcuda.so.1) are usable: nvidia-smi says whether one is;"
    echo "  GST_DEBUG=nvcodec:5 gst-inspect-1.0 nvcodec says why it registered nothing."
    echo "  The CPU variant runs anywhere:"
    echo "    $cpu"
  } >&2
  exit 3
}
