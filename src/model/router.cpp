#include "moecollab/model/router.h"

#include "moecollab/util/error.h"

namespace moecollab {

Router::Router(RoutingConfig config) : config_(config) {
  if (config_.top_k < 0)
    throw Error("top-k must be 0 (dense) or a number of experts, not " + std::to_string(config_.top_k));
}

bool Router::sparse(std::int64_t experts) const { return config_.top_k > 0 && config_.top_k < experts; }

torch::Tensor Router::routed(const torch::Tensor& gate_logits) const {
  if (!sparse(gate_logits.size(1))) return torch::ones_like(gate_logits, torch::kBool);
  const auto chosen = std::get<1>(gate_logits.detach().topk(config_.top_k, 1));
  return torch::zeros_like(gate_logits, torch::kBool).scatter(1, chosen, true);
}

torch::Tensor Router::weights(const torch::Tensor& gate_logits) const {
  const auto g = torch::softmax(gate_logits, 1);
  if (!sparse(gate_logits.size(1))) return g;
  const auto kept = g * routed(gate_logits).to(g.scalar_type());
  return config_.unnormalised ? kept : kept / kept.sum(1, /*keepdim=*/true);
}

std::string Router::name() const {
  if (config_.top_k == 0) return "dense";
  return "top-" + std::to_string(config_.top_k) + (config_.unnormalised ? " (unnormalised)" : "");
}

}  // namespace moecollab
