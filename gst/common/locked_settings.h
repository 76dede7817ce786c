// SPDX-License-Identifier: MIT
/*
 * An element's property values under a lock (STYLE.md: settings vs state):
 * GObject's set/get_property go through the element's property table,
 * found by argument-dependent lookup as
 *   bool set_property(Settings&, guint prop_id, const GValue*);
 *   bool get_property(const Settings&, guint prop_id, GValue*);
 * and the streaming thread takes a copy once per frame.
 */
#pragma once

#include <glib-object.h>

#include <mutex>

namespace iir2d::gst {

template <typename Settings>
class LockedSettings {
 public:
  Settings copy() const {
    std::lock_guard<std::mutex> guard(lock_);
    return values_;
  }
  /* GObjectClass::set_property / get_property; warns on an unknown id. */
  void set(GObject* object, guint prop_id, const GValue* value, GParamSpec* pspec) {
    std::lock_guard<std::mutex> guard(lock_);
    if (!set_property(values_, prop_id, value)) G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
  void get(GObject* object, guint prop_id, GValue* value, GParamSpec* pspec) const {
    std::lock_guard<std::mutex> guard(lock_);
    if (!get_property(values_, prop_id, value)) G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }

 private:
  mutable std::mutex lock_;
  Settings values_;
};

}  // namespace iir2d::gst
