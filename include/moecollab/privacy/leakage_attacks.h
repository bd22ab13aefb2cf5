// What a curious rank can recover from what it receives: nearest-neighbour
// identification of exchanged feature rows, and the inversion of a linear
// layer's gradient (the gate's). experiments/leakage measures them on real runs;
// docs/threat-model.md says which mode exposes what.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace moecollab::privacy {

// For each row of `observed` (n×d), the index of the candidate row (m×d) of largest cosine
// similarity: n int64.
torch::Tensor nearest_candidates(const torch::Tensor& observed, const torch::Tensor& candidates);

// A linear layer z = W h + b has ∂L/∂W = Σ_i δ_i h_iᵀ: every row of its weight gradient lies in
// the span of the batch's inputs (at batch 1 each row is a multiple of the input itself, and at
// batch B <= rows of W the rows span exactly the B inputs). The attack ranks the candidates by
// the distance of each (unit-normalised) to the span of the top `dims` right singular vectors of
// `weight_grad` (rows×d), closest first: `dims` = min(B, rows) where the batch size B is known.
struct SpanRanking {
  torch::Tensor order;     // m int64, candidate indices, closest first
  torch::Tensor distance;  // m, each candidate's distance (0: in the span), in candidate order
};
SpanRanking rank_by_gradient_span(const torch::Tensor& weight_grad, const torch::Tensor& candidates, std::int64_t dims);

}  // namespace moecollab::privacy
