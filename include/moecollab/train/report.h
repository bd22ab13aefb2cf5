// What a training round reports, and the one-line progress summary printed
// per round. Plain data: the same report feeds the terminal and (later) logs.
#pragma once

#include <string>
#include <vector>

#include "moecollab/train/metrics.h"

namespace moecollab {

struct DomainReport {
  std::string domain;
  ClassificationMetrics moe;     // the mixture, on the domain's first c_d columns
  ClassificationMetrics expert;  // the domain's own expert alone
  std::vector<double> utilization;  // mean gate weight this domain's samples give each expert
};

struct RoundReport {
  int round = 0;
  int rounds = 0;
  double local_loss = 0;  // mean expert cross-entropy over the local phase
  double task_loss = 0;   // means over the gate phase's steps
  double entropy = 0;
  double balance = 0;
  double total_loss = 0;
  std::vector<DomainReport> domains;  // on the validation splits
  std::vector<double> utilization;    // global: mean gate weight per expert over all domains
  double seconds = 0;
};

// "round 3/10 | local 0.41 | task 0.52 H 0.31 KL 0.004 | moe acc quotes 0.71 ... | util ... | 2.1 s"
std::string format_round(const RoundReport& report);

}  // namespace moecollab
