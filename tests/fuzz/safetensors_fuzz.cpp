// The safetensors header and its offsets: the input is a whole file.
#include "fuzz_input.h"
#include "moecollab/model/safetensors_header.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace moecollab;
  const std::string file = fuzz::as_string(data, size);
  fuzz::refused_or_parsed([&] {
    const auto length = safetensors_header_length(file, file.size(), "fuzz.safetensors");
    const std::uint64_t buffer = file.size() - 8 - length;
    const auto entries = parse_safetensors_header(std::string_view(file).substr(8, length), buffer, "fuzz.safetensors");
    for (const auto& e : entries) {
      if (e.begin > e.end || e.end > buffer) fuzz::fail("a tensor's bytes outside the buffer were accepted");
      std::uint64_t count = safetensors_dtype_size(e.dtype);
      for (const auto s : e.shape) count *= static_cast<std::uint64_t>(s);
      if (count != e.end - e.begin) fuzz::fail("a tensor's byte range differs from its shape");
      for (const auto& other : entries) {
        if (&other != &e && e.begin < other.end && other.begin < e.end) fuzz::fail("overlapping tensors accepted");
      }
    }
  });
  return 0;
}
