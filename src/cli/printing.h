// What the training subcommands print: the run header, one line per round
// (format_round) and the final per-domain table, also as RUN_DIR/final.json
// for scripts (experiments/reproduce); the same for both trainers.
#pragma once

#include <string>
#include <vector>

#include "moecollab/train/report.h"

namespace moecollab::cli {

// "TITLE (val|test):" then a line per domain.
void print_final(const std::vector<DomainReport>& reports, bool test_split, const char* title = "final");

// The final table as JSON, written atomically: {"split", "rounds", "domains": [{"domain",
// "moe_accuracy", "moe_macro_f1", "expert_accuracy", "expert_macro_f1", "samples", "utilization"}]}.
void write_final_json(const std::string& path, const std::vector<DomainReport>& reports, bool test_split, int rounds);

}  // namespace moecollab::cli
