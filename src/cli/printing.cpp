#include "printing.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "moecollab/util/files.h"

namespace moecollab::cli {

void print_cache_progress(const CacheProgress& p) {
  std::printf("feature cache: %s %zu/%zu texts, %.1f s\n", p.domain.c_str(), p.done, p.total, p.seconds);
  std::fflush(stdout);
}

void print_final(const std::vector<DomainReport>& reports, bool test_split, const char* title) {
  std::printf("%s (%s):\n", title, test_split ? "test" : "val");
  for (std::size_t i = 0; i < reports.size(); ++i) {
    const auto& d = reports[i];
    std::printf("  %-10s moe acc %.3f F1 %.3f | expert acc %.3f F1 %.3f | gate weight on own expert %.2f\n",
                d.domain.c_str(), d.moe.accuracy, d.moe.macro_f1, d.expert.accuracy, d.expert.macro_f1,
                i < d.utilization.size() ? d.utilization[i] : 0.0);
  }
  std::fflush(stdout);
}

void write_final_json(const std::string& path, const std::vector<DomainReport>& reports, bool test_split, int rounds,
                      double feature_cache_seconds) {
  nlohmann::json j;
  j["split"] = test_split ? "test" : "val";
  j["rounds"] = rounds;
  j["feature_cache_seconds"] = feature_cache_seconds;
  j["domains"] = nlohmann::json::array();
  for (const auto& d : reports) {
    j["domains"].push_back({{"domain", d.domain},
                            {"moe_accuracy", d.moe.accuracy},
                            {"moe_macro_f1", d.moe.macro_f1},
                            {"expert_accuracy", d.expert.accuracy},
                            {"expert_macro_f1", d.expert.macro_f1},
                            {"samples", d.moe.count},
                            {"utilization", d.utilization}});
  }
  write_file_atomically(path, [&](std::ostream& out) { out << j.dump(2) << "\n"; });
}

}  // namespace moecollab::cli
