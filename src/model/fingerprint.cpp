#include "moecollab/model/fingerprint.h"

#include "moecollab/util/hash.h"

namespace moecollab {

std::uint64_t parameter_fingerprint(const torch::nn::Module& module) {
  std::uint64_t h = kFnvOffset;
  for (const auto& p : module.named_parameters()) {
    const auto t = p.value().detach().contiguous();
    std::string header = p.key() + ":" + std::string(c10::toString(t.scalar_type()));
    for (auto s : t.sizes()) header += "," + std::to_string(s);
    h = fnv1a(header, h);
    h = fnv1a(t.data_ptr(), t.nbytes(), h);
  }
  return h;
}

}  // namespace moecollab
