#include "moecollab/model/router.h"

#include <cmath>
#include <sstream>

#include "moecollab/util/error.h"

namespace moecollab {

std::int64_t expert_capacity(double factor, std::int64_t k, std::int64_t rows, std::int64_t experts) {
  return static_cast<std::int64_t>(std::ceil(factor * static_cast<double>(k * rows) / static_cast<double>(experts)));
}

torch::Tensor assign_with_capacity(const torch::Tensor& logits, std::int64_t k, std::int64_t capacity,
                                   bool overflow_to_next, std::int64_t* dropped) {
  const auto rows = logits.size(0), experts = logits.size(1);
  // Each row's experts by descending logit; a stable sort gives ties to the lower expert.
  const auto order =
      std::get<1>(logits.detach().to(torch::kFloat64).sort(/*stable=*/true, 1, /*descending=*/true)).contiguous();
  const auto* rank = order.data_ptr<std::int64_t>();
  auto routed = torch::zeros({rows, experts}, torch::kBool);
  auto* out = routed.data_ptr<bool>();
  std::vector<std::int64_t> load(static_cast<std::size_t>(experts), 0);
  std::int64_t lost = 0;
  for (std::int64_t choice = 0; choice < k; ++choice) {
    for (std::int64_t r = 0; r < rows; ++r) {
      const auto* mine = rank + r * experts;
      bool placed = false;
      if (!overflow_to_next) {
        const auto e = mine[choice];
        if (load[static_cast<std::size_t>(e)] < capacity) {
          ++load[static_cast<std::size_t>(e)];
          out[r * experts + e] = placed = true;
        }
      } else {  // the best expert not yet this row's that has room
        for (std::int64_t c = 0; c < experts && !placed; ++c) {
          const auto e = mine[c];
          if (out[r * experts + e] || load[static_cast<std::size_t>(e)] >= capacity) continue;
          ++load[static_cast<std::size_t>(e)];
          out[r * experts + e] = placed = true;
        }
      }
      if (!placed) ++lost;
    }
  }
  if (dropped) *dropped = lost;
  return routed;
}

Router::Router(RoutingConfig config) : config_(config) {
  if (config_.top_k < 0)
    throw Error("top-k must be 0 (dense) or a number of experts, not " + std::to_string(config_.top_k));
  if (!(config_.capacity_factor >= 0) || !(config_.eval_capacity_factor >= 0))
    throw Error("capacity factors must be 0 (no limit) or positive");
  if ((config_.capacity_factor > 0 || config_.eval_capacity_factor > 0) && config_.top_k == 0)
    throw Error("a capacity factor needs --top-k K (dense routing sends every row to every expert)");
}

bool Router::sparse(std::int64_t experts) const { return config_.top_k > 0 && config_.top_k < experts; }

Routing Router::route(const torch::Tensor& gate_logits, bool training, const GatherLogits& gather) const {
  Routing out;
  const auto g = torch::softmax(gate_logits, 1);
  const auto experts = gate_logits.size(1), k = config_.top_k;
  if (!sparse(experts)) {
    out.routed = torch::ones_like(gate_logits, torch::kBool);
    out.weights = g;
    return out;
  }
  const double factor = training ? config_.capacity_factor : config_.eval_capacity_factor;
  if (factor > 0) {
    const auto step = gather ? gather(gate_logits.detach()) : StepLogits{gate_logits.detach(), 0};
    const auto rows = step.all.size(0);
    out.routed = assign_with_capacity(step.all, k, expert_capacity(factor, k, rows, experts), config_.overflow_to_next,
                                      &out.dropped)
                     .narrow(0, step.first, gate_logits.size(0));
    out.assigned = rows * k;
  } else {
    const auto chosen = std::get<1>(gate_logits.detach().topk(k, 1));
    out.routed = torch::zeros_like(gate_logits, torch::kBool).scatter(1, chosen, true);
  }
  const auto kept = g * out.routed.to(g.scalar_type());
  if (config_.unnormalised) {
    out.weights = kept;
  } else {  // a row that lost every expert to capacity keeps the residual of zero
    const auto sum = kept.sum(1, /*keepdim=*/true);
    out.weights = kept / (sum + (sum == 0).to(sum.scalar_type()));
  }
  return out;
}

std::string Router::name() const {
  if (config_.top_k == 0) return "dense";
  std::ostringstream out;
  out << "top-" << config_.top_k << (config_.unnormalised ? "" : " (renormalised)");
  if (config_.capacity_factor > 0 || config_.eval_capacity_factor > 0) {
    out << ", capacity " << config_.capacity_factor << " (evaluation " << config_.eval_capacity_factor << "), "
        << (config_.overflow_to_next ? "next-best" : "drop");
  }
  if (config_.noisy) out << ", noisy";
  return out.str();
}

}  // namespace moecollab
