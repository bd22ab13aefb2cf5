// Whether a JSON value is an integer that fits int64: what every integer field of a file we
// read (safetensors shapes, Hugging Face config.json sizes) must be checked with before
// get<int64_t>(), since a float such as 5e77 has no defined conversion to an integer.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

namespace moecollab {

inline bool is_int64(const nlohmann::json& v) {
  return v.is_number_integer() &&
         !(v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX));
}

}  // namespace moecollab
