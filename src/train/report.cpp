#include "moecollab/train/report.h"

#include <cstdio>

namespace moecollab {
namespace {

std::string fixed(double value, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, value);
  return buf;
}

}  // namespace

std::string format_round(const RoundReport& r) {
  std::string line = "round " + std::to_string(r.round) + "/" + std::to_string(r.rounds);
  line += " | local " + fixed(r.local_loss, 3);
  line += " | task " + fixed(r.task_loss, 3) + " H " + fixed(r.entropy, 3) + " KL " + fixed(r.balance, 4);
  line += " | moe acc";
  for (const auto& d : r.domains) line += " " + d.domain + " " + fixed(d.moe.accuracy, 3);
  line += " | expert acc";
  for (const auto& d : r.domains) line += " " + fixed(d.expert.accuracy, 3);
  line += " | util";
  for (double u : r.utilization) line += " " + fixed(u, 2);
  line += " | " + fixed(r.seconds, 1) + " s";
  return line;
}

}  // namespace moecollab
