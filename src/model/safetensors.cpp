#include "moecollab/model/safetensors.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "moecollab/util/error.h"
#include "moecollab/util/files.h"

namespace moecollab {
namespace {

struct DtypeInfo {
  const char* name;
  torch::ScalarType stored;  // how the bytes are laid out
  std::size_t size;
};

const DtypeInfo kDtypes[] = {
    {"F32", torch::kFloat32, 4},   {"F64", torch::kFloat64, 8}, {"F16", torch::kFloat16, 2},
    {"BF16", torch::kBFloat16, 2}, {"I64", torch::kInt64, 8},   {"I32", torch::kInt32, 4},
    {"U8", torch::kUInt8, 1},
};

const DtypeInfo* find_dtype(const std::string& name) {
  for (const auto& d : kDtypes) {
    if (name == d.name) return &d;
  }
  return nullptr;
}

const DtypeInfo* find_dtype(torch::ScalarType type) {
  for (const auto& d : kDtypes) {
    if (type == d.stored) return &d;
  }
  return nullptr;
}

// Opens `path` and reads its JSON header; leaves `in` at the start of the buffer.
nlohmann::json read_header(std::ifstream& in, const std::string& path, std::uint64_t& header_len) {
  in.open(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open");
  const auto file_size = std::filesystem::file_size(path);
  unsigned char len_bytes[8];
  if (!in.read(reinterpret_cast<char*>(len_bytes), 8)) throw Error(path + ": too short for a safetensors header");
  header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | len_bytes[i];
  if (header_len > file_size - 8 || header_len > (100u << 20)) {
    throw Error(path + ": safetensors header length " + std::to_string(header_len) + " exceeds the file");
  }
  std::string header(header_len, '\0');
  in.read(header.data(), static_cast<std::streamsize>(header_len));
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(header);
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": malformed safetensors header: " + e.what());
  }
  if (!json.is_object()) throw Error(path + ": safetensors header is not a JSON object");
  return json;
}

}  // namespace

std::vector<std::string> safetensors_names(const std::string& path) {
  std::ifstream in;
  std::uint64_t header_len = 0;
  const auto json = read_header(in, path, header_len);
  std::vector<std::string> names;
  for (const auto& [name, entry] : json.items()) {
    if (name != "__metadata__") names.push_back(name);
  }
  return names;
}

NamedTensors read_safetensors(const std::string& path) {
  std::ifstream in;
  std::uint64_t header_len = 0;
  const auto json = read_header(in, path, header_len);
  const auto file_size = std::filesystem::file_size(path);
  const std::uint64_t buffer_size = file_size - 8 - header_len;
  std::string buffer(buffer_size, '\0');
  if (!in.read(buffer.data(), static_cast<std::streamsize>(buffer_size))) throw Error(path + ": truncated buffer");
  NamedTensors out;
  for (const auto& [name, entry] : json.items()) {
    if (name == "__metadata__") continue;
    try {
      const auto dtype_name = entry.at("dtype").get<std::string>();
      const auto* dtype = find_dtype(dtype_name);
      if (!dtype) throw Error("unsupported dtype " + dtype_name);
      const auto shape = entry.at("shape").get<std::vector<std::int64_t>>();
      const auto offsets = entry.at("data_offsets").get<std::vector<std::uint64_t>>();
      std::int64_t count = 1;
      for (auto s : shape) count *= s;
      if (offsets.size() != 2 || offsets[0] > offsets[1] || offsets[1] > buffer_size ||
          offsets[1] - offsets[0] != static_cast<std::uint64_t>(count) * dtype->size) {
        throw Error("data_offsets do not match its shape and dtype within the " + std::to_string(buffer_size) +
                    "-byte buffer");
      }
      auto t = torch::empty(shape, dtype->stored);
      std::memcpy(t.data_ptr(), buffer.data() + offsets[0], offsets[1] - offsets[0]);
      const bool real =
          dtype->stored == torch::kFloat16 || dtype->stored == torch::kBFloat16 || dtype->stored == torch::kFloat64;
      out[name] = real ? t.to(torch::kFloat32) : t;
    } catch (const nlohmann::json::exception& e) {
      throw Error(path + ": tensor '" + name + "': malformed entry: " + e.what());
    } catch (const Error& e) {
      throw Error(path + ": tensor '" + name + "': " + e.what());
    }
  }
  return out;
}

void write_safetensors(const std::string& path, const NamedTensors& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::uint64_t offset = 0;
  std::vector<torch::Tensor> data;
  for (const auto& [name, t_in] : tensors) {
    const auto t = t_in.detach().to(torch::kCPU).contiguous();
    const auto* dtype = find_dtype(t.scalar_type());
    if (!dtype) throw Error(path + ": cannot store tensor '" + name + "' of this dtype");
    header[name] = {
        {"dtype", dtype->name}, {"shape", t.sizes().vec()}, {"data_offsets", {offset, offset + t.nbytes()}}};
    offset += t.nbytes();
    data.push_back(t);
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // keep the buffer 8-byte aligned, as the reference writer does
  write_file_atomically(path, [&](std::ostream& out) {
    unsigned char len_bytes[8];
    std::uint64_t len = text.size();
    for (int i = 0; i < 8; ++i) len_bytes[i] = static_cast<unsigned char>(len >> (8 * i));
    out.write(reinterpret_cast<const char*>(len_bytes), 8);
    out << text;
    for (const auto& t : data)
      out.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.nbytes()));
  });
}

}  // namespace moecollab
