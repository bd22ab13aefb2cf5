// Stable 64-bit hashing (FNV-1a) for things that must agree across runs,
// machines and ranks: data splits, vocabulary and weight fingerprints.
// Not cryptographic; std::hash is not used because it may differ by platform.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace moecollab {

constexpr std::uint64_t kFnvOffset = 1469598103934665603ULL;

std::uint64_t fnv1a(std::string_view bytes, std::uint64_t seed = kFnvOffset);
std::uint64_t fnv1a(const void* data, std::size_t size, std::uint64_t seed = kFnvOffset);

// A bijective 64-bit finaliser (splitmix64's) that spreads every input bit over
// every output bit: FNV-1a alone leaves the high bits of similar strings close.
std::uint64_t mix64(std::uint64_t value);

// 16 lower-case hex digits.
std::string hex64(std::uint64_t value);

}  // namespace moecollab
