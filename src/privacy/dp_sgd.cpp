#include "moecollab/privacy/dp_sgd.h"

#include <ATen/CPUGeneratorImpl.h>
#include <sodium.h>

#include <cmath>
#include <string>

#include "moecollab/util/error.h"

namespace moecollab::privacy {

void check_dp_config(const DpConfig& c) {
  if (!c.enabled()) return;
  if (!(c.clip > 0) || !std::isfinite(c.clip))
    throw Error("--dp-clip must be a positive number, got " + std::to_string(c.clip));
  if (!(c.delta > 0 && c.delta < 1)) throw Error("--dp-delta must lie in (0, 1), got " + std::to_string(c.delta));
  if (c.target_epsilon < 0 || !std::isfinite(c.target_epsilon))
    throw Error("--dp-epsilon must be a positive number, got " + std::to_string(c.target_epsilon));
  if (!std::isfinite(c.noise_multiplier))
    throw Error("--dp-noise must be a finite number >= 0, got " + std::to_string(c.noise_multiplier));
}

ClipStats clipped_noisy_gradients(const torch::Tensor& losses, const std::vector<torch::Tensor>& parameters,
                                  double clip, double noise_std, double scale, at::Generator& generator) {
  if (losses.dim() != 1) throw Error("DP-SGD: the losses must be one per example (a vector)");
  std::vector<torch::Tensor> sum;
  for (const auto& p : parameters) sum.push_back(torch::zeros_like(p, torch::TensorOptions().requires_grad(false)));
  ClipStats stats;
  stats.examples = losses.size(0);
  double norms = 0;
  for (std::int64_t i = 0; i < losses.size(0); ++i) {
    const auto grads = torch::autograd::grad({losses[i]}, parameters, {}, /*retain_graph=*/true,
                                             /*create_graph=*/false, /*allow_unused=*/true);
    double squared = 0;
    for (const auto& g : grads) {
      if (g.defined()) squared += g.to(torch::kFloat64).pow(2).sum().item<double>();
    }
    const double norm = std::sqrt(squared);
    norms += norm;
    const double factor = norm > clip ? clip / norm : 1.0;
    if (norm > clip) ++stats.clipped;
    for (std::size_t k = 0; k < grads.size(); ++k) {
      if (grads[k].defined()) sum[k].add_(grads[k], factor);
    }
  }
  stats.mean_norm = stats.examples > 0 ? norms / static_cast<double>(stats.examples) : 0.0;
  for (std::size_t k = 0; k < parameters.size(); ++k) {
    auto& p = parameters[k];
    if (noise_std > 0) {
      const auto noise = torch::randn(p.sizes(), generator, torch::TensorOptions().dtype(torch::kFloat64));
      sum[k].add_(noise.mul_(noise_std).to(p.device(), p.scalar_type()));
    }
    sum[k].mul_(scale);
    p.mutable_grad() = sum[k];
  }
  return stats;
}

at::Generator secret_generator() {
  if (sodium_init() < 0) throw Error("DP-SGD: libsodium could not be initialised");
  std::uint64_t seed = 0;
  randombytes_buf(&seed, sizeof seed);
  return at::make_generator<at::CPUGeneratorImpl>(seed);
}

}  // namespace moecollab::privacy
