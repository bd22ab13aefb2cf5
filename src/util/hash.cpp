#include "moecollab/util/hash.h"

#include <cstdio>

namespace moecollab {

std::uint64_t fnv1a(const void* data, std::size_t size, std::uint64_t seed) {
  constexpr std::uint64_t kPrime = 1099511628211ULL;
  const auto* bytes = static_cast<const unsigned char*>(data);
  std::uint64_t h = seed;
  for (std::size_t i = 0; i < size; ++i) {
    h ^= bytes[i];
    h *= kPrime;
  }
  return h;
}

std::uint64_t fnv1a(std::string_view bytes, std::uint64_t seed) {
  return fnv1a(bytes.data(), bytes.size(), seed);
}

std::string hex64(std::uint64_t value) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(value));
  return buf;
}

}  // namespace moecollab
