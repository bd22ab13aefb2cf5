#include "moecollab/train/utilization.h"

#include <cmath>

namespace moecollab {

std::vector<double> global_load(const std::vector<std::vector<double>>& utilization,
                                const std::vector<double>& samples_per_domain) {
  std::vector<double> load(utilization.empty() ? 0 : utilization.front().size(), 0.0);
  double total = 0;
  for (std::size_t d = 0; d < utilization.size(); ++d) {
    total += samples_per_domain[d];
    for (std::size_t e = 0; e < load.size(); ++e) load[e] += samples_per_domain[d] * utilization[d][e];
  }
  if (total > 0) {
    for (auto& u : load) u /= total;
  }
  return load;
}

double load_balance(const std::vector<double>& load) {
  if (load.size() < 2) return 1.0;
  double entropy = 0;
  for (double u : load) {
    if (u > 0) entropy -= u * std::log(u);
  }
  return entropy / std::log(static_cast<double>(load.size()));
}

double utilization_rate(const std::vector<double>& load) {
  if (load.empty()) return 0.0;
  const double half_share = 0.5 / static_cast<double>(load.size());
  std::size_t used = 0;
  for (double u : load) used += u >= half_share ? 1 : 0;
  return static_cast<double>(used) / static_cast<double>(load.size());
}

double normalized_specialization(const std::vector<double>& specialization, std::size_t domains) {
  if (domains < 2 || specialization.empty()) return 0.0;
  double sum = 0;
  for (double s : specialization) sum += s;
  return sum / static_cast<double>(specialization.size()) / std::log(static_cast<double>(domains));
}

}  // namespace moecollab
