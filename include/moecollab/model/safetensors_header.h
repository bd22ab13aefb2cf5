// The header of a safetensors file, parsed and checked without reading a
// tensor (and without libtorch): the 8-byte little-endian length, then the JSON
// that maps each tensor name to its dtype, shape and [begin, end) byte range in
// the buffer that follows. Kept apart from safetensors.h so that the checks can
// be fuzzed on their own (tests/fuzz).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace moecollab {

struct SafetensorsEntry {
  std::string name;
  std::string dtype;  // "F32", "F64", "F16", "BF16", "I64", "I32" or "U8"
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0, end = 0;  // byte range in the buffer
};

// The bytes per element of a safetensors dtype name, or 0 for a dtype this reader does not take.
std::size_t safetensors_dtype_size(std::string_view dtype);

// The header length that the file's first 8 bytes give. Throws Error naming `path`
// when there are fewer than 8 bytes or the length exceeds the file (or 100 MiB).
std::uint64_t safetensors_header_length(std::string_view first_bytes, std::uint64_t file_size, const std::string& path);

// The tensors of the header `json` (in the header's order), each checked: a known dtype,
// a non-negative shape, a byte range of exactly shape x dtype size inside the
// `buffer_size`-byte buffer, and no two ranges overlapping. Throws Error naming
// `path` and the tensor for the first problem (a truncated file is said to be one).
std::vector<SafetensorsEntry> parse_safetensors_header(std::string_view json, std::uint64_t buffer_size,
                                                       const std::string& path);

}  // namespace moecollab
