#include "moecollab/privacy/rdp_accountant.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "moecollab/util/error.h"

namespace moecollab::privacy {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// log(exp(a) + exp(b)) and log(exp(a) - exp(b)) (a >= b) without overflow.
double log_add(double a, double b) {
  if (a == -kInf) return b;
  if (b == -kInf) return a;
  const double hi = std::max(a, b);
  return hi + std::log1p(std::exp(std::min(a, b) - hi));
}

double log_sub(double a, double b) {
  if (b == -kInf) return a;
  if (a <= b) return -kInf;  // the series' partial sums only reach this by rounding
  return a + std::log1p(-std::exp(b - a));
}

// log(erfc(x)); for large x, erfc underflows and its asymptotic series is exact to double precision.
double log_erfc(double x) {
  if (x < 20) return std::log(std::erfc(x));
  const double r = 1 / (x * x);
  return -x * x - std::log(x) - 0.5 * std::log(M_PI) + std::log1p(r * (-0.5 + r * (0.75 + r * (-1.875 + r * 6.5625))));
}

// log A_α for integer α: the binomial expansion of E_{μ0}[(μ/μ0)^α] (Mironov et al. 2019, section 3.3).
double log_a_integer(double q, double sigma, int alpha) {
  double log_a = -kInf;
  for (int i = 0; i <= alpha; ++i) {
    const double log_binomial = std::lgamma(alpha + 1.0) - std::lgamma(i + 1.0) - std::lgamma(alpha - i + 1.0);
    const double term =
        log_binomial + i * std::log(q) + (alpha - i) * std::log1p(-q) + (i * (i - 1.0)) / (2 * sigma * sigma);
    log_a = log_add(log_a, term);
  }
  return log_a;
}

// log A_α for fractional α: the two-sided series of the same paper (section 3.3), summed until
// its terms fall below e^-30 of the total's scale.
double log_a_fractional(double q, double sigma, double alpha) {
  double log_a0 = -kInf, log_a1 = -kInf;
  const double z0 = sigma * sigma * std::log(1 / q - 1) + 0.5;
  double log_coef = 0;  // log |binomial(α, i)|, built term by term with its sign
  bool positive = true;
  for (int i = 0;; ++i) {
    if (i > 0) {
      const double factor = (alpha - i + 1) / i;
      log_coef += std::log(std::fabs(factor));
      if (factor < 0) positive = !positive;
    }
    const double j = alpha - i;
    const double log_t0 = log_coef + i * std::log(q) + j * std::log1p(-q);
    const double log_t1 = log_coef + j * std::log(q) + i * std::log1p(-q);
    const double log_e0 = std::log(0.5) + log_erfc((i - z0) / (std::sqrt(2.0) * sigma));
    const double log_e1 = std::log(0.5) + log_erfc((z0 - j) / (std::sqrt(2.0) * sigma));
    const double log_s0 = log_t0 + (i * (i - 1.0)) / (2 * sigma * sigma) + log_e0;
    const double log_s1 = log_t1 + (j * (j - 1)) / (2 * sigma * sigma) + log_e1;
    if (positive) {
      log_a0 = log_add(log_a0, log_s0);
      log_a1 = log_add(log_a1, log_s1);
    } else {
      log_a0 = log_sub(log_a0, log_s0);
      log_a1 = log_sub(log_a1, log_s1);
    }
    if (std::max(log_s0, log_s1) < -30) break;
    if (i > 100000) throw Error("RDP accountant: the series for order " + std::to_string(alpha) + " does not converge");
  }
  return log_add(log_a0, log_a1);
}

}  // namespace

std::vector<double> default_orders() {
  std::vector<double> orders;
  for (int x = 1; x < 100; ++x) orders.push_back(1 + x / 10.0);
  for (int a = 12; a < 64; ++a) orders.push_back(a);
  return orders;
}

double sampled_gaussian_rdp(double sampling_rate, double noise_multiplier, double order) {
  if (!(sampling_rate >= 0 && sampling_rate <= 1)) {
    throw Error("RDP accountant: the sampling rate must be in [0, 1], not " + std::to_string(sampling_rate));
  }
  if (!(noise_multiplier > 0)) {
    throw Error("RDP accountant: the noise multiplier must be > 0, not " + std::to_string(noise_multiplier));
  }
  if (!(order > 1)) throw Error("RDP accountant: an order must be > 1, not " + std::to_string(order));
  if (sampling_rate == 0) return 0;
  if (std::isinf(order)) return kInf;
  if (sampling_rate == 1) return order / (2 * noise_multiplier * noise_multiplier);
  const double log_a = order == std::floor(order) && order < 1e6
                           ? log_a_integer(sampling_rate, noise_multiplier, static_cast<int>(order))
                           : log_a_fractional(sampling_rate, noise_multiplier, order);
  return log_a / (order - 1);
}

std::vector<double> sampled_gaussian_rdp(double sampling_rate, double noise_multiplier, std::int64_t steps,
                                         const std::vector<double>& orders) {
  if (steps < 0) throw Error("RDP accountant: steps must be >= 0, not " + std::to_string(steps));
  std::vector<double> rdp;
  rdp.reserve(orders.size());
  for (double order : orders) {
    const double one = sampled_gaussian_rdp(sampling_rate, noise_multiplier, order);
    rdp.push_back(steps == 0 ? 0 : one * static_cast<double>(steps));
  }
  return rdp;
}

Epsilon epsilon_for(const std::vector<double>& orders, const std::vector<double>& rdp, double delta) {
  if (!(delta > 0 && delta < 1)) throw Error("RDP accountant: δ must be in (0, 1), not " + std::to_string(delta));
  if (orders.size() != rdp.size() || orders.empty()) {
    throw Error("RDP accountant: " + std::to_string(orders.size()) + " orders but " + std::to_string(rdp.size()) +
                " RDP values");
  }
  Epsilon best{kInf, orders.front()};
  for (std::size_t k = 0; k < orders.size(); ++k) {
    const double a = orders[k], r = rdp[k];
    if (!(a > 1) || !(r >= 0))
      throw Error("RDP accountant: order " + std::to_string(a) + " with RDP " + std::to_string(r));
    double eps = kInf;
    if (delta * delta + std::expm1(-r) >= 0) {
      eps = 0;  // δ ≥ sqrt(1 − exp(−KL)) bounds it through the KL divergence
    } else if (a > 1.01) {
      eps = r + std::log1p(-1 / a) - std::log(delta * a) / (a - 1);
    }
    if (eps < best.epsilon) best = {eps, a};
  }
  best.epsilon = std::max(0.0, best.epsilon);
  return best;
}

RdpAccountant::RdpAccountant(std::vector<double> orders) : orders_(std::move(orders)), rdp_(orders_.size(), 0.0) {
  if (orders_.empty()) throw Error("RDP accountant: no orders");
}

void RdpAccountant::add_steps(double sampling_rate, double noise_multiplier, std::int64_t steps) {
  const auto more = sampled_gaussian_rdp(sampling_rate, noise_multiplier, steps, orders_);
  for (std::size_t k = 0; k < rdp_.size(); ++k) rdp_[k] += more[k];
  steps_ += steps;
}

double noise_multiplier_for(double epsilon, double delta, double sampling_rate, std::int64_t steps,
                            const std::vector<double>& orders) {
  if (!(epsilon > 0)) throw Error("--dp-epsilon must be > 0, not " + std::to_string(epsilon));
  if (!(sampling_rate > 0) || steps <= 0) {
    throw Error("--dp-epsilon: a run of " + std::to_string(steps) + " steps at sampling rate " +
                std::to_string(sampling_rate) + " has nothing to calibrate");
  }
  const auto spent = [&](double z) {
    return epsilon_for(orders, sampled_gaussian_rdp(sampling_rate, z, steps, orders), delta).epsilon;
  };
  double hi = 1;
  while (spent(hi) > epsilon) {
    hi *= 2;
    if (hi > 1e4) {
      throw Error("--dp-epsilon " + std::to_string(epsilon) + ": no noise multiplier up to 1e4 reaches it in " +
                  std::to_string(steps) + " steps at sampling rate " + std::to_string(sampling_rate));
    }
  }
  double lo = hi / 2;
  while (spent(lo) <= epsilon) {  // hi = 1 was already enough: go down
    hi = lo;
    lo /= 2;
    if (lo < 1e-3) return hi;
  }
  while (hi - lo > 1e-4 * hi) {
    const double mid = (lo + hi) / 2;
    (spent(mid) > epsilon ? lo : hi) = mid;
  }
  return hi;
}

}  // namespace moecollab::privacy
