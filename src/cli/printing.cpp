#include "printing.h"

#include <cstdio>

namespace moecollab::cli {

void print_final(const std::vector<DomainReport>& reports, bool test_split) {
  std::printf("final (%s):\n", test_split ? "test" : "val");
  for (std::size_t i = 0; i < reports.size(); ++i) {
    const auto& d = reports[i];
    std::printf("  %-10s moe acc %.3f F1 %.3f | expert acc %.3f F1 %.3f | gate weight on own expert %.2f\n",
                d.domain.c_str(), d.moe.accuracy, d.moe.macro_f1, d.expert.accuracy, d.expert.macro_f1,
                i < d.utilization.size() ? d.utilization[i] : 0.0);
  }
  std::fflush(stdout);
}

}  // namespace moecollab::cli
