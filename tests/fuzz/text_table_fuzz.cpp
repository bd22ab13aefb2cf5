// The CSV/TSV reader: the first byte picks the delimiter (even: CSV, odd: TSV)
// and whether a label is required; the rest is the file.
#include <sstream>

#include "fuzz_input.h"
#include "moecollab/data/text_table.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace moecollab;
  if (size == 0) return 0;
  const auto format = data[0] % 2 ? TextFormat::kTsv : TextFormat::kCsv;
  const bool require_label = data[0] & 2;
  std::istringstream in(fuzz::as_string(data + 1, size - 1));
  fuzz::refused_or_parsed([&] {
    for (const auto& row : parse_labelled_text(in, "fuzz.csv", format, require_label)) {
      if (require_label && row.label.empty()) fuzz::fail("a required label came back empty");
      if (row.line == 0) fuzz::fail("a record without its line number");
    }
  });
  return 0;
}
