#include "moecollab/privacy/leakage_attacks.h"

#include "moecollab/util/error.h"

namespace moecollab::privacy {
namespace {

torch::Tensor unit_rows(const torch::Tensor& x) {
  return x.to(torch::kFloat64) / x.to(torch::kFloat64).norm(2, 1, true).clamp_min(1e-300);
}

}  // namespace

torch::Tensor nearest_candidates(const torch::Tensor& observed, const torch::Tensor& candidates) {
  if (observed.dim() != 2 || candidates.dim() != 2 || observed.size(1) != candidates.size(1)) {
    throw Error("nearest_candidates: observed and candidate rows must be matrices of one width");
  }
  return unit_rows(observed).matmul(unit_rows(candidates).t()).argmax(1);
}

SpanRanking rank_by_gradient_span(const torch::Tensor& weight_grad, const torch::Tensor& candidates,
                                  std::int64_t dims) {
  if (weight_grad.dim() != 2 || candidates.dim() != 2 || weight_grad.size(1) != candidates.size(1)) {
    throw Error("rank_by_gradient_span: the weight gradient's rows and the candidates must have one width");
  }
  if (dims < 1 || dims > weight_grad.size(0)) throw Error("rank_by_gradient_span: dims must be in [1, rows]");
  // Right singular vectors of the gradient: an orthonormal basis of its row space, strongest first.
  const auto svd = torch::linalg_svd(weight_grad.to(torch::kFloat64), /*full_matrices=*/false);
  const auto basis = std::get<2>(svd).narrow(0, 0, dims);  // dims×d
  const auto c = unit_rows(candidates);
  const auto residual = c - c.matmul(basis.t()).matmul(basis);
  SpanRanking out;
  out.distance = residual.norm(2, 1);
  out.order = out.distance.argsort();
  return out;
}

}  // namespace moecollab::privacy
