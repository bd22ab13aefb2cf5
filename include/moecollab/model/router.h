// Routing: how a row's gate logits choose the experts that answer it and weigh
// their logits in the mixture. One object owns the policy, so both trainers,
// `predict` and `integrate` route alike, and a checkpoint stores its
// RoutingConfig (in its ModelConfig, model/model_config.h). Policies today: dense (the paper's softmax over every
// expert) and top-k (each row's k largest gate weights, renormalised over them). A new policy is a field of
// RoutingConfig and a case in router.cpp.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace moecollab {

struct RoutingConfig {
  // 0 (or >= the number of experts): dense. k in (0, E): each row goes to its k
  // highest-weighted experts only.
  std::int64_t top_k = 0;
  // Top-k weights: false, the kept softmax weights renormalised to sum to 1; true,
  // the kept softmax weights as they are (Switch Transformer, Fedus et al. 2022),
  // so that at k = 1 the task loss still trains the gate: ∂L/∂a_j = g_i(δ_ij − g_j)⟨∂L/∂y, O_i⟩.
  bool unnormalised = false;
};

// Calls visit("routing.NAME", field) for every field of a RoutingConfig (const or not):
// the one list of them, which ModelConfig's visit_fields (model/model_config.h) walks.
template <typename Config, typename Visit>
void visit_routing_fields(Config& routing, Visit&& visit) {
  visit("routing.top_k", routing.top_k);
  visit("routing.unnormalised", routing.unnormalised);
}

class Router {
 public:
  Router() = default;
  explicit Router(RoutingConfig config);

  const RoutingConfig& config() const { return config_; }
  // Whether, with `experts` experts, a row may skip some of them (top-k, k < E);
  // a federated gate step then sends each row only to its routed experts.
  bool sparse(std::int64_t experts) const;
  // b×E bool: the experts each row is routed to (every one when not sparse).
  torch::Tensor routed(const torch::Tensor& gate_logits) const;
  // b×E weights of the experts' logits in y = Σ_i w_i O_i: the softmax itself,
  // exactly, when dense; else the softmax kept on the routed experts and
  // renormalised (the gradient reaches the gate through the kept weights).
  torch::Tensor weights(const torch::Tensor& gate_logits) const;
  // "dense" or "top-2", for messages.
  std::string name() const;

 private:
  RoutingConfig config_;
};

}  // namespace moecollab
