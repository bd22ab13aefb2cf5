#include "moecollab/model/integrate.h"

#include "moecollab/util/error.h"

namespace moecollab {

torch::Tensor pad_logits(const torch::Tensor& logits, std::int64_t c_max) {
  if (logits.dim() != 2) throw Error("pad_logits: expected b×c logits");
  const std::int64_t c = logits.size(1);
  if (c > c_max) throw Error("pad_logits: " + std::to_string(c) + " classes exceed c_max " + std::to_string(c_max));
  if (c == c_max) return logits;
  return torch::constant_pad_nd(logits, {0, c_max - c}, 0.0);
}

torch::Tensor stack_expert_logits(const std::vector<torch::Tensor>& logits, std::int64_t c_max) {
  if (logits.empty()) throw Error("stack_expert_logits: no experts");
  for (const auto& l : logits) c_max = std::max(c_max, l.size(1));
  std::vector<torch::Tensor> padded;
  padded.reserve(logits.size());
  for (const auto& l : logits) padded.push_back(pad_logits(l, c_max));
  return torch::stack(padded, 1);
}

torch::Tensor mix_expert_logits(const torch::Tensor& stacked, const torch::Tensor& gate) {
  if (stacked.dim() != 3 || gate.dim() != 2 || stacked.size(0) != gate.size(0) || stacked.size(1) != gate.size(1)) {
    throw Error("mix_expert_logits: expected b×E×c logits and b×E gate weights");
  }
  return (stacked * gate.unsqueeze(2)).sum(1);
}

torch::Tensor integrate(const std::vector<torch::Tensor>& logits, const torch::Tensor& gate) {
  return mix_expert_logits(stack_expert_logits(logits), gate);
}

torch::Tensor domain_columns(const torch::Tensor& mixed, std::int64_t classes) { return mixed.narrow(1, 0, classes); }

}  // namespace moecollab
