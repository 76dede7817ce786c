// SPDX-License-Identifier: MIT
/*
 * A C++ exception must never leave a GStreamer callback: it would unwind
 * through GLib's C frames and end the process (std::terminate, SIGABRT).
 * guard_callback() runs a callback's body and turns std::bad_alloc (an
 * allocation that failed: a huge frame under an address-space limit, a
 * full machine) or any other exception into an element error posted on the
 * bus, returning the callback's failure value instead (FALSE,
 * GST_FLOW_ERROR, nullptr).
 */
#pragma once

#include <gst/gst.h>

#include <exception>
#include <new>

namespace iir2d::gst {

template <typename R, typename F>
R guard_callback(GstElement* element, const char* callback, R on_failure, F&& body) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    GST_ELEMENT_ERROR(element, RESOURCE, NO_SPACE_LEFT, ("Out of memory."),
                      ("an allocation failed in %s (std::bad_alloc): lower the resolution or raise the "
                       "process's memory limit",
                       callback));
  } catch (const std::exception& e) {
    GST_ELEMENT_ERROR(element, LIBRARY, FAILED, ("Internal error in %s.", callback), ("%s", e.what()));
  } catch (...) {
    GST_ELEMENT_ERROR(element, LIBRARY, FAILED, ("Internal error in %s.", callback), ("unknown exception"));
  }
  return on_failure;
}

}  // namespace iir2d::gst
