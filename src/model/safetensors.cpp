#include "moecollab/model/safetensors.h"

#include "moecollab/model/safetensors_header.h"

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

// Opens `path` and reads and checks its header; leaves `in` at the start of the buffer.
std::vector<SafetensorsEntry> read_header(std::ifstream& in, const std::string& path, std::uint64_t& buffer_size) {
  in.open(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open");
  const auto file_size = std::filesystem::file_size(path);
  std::string first(8, '\0');
  in.read(first.data(), 8);
  first.resize(static_cast<std::size_t>(in.gcount()));
  const std::uint64_t header_len = safetensors_header_length(first, file_size, path);
  std::string header(header_len, '\0');
  if (!in.read(header.data(), static_cast<std::streamsize>(header_len))) throw Error(path + ": truncated header");
  buffer_size = file_size - 8 - header_len;
  return parse_safetensors_header(header, buffer_size, path);
}

}  // namespace

std::vector<std::string> safetensors_names(const std::string& path) {
  std::ifstream in;
  std::uint64_t buffer_size = 0;
  std::vector<std::string> names;
  for (const auto& e : read_header(in, path, buffer_size)) names.push_back(e.name);
  return names;
}

NamedTensors read_safetensors(const std::string& path) {
  std::ifstream in;
  std::uint64_t buffer_size = 0;
  const auto entries = read_header(in, path, buffer_size);
  std::string buffer(buffer_size, '\0');
  if (!in.read(buffer.data(), static_cast<std::streamsize>(buffer_size))) throw Error(path + ": truncated buffer");
  NamedTensors out;
  for (const auto& e : entries) {
    const auto* dtype = find_dtype(e.dtype);
    auto t = torch::empty(e.shape, dtype->stored);
    if (e.end > e.begin) std::memcpy(t.data_ptr(), buffer.data() + e.begin, e.end - e.begin);
    const bool real =
        dtype->stored == torch::kFloat16 || dtype->stored == torch::kBFloat16 || dtype->stored == torch::kFloat64;
    out[e.name] = real ? t.to(torch::kFloat32) : t;
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
