#include "moecollab/io/contribution.h"

#include <algorithm>

#include "moecollab/util/error.h"
#include "moecollab/util/strings.h"

namespace moecollab {

void install_package(ExpertState& expert, const ExpertPackage& package, const std::string& path) {
  const auto& m = package.manifest;
  if (m.domain != expert.domain) {
    throw Error(path + ": domain: package is for '" + m.domain + "', its rank's data is domain '" + expert.domain +
                "'");
  }
  if (m.labels != expert.labels) {
    throw Error(path + ": labels: package has [" + join(m.labels) + "], domain '" + expert.domain + "' has [" +
                join(expert.labels) + "]");
  }
  NamedTensors tensors;
  for (const auto& [name, t] : package.tensors) {
    if (name.rfind("parameters/", 0) == 0) tensors[name] = t;
  }
  expert.tensors = std::move(tensors);
  expert.sampler_epoch = 0;
  expert.sampler_cursor = 0;
}

NamedTensors carry_gate(const NamedTensors& base_gate, const std::vector<std::string>& base_domains,
                        const std::vector<std::string>& domains, std::uint64_t seed) {
  const auto& weight = base_gate.at("parameters/gate.weight");
  const auto& bias = base_gate.at("parameters/gate.bias");
  std::vector<std::int64_t> kept_rows;
  for (const auto& d : domains) {
    const auto it = std::find(base_domains.begin(), base_domains.end(), d);
    if (it != base_domains.end()) kept_rows.push_back(it - base_domains.begin());
  }
  if (kept_rows.empty()) throw Error("the new mixture keeps none of the model's experts (" + join(base_domains) + ")");
  const auto kept_bias = bias.index_select(0, torch::tensor(kept_rows)).mean();
  auto generator = at::detail::createCPUGenerator(seed);
  auto new_weight = torch::zeros({static_cast<std::int64_t>(domains.size()), weight.size(1)}, weight.options());
  auto new_bias = torch::zeros({static_cast<std::int64_t>(domains.size())}, bias.options());
  for (std::size_t j = 0; j < domains.size(); ++j) {
    const auto it = std::find(base_domains.begin(), base_domains.end(), domains[j]);
    const auto row = static_cast<std::int64_t>(j);
    if (it != base_domains.end()) {
      new_weight[row] = weight[it - base_domains.begin()];
      new_bias[row] = bias[it - base_domains.begin()];
    } else {
      new_weight[row] = at::normal(0.0, 1e-3, {weight.size(1)}, generator).to(weight.dtype());
      new_bias[row] = kept_bias;
    }
  }
  NamedTensors carried{{"parameters/gate.weight", new_weight}, {"parameters/gate.bias", new_bias}};
  // A noisy gate's W_noise (--noisy-gate): kept rows carried, a new expert's row zero (as initialised).
  if (const auto noise = base_gate.find("parameters/noise.weight"); noise != base_gate.end()) {
    auto new_noise =
        torch::zeros({static_cast<std::int64_t>(domains.size()), noise->second.size(1)}, noise->second.options());
    for (std::size_t j = 0; j < domains.size(); ++j) {
      const auto it = std::find(base_domains.begin(), base_domains.end(), domains[j]);
      if (it != base_domains.end()) new_noise[static_cast<std::int64_t>(j)] = noise->second[it - base_domains.begin()];
    }
    carried.emplace("parameters/noise.weight", new_noise);
  }
  return carried;
}

}  // namespace moecollab
