// A registry's index.json (each package's manifest entry): parsed, written
// back and parsed again, which must give the same entries.
#include "fuzz_input.h"
#include "moecollab/io/registry_index.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace moecollab;
  fuzz::refused_or_parsed([&] {
    const auto entries = parse_registry_index(fuzz::as_string(data, size), "fuzz/index.json");
    const auto again = parse_registry_index(registry_index_text(entries), "fuzz/index.json");
    if (again.size() != entries.size()) fuzz::fail("round trip changed the number of entries");
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const auto& a = entries[i];
      const auto& b = again[i];
      if (a.domain != b.domain || a.version != b.version || a.file != b.file || a.content_hash != b.content_hash ||
          a.encoder_fingerprint != b.encoder_fingerprint || a.contributor != b.contributor || a.added != b.added) {
        fuzz::fail("round trip changed an entry");
      }
      if (a.file.find("..") != std::string::npos || (!a.file.empty() && a.file[0] == '/')) {
        fuzz::fail("an entry's file points outside the registry");
      }
    }
  });
  return 0;
}
