// The routing objective (paper eq. 3):
//   L = L_task + λ1 · mean_b H(g_b) + λ2 · KL(ḡ ‖ uniform)
// Sign convention: H(g) = -Σ_e g_e log g_e is each sample's routing entropy,
// so λ1 > 0 sharpens each sample's routing (one expert per sample); ḡ is the
// mean gate distribution and KL(ḡ‖u) = Σ_e ḡ_e log(E ḡ_e) is zero exactly when
// experts are used equally, so λ2 > 0 balances experts overall.
// Stable forms: log g comes from log_softmax of the gate logits, never log of
// a softmax; log ḡ is taken of ḡ clamped to >= 1e-12.
// ḡ is pluggable (`MeanGate`): one process averages its batch; the federated
// runtime supplies the average over all ranks' batches.
// Alternatives as used in the field (--balance, --z-loss):
//   switch: α · E · Σ_i f_i P_i (Switch Transformer's auxiliary loss), f_i the share of
//     the step's rows whose top-1 is expert i (no gradient), P_i = ḡ_i; both global;
//   none: no balance term;
//   z-loss: β · mean_b logsumexp(gate logits_b)² (ST-MoE's router z-loss);
//   domain routing: λ3 · mean_b CE(gate logits_b, the row's own domain), the gate trained as a
//     domain classifier where each training row's domain (its expert) is known (DEMix-style).
#pragma once

#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

namespace moecollab {

enum class BalanceLoss { kKl, kSwitch, kNone };

// "kl", "switch" or "none" (Error otherwise), and back.
BalanceLoss parse_balance_loss(const std::string& name);
std::string describe(BalanceLoss kind);

struct GateLossWeights {
  double entropy = 0.01;  // λ1
  double balance = 0.1;   // λ2
  // false: one balance term over the whole (global) batch, KL(ḡ ‖ u) (the paper's);
  // true: the mean over domains of each domain's own KL(ḡ_d ‖ u), ḡ_d its rows'
  // mean gate: every rank balances its own batch (--balance-scope domain).
  bool balance_per_domain = false;
  BalanceLoss balance_kind = BalanceLoss::kKl;
  double switch_alpha = 1e-2;  // α of the switch balance term
  double z_loss = 0;           // β of the router z-loss (0: off)
  double domain = 0;           // λ3 of the domain-routing term (0: off)

  // The weight of the balance term in the total: λ2, α or 0.
  double balance_weight() const;
};

struct GateLossTerms {
  torch::Tensor task;     // cross-entropy of the mixture, mean over the batch
  torch::Tensor entropy;  // mean_b H(g_b)
  torch::Tensor balance;  // KL(ḡ ‖ uniform), or E Σ f_i P_i (switch), or 0 (none)
  torch::Tensor z;        // mean_b logsumexp(gate logits_b)²
  torch::Tensor domain;   // mean_b CE(gate logits_b, domain_b); 0 without domains
  torch::Tensor total;    // task + λ1 entropy + balance_weight balance + β z + λ3 domain
};

// Maps a b×E tensor of this batch (gate probabilities, or top-1 indicators) to its
// E-vector mean over the step's rows (the batch's own, or all ranks' in a federated step).
using MeanGate = std::function<torch::Tensor(const torch::Tensor& gate_probs)>;

// ḡ = mean over this batch (the single-process choice).
torch::Tensor batch_mean_gate(const torch::Tensor& gate_probs);

// Cross-entropy of b×c_max logits where sample i has classes[i] valid classes
// (its domain's label count): columns >= classes[i] are masked out before the
// softmax. labels, classes: b int64. Mean over the batch.
torch::Tensor domain_cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels,
                                   const torch::Tensor& classes);

// mean_b H(softmax(gate_logits_b)).
torch::Tensor mean_routing_entropy(const torch::Tensor& gate_logits);

// KL(ḡ ‖ uniform) for an E-vector ḡ.
torch::Tensor kl_to_uniform(const torch::Tensor& mean_gate);

// mean_b logsumexp(gate_logits_b)².
torch::Tensor router_z_loss(const torch::Tensor& gate_logits);

// The balance term of `kind` for gate logits whose step means `mean` gives: KL(ḡ ‖ u),
// E Σ_i f_i ḡ_i with f = mean(one-hot of each row's argmax) held constant, or 0.
torch::Tensor balance_term(BalanceLoss kind, const torch::Tensor& gate_logits, const MeanGate& mean = batch_mean_gate);

// (1/D) Σ_d balance_term of rows [offset_d, offset_d + rows[d]) alone (KL(ḡ_d ‖ uniform) by default).
torch::Tensor per_domain_balance(const torch::Tensor& gate_logits, const std::vector<std::int64_t>& rows,
                                 BalanceLoss kind = BalanceLoss::kKl);

// `domains`: each row's own domain (expert) index, b int64, for the domain-routing term
// (undefined: the term is 0).
GateLossTerms gate_loss(const torch::Tensor& mixed_logits, const torch::Tensor& labels, const torch::Tensor& classes,
                        const torch::Tensor& gate_logits, const GateLossWeights& weights,
                        const MeanGate& mean_gate = batch_mean_gate, const torch::Tensor& domains = {});

// Each row's own part of the objective, a b-vector: CE_b + λ1 H(g_b) + β lse_b² + λ3 CE(gate_b, domain_b).
// Its mean is gate_loss's total where the balance weight is 0; what DP-SGD clips row by row
// (the balance term is a function of the step's mean gate, which couples every row).
torch::Tensor per_example_gate_loss(const torch::Tensor& mixed_logits, const torch::Tensor& labels,
                                    const torch::Tensor& classes, const torch::Tensor& gate_logits,
                                    const GateLossWeights& weights, const torch::Tensor& domains = {});

// The weighted sum of the terms: task + λ1 entropy + w balance + β z + λ3 domain.
torch::Tensor total_loss(const GateLossTerms& terms, const GateLossWeights& weights);

}  // namespace moecollab
