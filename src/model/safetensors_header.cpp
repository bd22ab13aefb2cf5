#include "moecollab/model/safetensors_header.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>

#include "moecollab/model/json_integer.h"
#include "moecollab/util/error.h"

namespace moecollab {
namespace {

constexpr std::uint64_t kMaxHeaderBytes = 100u << 20;

// shape x element size in bytes, or an Error for a negative dimension or a product past 2^62.
std::uint64_t byte_count(const std::vector<std::int64_t>& shape, std::size_t element_size) {
  std::uint64_t bytes = element_size;
  for (const auto s : shape) {
    if (s < 0) throw Error("negative dimension " + std::to_string(s) + " in its shape");
    if (s != 0 && bytes > (std::uint64_t{1} << 62) / static_cast<std::uint64_t>(s)) {
      throw Error("shape too large to address");
    }
    bytes *= static_cast<std::uint64_t>(s);
  }
  return bytes;
}

SafetensorsEntry parse_entry(const std::string& name, const nlohmann::json& entry) {
  if (!entry.is_object()) throw Error("entry is not a JSON object");
  SafetensorsEntry e;
  e.name = name;
  e.dtype = entry.at("dtype").get<std::string>();
  const std::size_t size = safetensors_dtype_size(e.dtype);
  if (size == 0) throw Error("unsupported dtype " + e.dtype);
  // Each dimension must be a JSON integer that fits int64: a number like 5e77 (no integer) would
  // otherwise reach a float-to-integer conversion that has no defined result (found by fuzzing).
  const auto& shape = entry.at("shape");
  if (!shape.is_array()) throw Error("shape must be an array of integers");
  for (const auto& dim : shape) {
    if (!is_int64(dim)) {
      throw Error("shape must be an array of integers, not " + dim.dump());
    }
    e.shape.push_back(dim.get<std::int64_t>());
  }
  const auto& offsets = entry.at("data_offsets");
  if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
      !offsets[1].is_number_unsigned()) {
    throw Error("data_offsets must be two non-negative integers [begin, end]");
  }
  e.begin = offsets[0].get<std::uint64_t>();
  e.end = offsets[1].get<std::uint64_t>();
  const std::uint64_t bytes = byte_count(e.shape, size);
  if (e.begin > e.end || e.end - e.begin != bytes) {
    throw Error("data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) + ") hold " +
                std::to_string(e.end - std::min(e.begin, e.end)) + " bytes, its shape and dtype need " +
                std::to_string(bytes));
  }
  return e;
}

}  // namespace

std::size_t safetensors_dtype_size(std::string_view dtype) {
  if (dtype == "F64" || dtype == "I64") return 8;
  if (dtype == "F32" || dtype == "I32") return 4;
  if (dtype == "F16" || dtype == "BF16") return 2;
  if (dtype == "U8") return 1;
  return 0;
}

std::uint64_t safetensors_header_length(std::string_view first_bytes, std::uint64_t file_size,
                                        const std::string& path) {
  if (first_bytes.size() < 8 || file_size < 8) throw Error(path + ": too short for a safetensors header");
  std::uint64_t length = 0;
  for (int i = 7; i >= 0; --i) length = (length << 8) | static_cast<unsigned char>(first_bytes[i]);
  if (length > file_size - 8 || length > kMaxHeaderBytes) {
    throw Error(path + ": safetensors header length " + std::to_string(length) + " exceeds the file");
  }
  return length;
}

std::vector<SafetensorsEntry> parse_safetensors_header(std::string_view json_text, std::uint64_t buffer_size,
                                                       const std::string& path) {
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": malformed safetensors header: " + e.what());
  }
  if (!json.is_object()) throw Error(path + ": safetensors header is not a JSON object");
  std::vector<SafetensorsEntry> entries;
  for (const auto& [name, entry] : json.items()) {
    if (name == "__metadata__") continue;
    try {
      entries.push_back(parse_entry(name, entry));
    } catch (const nlohmann::json::exception& e) {
      throw Error(path + ": tensor '" + name + "': malformed entry: " + e.what());
    } catch (const Error& e) {
      throw Error(path + ": tensor '" + name + "': " + e.what());
    }
  }
  std::vector<const SafetensorsEntry*> by_offset;
  std::uint64_t needed = 0;
  for (const auto& e : entries) {
    by_offset.push_back(&e);
    needed = std::max(needed, e.end);
  }
  if (needed > buffer_size) {
    throw Error(path + ": truncated: its tensors need a buffer of " + std::to_string(needed) +
                " bytes, the file holds " + std::to_string(buffer_size));
  }
  std::sort(by_offset.begin(), by_offset.end(),
            [](const auto* a, const auto* b) { return a->begin != b->begin ? a->begin < b->begin : a->end < b->end; });
  for (std::size_t i = 1; i < by_offset.size(); ++i) {
    const auto& a = *by_offset[i - 1];
    const auto& b = *by_offset[i];
    if (b.begin < a.end) {
      throw Error(path + ": tensors '" + a.name + "' and '" + b.name + "' overlap in the buffer (bytes [" +
                  std::to_string(a.begin) + ", " + std::to_string(a.end) + ") and [" + std::to_string(b.begin) + ", " +
                  std::to_string(b.end) + "))");
    }
  }
  return entries;
}

}  // namespace moecollab
