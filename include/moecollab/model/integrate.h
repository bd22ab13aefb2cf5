// Integration of heterogeneous experts (paper eq. 4-5): each expert's b×c_i
// logits are zero-padded to c_max = max_i c_i, stacked to b×E×c_max, and
// mixed as y = sum_i g_i O_i. Padded columns of an expert contribute zero, so a
// sample of a domain with c_d classes is read from the first c_d columns of y
// (`domain_columns`); the mixture's prediction for it is the argmax there.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace moecollab {

// Eq. 4. REQUIRES: logits is b×c with c <= c_max.
torch::Tensor pad_logits(const torch::Tensor& logits, std::int64_t c_max);

// b×E×c_max from E experts' b×c_i logits (c_max = largest c_i unless given larger).
torch::Tensor stack_expert_logits(const std::vector<torch::Tensor>& logits, std::int64_t c_max = 0);

// Eq. 5. stacked: b×E×c_max, gate: b×E. Returns b×c_max.
torch::Tensor mix_expert_logits(const torch::Tensor& stacked, const torch::Tensor& gate);

// The gate's weights come from a Router (model/router.h).

// Eq. 4 and 5 together.
torch::Tensor integrate(const std::vector<torch::Tensor>& logits, const torch::Tensor& gate);

// The first `classes` columns: what a domain with that many labels is scored on.
torch::Tensor domain_columns(const torch::Tensor& mixed, std::int64_t classes);

}  // namespace moecollab
