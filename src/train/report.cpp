#include "moecollab/train/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

namespace moecollab {
namespace {

std::string fixed(double value, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, value);
  return buf;
}

}  // namespace

DomainReport make_domain_report(const std::string& domain, const std::vector<std::int64_t>& moe_predictions,
                                const std::vector<std::int64_t>& expert_predictions,
                                const std::vector<std::int64_t>& truth, std::int64_t classes,
                                const std::vector<double>& gate_weight_sums, const std::vector<double>& top1_counts) {
  DomainReport r;
  r.domain = domain;
  r.moe = classification_metrics(moe_predictions, truth, static_cast<std::size_t>(classes));
  r.expert = classification_metrics(expert_predictions, truth, static_cast<std::size_t>(classes));
  const double n = static_cast<double>(std::max<std::size_t>(1, truth.size()));
  for (double s : gate_weight_sums) r.utilization.push_back(s / n);
  r.top1 = top1_counts;
  return r;
}

void accumulate(StepLosses& mean, const StepLosses& step, int steps) {
  mean.task += step.task / steps;
  mean.entropy += step.entropy / steps;
  mean.balance += step.balance / steps;
  mean.z += step.z / steps;
  mean.domain += step.domain / steps;
  mean.total += step.total / steps;
}

double RoundReport::drop_rate() const {
  return assigned > 0 ? static_cast<double>(dropped) / static_cast<double>(assigned)
                      : std::numeric_limits<double>::quiet_NaN();
}

std::vector<double> global_utilization(const std::vector<DomainReport>& domains) {
  std::vector<double> util(domains.empty() ? 0 : domains[0].utilization.size(), 0.0);
  std::size_t total = 0;
  for (const auto& d : domains) {
    total += d.moe.count;
    for (std::size_t e = 0; e < util.size(); ++e) util[e] += d.utilization[e] * static_cast<double>(d.moe.count);
  }
  for (auto& u : util) u /= static_cast<double>(std::max<std::size_t>(1, total));
  return util;
}

std::vector<double> specialization(const std::vector<DomainReport>& domains) {
  const std::size_t experts = domains.empty() ? 0 : domains[0].utilization.size();
  std::vector<double> out(experts, 0.0);
  for (std::size_t e = 0; e < experts; ++e) {
    double total = 0;
    for (const auto& d : domains) total += d.utilization[e] * static_cast<double>(d.moe.count);
    for (const auto& d : domains) {
      const double p = total > 0 ? d.utilization[e] * static_cast<double>(d.moe.count) / total : 0.0;
      if (p > 0) out[e] -= p * std::log(p);
    }
  }
  return out;
}

double kl_to_uniform(const std::vector<double>& u) {
  double kl = 0;
  for (double p : u) {
    if (p > 0) kl += p * std::log(p * static_cast<double>(u.size()));
  }
  return kl;
}

std::string format_round(const RoundReport& r) {
  std::string line = "round " + std::to_string(r.round) + "/" + std::to_string(r.rounds);
  line += " | local " + (r.local_phase_ran ? fixed(r.local_loss, 3) : "-");
  if (r.gate_phase_ran) {
    line += " | task " + fixed(r.gate.task, 3) + " H " + fixed(r.gate.entropy, 3);
    if (r.balance_label == "kl") line += " KL " + fixed(r.gate.balance, 4);
    if (r.balance_label == "switch") line += " aux " + fixed(r.gate.balance, 3);
    if (r.z_loss) line += " z " + fixed(r.gate.z, 2);
    if (r.domain_loss) line += " dom " + fixed(r.gate.domain, 3);
    if (r.assigned > 0) line += " drop " + fixed(100 * r.drop_rate(), 1) + "%";
  } else {
    line += " | task - H - KL -";
  }
  line += " | moe acc";
  for (const auto& d : r.domains) line += " " + d.domain + " " + fixed(d.moe.accuracy, 3);
  line += " | expert acc";
  for (const auto& d : r.domains) line += " " + fixed(d.expert.accuracy, 3);
  line += " | util";
  for (double u : r.utilization) line += " " + fixed(u, 2);
  if (!std::isnan(r.dp_epsilon)) {
    std::ostringstream delta;
    delta << r.dp_delta;
    line += " | dp eps " + (std::isinf(r.dp_epsilon) ? std::string("inf") : fixed(r.dp_epsilon, 2)) + " delta " +
            delta.str() + " clipped " + fixed(100 * r.dp_clipped, 0) + "% (rank 0's, as the losses)";
  }
  line += " | " + fixed(r.seconds, 1) + " s";
  if (!r.backend.empty()) {
    line += " (compute " + fixed(r.seconds - r.comm_seconds, 1) + ", comm " + fixed(r.comm_seconds, 1) + ") | " +
            r.backend + " sent " + fixed(static_cast<double>(r.bytes_sent) / 1e6, 2) + " MB";
  }
  return line;
}

}  // namespace moecollab
