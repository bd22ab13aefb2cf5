#include "moecollab/model/gate_loss.h"

#include <cmath>

namespace moecollab {

torch::Tensor batch_mean_gate(const torch::Tensor& gate_probs) { return gate_probs.mean(0); }

torch::Tensor domain_cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels,
                                   const torch::Tensor& classes) {
  const auto columns = torch::arange(logits.size(1), labels.options()).unsqueeze(0);
  const auto invalid = columns >= classes.unsqueeze(1);
  const auto masked = logits.masked_fill(invalid, -std::numeric_limits<double>::infinity());
  return torch::nll_loss(torch::log_softmax(masked, 1), labels);
}

torch::Tensor mean_routing_entropy(const torch::Tensor& gate_logits) {
  const auto log_g = torch::log_softmax(gate_logits, 1);
  return -(log_g.exp() * log_g).sum(1).mean();
}

torch::Tensor kl_to_uniform(const torch::Tensor& mean_gate) {
  const double log_e = std::log(static_cast<double>(mean_gate.size(0)));
  return (mean_gate * (mean_gate.clamp_min(1e-12).log() + log_e)).sum();
}

torch::Tensor per_domain_balance(const torch::Tensor& gate_logits, const std::vector<std::int64_t>& rows) {
  const auto probs = torch::softmax(gate_logits, 1);
  auto sum = torch::zeros({}, probs.options());
  std::int64_t offset = 0;
  for (auto n : rows) {
    sum = sum + kl_to_uniform(batch_mean_gate(probs.narrow(0, offset, n)));
    offset += n;
  }
  return sum / static_cast<double>(rows.size());
}

GateLossTerms gate_loss(const torch::Tensor& mixed_logits, const torch::Tensor& labels, const torch::Tensor& classes,
                        const torch::Tensor& gate_logits, const GateLossWeights& weights, const MeanGate& mean_gate) {
  GateLossTerms t;
  t.task = domain_cross_entropy(mixed_logits, labels, classes);
  t.entropy = mean_routing_entropy(gate_logits);
  t.balance = kl_to_uniform(mean_gate(torch::softmax(gate_logits, 1)));
  t.total = t.task + weights.entropy * t.entropy + weights.balance * t.balance;
  return t;
}

}  // namespace moecollab
