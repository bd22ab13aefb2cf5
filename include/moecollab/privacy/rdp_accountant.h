// The privacy accountant of DP-SGD: Rényi differential privacy (RDP) of the
// sampled Gaussian mechanism (Mironov 2017; Mironov, Talwar and Zhang 2019,
// "Rényi Differential Privacy of the Sampled Gaussian Mechanism"), composed over
// steps and converted to (ε, δ)-DP (Canonne, Kamath and Steinke 2020, the
// conversion TensorFlow Privacy and Opacus use). Torch-free plain maths.
#pragma once

#include <cstdint>
#include <vector>

namespace moecollab::privacy {

// The orders α at which RDP is tracked: 1.1, 1.2, ..., 10.9 and 12, 13, ..., 63 (Opacus's).
std::vector<double> default_orders();

// RDP at order `order` of one step of the sampled Gaussian mechanism: each example is in the
// batch with probability `sampling_rate` (q), the sum of clipped gradients gets Gaussian noise of
// standard deviation `noise_multiplier` (z) times the clipping norm. q = 0 gives 0, q = 1 the
// Gaussian mechanism's α / (2 z²); α = +inf gives +inf. Throws Error on q outside [0, 1], z <= 0
// or α <= 1.
double sampled_gaussian_rdp(double sampling_rate, double noise_multiplier, double order);

// RDP of `steps` such steps (RDP composes by addition), one value per order.
std::vector<double> sampled_gaussian_rdp(double sampling_rate, double noise_multiplier, std::int64_t steps,
                                         const std::vector<double>& orders);

struct Epsilon {
  double epsilon = 0;
  double order = 0;  // the α that gave the smallest ε
};

// The smallest ε, over the orders, such that the mechanism with these RDP values is (ε, δ)-DP:
// ε(α) = rdp(α) + log(1 − 1/α) − log(δ·α) / (α − 1), and 0 where δ² ≥ 1 − exp(−rdp) (the bound
// through the KL divergence). Throws Error on δ outside (0, 1) or mismatched lengths.
Epsilon epsilon_for(const std::vector<double>& orders, const std::vector<double>& rdp, double delta);

// The RDP accountant of one run: adds steps (each with its sampling rate and noise multiplier,
// which may change) and says the (ε, δ) spent so far.
class RdpAccountant {
 public:
  explicit RdpAccountant(std::vector<double> orders = default_orders());
  void add_steps(double sampling_rate, double noise_multiplier, std::int64_t steps);
  Epsilon epsilon(double delta) const { return epsilon_for(orders_, rdp_, delta); }
  std::int64_t steps() const { return steps_; }
  const std::vector<double>& orders() const { return orders_; }
  const std::vector<double>& rdp() const { return rdp_; }

 private:
  std::vector<double> orders_;
  std::vector<double> rdp_;
  std::int64_t steps_ = 0;
};

// The smallest noise multiplier z (to 1e-4 relative) with which `steps` steps at `sampling_rate`
// spend at most `epsilon` at `delta`: what `--dp-epsilon` chooses for a run's length. Throws Error
// when no z up to 1e4 does.
double noise_multiplier_for(double epsilon, double delta, double sampling_rate, std::int64_t steps,
                            const std::vector<double>& orders = default_orders());

}  // namespace moecollab::privacy
