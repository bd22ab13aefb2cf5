#include "moecollab/model/gate_loss.h"

#include <cmath>

#include "moecollab/util/error.h"

namespace moecollab {

BalanceLoss parse_balance_loss(const std::string& name) {
  if (name == "kl") return BalanceLoss::kKl;
  if (name == "switch") return BalanceLoss::kSwitch;
  if (name == "none") return BalanceLoss::kNone;
  throw Error("--balance must be 'kl', 'switch' or 'none', not '" + name + "'");
}

std::string describe(BalanceLoss kind) {
  switch (kind) {
    case BalanceLoss::kKl:
      return "kl";
    case BalanceLoss::kSwitch:
      return "switch";
    case BalanceLoss::kNone:
      break;
  }
  return "none";
}

double GateLossWeights::balance_weight() const {
  switch (balance_kind) {
    case BalanceLoss::kKl:
      return balance;
    case BalanceLoss::kSwitch:
      return switch_alpha;
    case BalanceLoss::kNone:
      break;
  }
  return 0.0;
}

torch::Tensor batch_mean_gate(const torch::Tensor& gate_probs) { return gate_probs.mean(0); }

namespace {

// Each row's cross-entropy over its own domain's classes (b).
torch::Tensor domain_cross_entropy_rows(const torch::Tensor& logits, const torch::Tensor& labels,
                                        const torch::Tensor& classes) {
  const auto columns = torch::arange(logits.size(1), labels.options()).unsqueeze(0);
  const auto invalid = columns >= classes.unsqueeze(1);
  const auto masked = logits.masked_fill(invalid, -std::numeric_limits<double>::infinity());
  return torch::nll_loss(torch::log_softmax(masked, 1), labels, {}, at::Reduction::None);
}

// Each row's routing entropy H(softmax(gate_logits_b)) (b).
torch::Tensor routing_entropy_rows(const torch::Tensor& gate_logits) {
  const auto log_g = torch::log_softmax(gate_logits, 1);
  return -(log_g.exp() * log_g).sum(1);
}

// Each row's router z-loss logsumexp(gate_logits_b)² (b).
torch::Tensor z_loss_rows(const torch::Tensor& gate_logits) { return gate_logits.logsumexp(1).pow(2); }

}  // namespace

torch::Tensor domain_cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels,
                                   const torch::Tensor& classes) {
  return domain_cross_entropy_rows(logits, labels, classes).mean();
}

torch::Tensor mean_routing_entropy(const torch::Tensor& gate_logits) {
  return routing_entropy_rows(gate_logits).mean();
}

torch::Tensor kl_to_uniform(const torch::Tensor& mean_gate) {
  const double log_e = std::log(static_cast<double>(mean_gate.size(0)));
  return (mean_gate * (mean_gate.clamp_min(1e-12).log() + log_e)).sum();
}

torch::Tensor router_z_loss(const torch::Tensor& gate_logits) { return z_loss_rows(gate_logits).mean(); }

torch::Tensor balance_term(BalanceLoss kind, const torch::Tensor& gate_logits, const MeanGate& mean) {
  const auto probs = torch::softmax(gate_logits, 1);
  switch (kind) {
    case BalanceLoss::kKl:
      return kl_to_uniform(mean(probs));
    case BalanceLoss::kSwitch: {
      const auto top1 = torch::one_hot(gate_logits.detach().argmax(1), gate_logits.size(1)).to(probs.scalar_type());
      return static_cast<double>(gate_logits.size(1)) * (mean(top1).detach() * mean(probs)).sum();
    }
    case BalanceLoss::kNone:
      break;
  }
  return (probs.sum() * 0).detach();
}

torch::Tensor per_domain_balance(const torch::Tensor& gate_logits, const std::vector<std::int64_t>& rows,
                                 BalanceLoss kind) {
  auto sum = torch::zeros({}, gate_logits.options());
  std::int64_t offset = 0;
  for (auto n : rows) {
    sum = sum + balance_term(kind, gate_logits.narrow(0, offset, n));
    offset += n;
  }
  return sum / static_cast<double>(rows.size());
}

torch::Tensor total_loss(const GateLossTerms& t, const GateLossWeights& w) {
  return t.task + w.entropy * t.entropy + w.balance_weight() * t.balance + w.z_loss * t.z + w.domain * t.domain;
}

GateLossTerms gate_loss(const torch::Tensor& mixed_logits, const torch::Tensor& labels, const torch::Tensor& classes,
                        const torch::Tensor& gate_logits, const GateLossWeights& weights, const MeanGate& mean_gate,
                        const torch::Tensor& domains) {
  GateLossTerms t;
  t.task = domain_cross_entropy(mixed_logits, labels, classes);
  t.entropy = mean_routing_entropy(gate_logits);
  t.balance = balance_term(weights.balance_kind, gate_logits, mean_gate);
  t.z = router_z_loss(gate_logits);
  t.domain =
      domains.defined() ? torch::cross_entropy_loss(gate_logits, domains) : torch::zeros({}, gate_logits.options());
  t.total = total_loss(t, weights);
  return t;
}

torch::Tensor per_example_gate_loss(const torch::Tensor& mixed_logits, const torch::Tensor& labels,
                                    const torch::Tensor& classes, const torch::Tensor& gate_logits,
                                    const GateLossWeights& weights, const torch::Tensor& domains) {
  auto rows = domain_cross_entropy_rows(mixed_logits, labels, classes) +
              weights.entropy * routing_entropy_rows(gate_logits) + weights.z_loss * z_loss_rows(gate_logits);
  if (domains.defined() && weights.domain != 0) {
    rows = rows + weights.domain * torch::cross_entropy_loss(gate_logits, domains, {}, at::Reduction::None);
  }
  return rows;
}

}  // namespace moecollab
