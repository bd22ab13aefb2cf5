// What every fuzz target shares: the input as a string, and the one outcome a
// rejected input may have, a moecollab::Error (the clear message a user sees).
// Any other exception escapes to libFuzzer and counts as a crash, because in
// the program it would surface as "internal error".
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "moecollab/util/error.h"

namespace moecollab::fuzz {

inline std::string as_string(const std::uint8_t* data, std::size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

// Runs `parse`; a moecollab::Error is an accepted outcome (the input was refused).
template <class Parse>
void refused_or_parsed(Parse&& parse) {
  try {
    parse();
  } catch (const Error&) {
  }
}

// A broken invariant: abort, so that libFuzzer keeps the input as a crash.
[[noreturn]] void fail(const char* what);

}  // namespace moecollab::fuzz
