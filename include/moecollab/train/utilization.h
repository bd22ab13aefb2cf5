// How evenly a mixture uses its experts, from a run's per-domain utilization
// matrix: the global load, its normalized entropy, the utilization rate and
// the normalized specialization. Definitions in docs/hdf5-layout.md (sweep summary).
#pragma once

#include <cstdint>
#include <vector>

namespace moecollab {

// Global load u_e = Σ_d n_d U[d][e] / Σ_d n_d: the share of all gate mass on
// expert e, U[d] = mean gate weights of domain d's n_d samples.
std::vector<double> global_load(const std::vector<std::vector<double>>& utilization,
                                const std::vector<double>& samples_per_domain);

// H(u) / ln E in [0, 1]: 1 = every expert carries the same load, 0 = one carries all. 1 when E = 1.
double load_balance(const std::vector<double>& load);

// Fraction of experts whose load is at least 1 / (2E) (half their fair share).
double utilization_rate(const std::vector<double>& load);

// Mean over experts of S(e) / ln D in [0, 1] (S: paper eq. 6): 0 = every
// expert serves one domain only, 1 = no expert prefers any domain. 0 when D = 1.
double normalized_specialization(const std::vector<double>& specialization, std::size_t domains);

}  // namespace moecollab
