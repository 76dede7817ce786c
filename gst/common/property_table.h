// SPDX-License-Identifier: MIT
/*
 * GObject properties as a table of Settings members: one row per property
 * id, naming the member that holds its value; set/get convert between the
 * member and the GValue by the member's type (bool, guint, gint, gint64,
 * gdouble, std::string, or an enum registered as a GEnum). Both elements'
 * settings go through it, so no element writes its own GValue switch.
 *
 *   const PropertyField<Settings> kFields[] = {
 *       field<&Settings::strength>(PROP_STRENGTH), ...};
 *   set_field(kFields, settings, prop_id, value);  // false for an unknown id
 */
#pragma once

#include <glib-object.h>

#include <cstddef>
#include <string>
#include <type_traits>

namespace iir2d::gst {

template <typename T>
void value_to_member(T& dst, const GValue* v) {
  if constexpr (std::is_enum_v<T>) {
    dst = static_cast<T>(g_value_get_enum(v));
  } else if constexpr (std::is_same_v<T, bool>) {
    dst = g_value_get_boolean(v) != FALSE;
  } else if constexpr (std::is_same_v<T, guint>) {
    dst = g_value_get_uint(v);
  } else if constexpr (std::is_same_v<T, gint>) {
    dst = g_value_get_int(v);
  } else if constexpr (std::is_same_v<T, gint64>) {
    dst = g_value_get_int64(v);
  } else if constexpr (std::is_same_v<T, gdouble>) {
    dst = g_value_get_double(v);
  } else {
    static_assert(std::is_same_v<T, std::string>, "no GValue conversion for this member type");
    const gchar* s = g_value_get_string(v);
    dst = s ? s : "";
  }
}

template <typename T>
void member_to_value(const T& src, GValue* v) {
  if constexpr (std::is_enum_v<T>) {
    g_value_set_enum(v, static_cast<gint>(src));
  } else if constexpr (std::is_same_v<T, bool>) {
    g_value_set_boolean(v, src);
  } else if constexpr (std::is_same_v<T, guint>) {
    g_value_set_uint(v, src);
  } else if constexpr (std::is_same_v<T, gint>) {
    g_value_set_int(v, src);
  } else if constexpr (std::is_same_v<T, gint64>) {
    g_value_set_int64(v, src);
  } else if constexpr (std::is_same_v<T, gdouble>) {
    g_value_set_double(v, src);
  } else {
    static_assert(std::is_same_v<T, std::string>, "no GValue conversion for this member type");
    g_value_set_string(v, src.empty() ? nullptr : src.c_str());  // "" reads back as unset (NULL)
  }
}

/* One property: its id and how to move its value in and out of Settings. */
template <typename Settings>
struct PropertyField {
  guint id;
  void (*set)(Settings&, const GValue*);
  void (*get)(const Settings&, GValue*);
};

template <auto Member>
struct MemberOf;
template <typename S, typename T, T S::*Member>
struct MemberOf<Member> {
  using Settings = S;
};

/* The row of property `id`, held in `Member` (e.g. &Settings::strength). */
template <auto Member>
constexpr PropertyField<typename MemberOf<Member>::Settings> field(guint id) {
  using S = typename MemberOf<Member>::Settings;
  return {id, [](S& s, const GValue* v) { value_to_member(s.*Member, v); },
          [](const S& s, GValue* v) { member_to_value(s.*Member, v); }};
}

/* Sets / gets property `id` through `table`; false if the table has no such id. */
template <typename Settings, std::size_t N>
bool set_field(const PropertyField<Settings> (&table)[N], Settings& s, guint id, const GValue* v) {
  for (const auto& f : table)
    if (f.id == id) {
      f.set(s, v);
      return true;
    }
  return false;
}
template <typename Settings, std::size_t N>
bool get_field(const PropertyField<Settings> (&table)[N], const Settings& s, guint id, GValue* v) {
  for (const auto& f : table)
    if (f.id == id) {
      f.get(s, v);
      return true;
    }
  return false;
}

}  // namespace iir2d::gst
