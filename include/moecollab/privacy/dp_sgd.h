// Sample-level DP-SGD (Abadi et al. 2016) for the gradients that leave a rank:
// each text's gradient is clipped to L2 norm C on its own, the clipped gradients
// are summed, and Gaussian noise of standard deviation z·C is added before the
// sum is released. DpConfig holds `train`'s --dp-* options; the accountant is
// privacy/rdp_accountant.h, the guarantees docs/threat-model.md.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace moecollab::privacy {

struct DpConfig {
  // z (--dp-noise): the noise's standard deviation over the clipping norm. < 0 (and no
  // target ε): DP-SGD off. 0: per-example clipping alone, ε = ∞ (for tests and ablations).
  double noise_multiplier = -1;
  double target_epsilon = 0;  // --dp-epsilon: choose z so that the whole run spends ε (0: use z)
  double clip = 1.0;          // C (--dp-clip): per-text L2 norm over all of a step's released gradients
  double delta = 1e-5;        // δ (--dp-delta)
  // Distributed noise (set where secure aggregation hides each rank's own sum): each of W ranks
  // adds N(0, z²C²/(W−1)) to the all-reduced gradients, so that against any one curious rank,
  // which can subtract only its own share, the other ranks' shares carry the full z·C.
  bool distributed = false;

  bool enabled() const { return noise_multiplier >= 0 || target_epsilon > 0; }
};

// Throws Error naming the option when a value is out of range (C <= 0, δ outside (0, 1), ...).
void check_dp_config(const DpConfig& config);

struct ClipStats {
  std::int64_t examples = 0;
  std::int64_t clipped = 0;  // examples whose gradient norm exceeded C
  double mean_norm = 0;      // mean L2 norm before clipping
};

// Writes into every parameter's .grad() (replacing what was there)
//   scale · (Σ_i clip_C(∇ losses[i]) + N(0, noise_std² I)),
// ∇ over all `parameters` jointly, clip_C(g) = g · min(1, C / ‖g‖). Each losses[i] must depend on
// its own example alone (no batch statistic), or clipping bounds nothing. One backward pass per
// example (through the retained graph of `losses`); parameters no loss reaches get noise only.
ClipStats clipped_noisy_gradients(const torch::Tensor& losses, const std::vector<torch::Tensor>& parameters,
                                  double clip, double noise_std, double scale, at::Generator& generator);

// A CPU generator seeded from the operating system's CSPRNG (libsodium): this rank's noise is
// unknown to every other rank. (It is a Mersenne twister after that, as torch's normal sampler
// is: the floating-point noise's known weaknesses are in docs/threat-model.md.)
at::Generator secret_generator();

}  // namespace moecollab::privacy
