// Test helper: the message of the moecollab::Error a call throws ("no error" if none).
#pragma once

#include <functional>
#include <string>

#include "moecollab/util/error.h"

namespace moecollab::testing {

inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace moecollab::testing
