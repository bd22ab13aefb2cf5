// Routing: how a row's gate logits choose the experts that answer it and weigh
// their logits in the mixture. One object owns the policy, so both trainers,
// `predict` and `integrate` route alike, and a checkpoint stores its
// RoutingConfig (in its ModelConfig, model/model_config.h). Policies: dense (the
// paper's softmax over every expert); top-k (each row's k largest gate weights,
// kept as they are, Switch-style, or renormalised over the k); an expert capacity
// per step with an overflow policy (Switch / GShard); noisy gate logits in
// training (Shazeer et al. 2017). A new policy is a field of RoutingConfig and a
// case in router.cpp.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>

namespace moecollab {

struct RoutingConfig {
  // 0 (or >= the number of experts): dense. k in (0, E): each row goes to its k
  // highest-weighted experts only.
  std::int64_t top_k = 0;
  // Top-k weights: true, the kept softmax weights as they are (Switch Transformer,
  // Fedus et al. 2022), so that at k = 1 the task loss still trains the gate:
  // ∂L/∂a_j = g_i(δ_ij − g_j)⟨∂L/∂y, O_i⟩; false, renormalised to sum to 1 over the kept.
  // The default is the one that measured better (README, "Routing").
  bool unnormalised = true;
  // Expert capacity per step: ⌈cf · k · N / E⌉ rows per expert, N the step's rows over
  // all ranks (training) or the evaluated batch's rows (evaluation, predict). 0: no limit.
  double capacity_factor = 0;
  double eval_capacity_factor = 0;
  // A row whose chosen expert is full: false, it is dropped from that expert (it keeps
  // its other experts; with none left its output is zero); true, it goes to its next-best
  // expert with room.
  bool overflow_to_next = false;
  // Noisy top-k gating in training: logits + ε·softplus(W_noise h), ε ~ N(0, 1).
  bool noisy = false;
};

// Calls visit("routing.NAME", field) for every field of a RoutingConfig (const or not):
// the one list of them, which ModelConfig's visit_fields (model/model_config.h) walks.
template <typename Config, typename Visit>
void visit_routing_fields(Config& routing, Visit&& visit) {
  visit("routing.top_k", routing.top_k);
  visit("routing.unnormalised", routing.unnormalised);
  visit("routing.capacity_factor", routing.capacity_factor);
  visit("routing.eval_capacity_factor", routing.eval_capacity_factor);
  visit("routing.overflow_to_next", routing.overflow_to_next);
  visit("routing.noisy", routing.noisy);
}

// The gate logits of every row of a step in their global order (rank 0's rows first,
// as the single process concatenates its domains), and where this process's rows start.
struct StepLogits {
  torch::Tensor all;
  std::int64_t first = 0;
};
// Supplies StepLogits for this process's (detached) logits; the federated trainer
// all-gathers them. Empty: this process's rows are the whole step.
using GatherLogits = std::function<StepLogits(const torch::Tensor& own_logits)>;

// How a batch was routed.
struct Routing {
  torch::Tensor routed;       // b×E bool: the experts each row is sent to
  torch::Tensor weights;      // b×E: their weights in y = Σ_i w_i O_i (with the gate's graph)
  std::int64_t assigned = 0;  // (row, choice) pairs of the whole step: N·k with top-k, else 0
  std::int64_t dropped = 0;   // of them, lost to a full expert
};

// Capacity assignment over all N rows of a step, rows in order and every row's c-th
// choice before any row's (c+1)-th (GShard): N×E bool. `dropped` counts the (row,
// choice) pairs that found no room. Ties between equal logits go to the lower expert.
torch::Tensor assign_with_capacity(const torch::Tensor& logits, std::int64_t k, std::int64_t capacity,
                                   bool overflow_to_next, std::int64_t* dropped);

// ⌈cf · k · rows / experts⌉.
std::int64_t expert_capacity(double factor, std::int64_t k, std::int64_t rows, std::int64_t experts);

class Router {
 public:
  Router() = default;
  explicit Router(RoutingConfig config);

  const RoutingConfig& config() const { return config_; }
  // Whether, with `experts` experts, a row may skip some of them (top-k, k < E);
  // a federated gate step then sends each row only to its routed experts.
  bool sparse(std::int64_t experts) const;
  // Whether routing a training step needs every rank's gate logits (a capacity).
  bool needs_step_logits() const { return config_.capacity_factor > 0; }
  // Routes a batch with gate logits `gate_logits` (b×E): dense, the softmax itself;
  // top-k, the softmax on the routed experts (renormalised or not). `training` picks
  // the capacity factor; `gather` supplies the step's rows when a capacity counts them.
  Routing route(const torch::Tensor& gate_logits, bool training = false, const GatherLogits& gather = {}) const;
  // route(...).weights of an evaluation batch.
  torch::Tensor weights(const torch::Tensor& gate_logits) const { return route(gate_logits).weights; }
  // route(...).routed of an evaluation batch.
  torch::Tensor routed(const torch::Tensor& gate_logits) const { return route(gate_logits).routed; }
  // "dense", "top-2", "top-1 (renormalised), capacity 1.25 drop", for messages.
  std::string name() const;

 private:
  RoutingConfig config_;
};

}  // namespace moecollab
