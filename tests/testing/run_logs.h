// Test helper: run logs written by hand with RunLog (the writer training uses):
// two domains (news: labels a b; law: x y z), rounds whose metrics follow one number.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "moecollab/io/run_log.h"
#include "moecollab/train/utilization.h"

namespace moecollab::testing {

inline RunLogHeader two_domain_header() {
  RunLogHeader h;
  h.config = {{"rounds", "3"}};
  h.git_revision = "test";
  h.world_size = 2;
  h.domains = {"news", "law"};
  h.labels = {{"a", "b"}, {"x", "y", "z"}};
  return h;
}

// A round whose accuracies and routing are determined by `x`.
inline RoundReport round_report(int round, double x) {
  RoundReport r;
  r.round = round;
  r.rounds = 3;
  r.gate.task = 0.5;
  r.gate.entropy = 0.2;
  r.gate.balance = 0.01;
  r.gate.total = 0.5 + x;
  for (int d = 0; d < 2; ++d) {
    DomainReport dr;
    dr.domain = d == 0 ? "news" : "law";
    dr.moe = {x + 0.1 * d, x / 2 + 0.1 * d, 10};
    dr.expert = {0.5, 0.5, 10};
    dr.utilization = d == 0 ? std::vector<double>{0.8, 0.2} : std::vector<double>{x, 1 - x};
    dr.top1 = d == 0 ? std::vector<double>{30, 0} : std::vector<double>{2, 8};  // 30 and 10 samples
    r.domains.push_back(dr);
  }
  r.utilization = global_utilization(r.domains);
  return r;
}

inline void write_log(const std::string& path, const std::vector<RoundReport>& rounds) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  RunLog log(path, two_domain_header());
  for (const auto& r : rounds) log.append(r);
}

}  // namespace moecollab::testing
