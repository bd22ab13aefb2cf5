// vocab.txt loading, then the tokenizer built on what was loaded.
#include <sstream>

#include "fuzz_input.h"
#include "moecollab/data/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace moecollab;
  std::istringstream in(fuzz::as_string(data, size));
  fuzz::refused_or_parsed([&] {
    auto vocab = Vocabulary::parse(in, "fuzz-vocab.txt");
    if (vocab.find(Vocabulary::kCls) != vocab.cls_id()) fuzz::fail("[CLS] id differs from find([CLS])");
    const WordPieceTokenizer tokenizer(std::move(vocab));
    const auto encoding = tokenizer.encode("Hello, wörld! unaffable 東京 ##x", 16);
    for (const auto id : encoding.ids) {
      if (id < 0 || static_cast<std::size_t>(id) >= tokenizer.vocabulary().size())
        fuzz::fail("id outside the vocabulary");
    }
  });
  return 0;
}
