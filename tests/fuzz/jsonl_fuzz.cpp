// The JSONL reader: the first byte says whether a label is required; the rest is the file.
#include <sstream>

#include "fuzz_input.h"
#include "moecollab/data/text_table.h"
#include "moecollab/util/utf8.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace moecollab;
  if (size == 0) return 0;
  const bool require_label = data[0] & 1;
  std::istringstream in(fuzz::as_string(data + 1, size - 1));
  fuzz::refused_or_parsed([&] {
    for (const auto& row : parse_labelled_text(in, "fuzz.jsonl", TextFormat::kJsonl, require_label)) {
      if (!decode_utf8(row.text) || !decode_utf8(row.label)) fuzz::fail("a field that is not UTF-8 was accepted");
    }
  });
  return 0;
}
