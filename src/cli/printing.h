// What the training subcommands print: the run header, one line per round
// (format_round) and the final per-domain table, also as RUN_DIR/final.json
// for scripts (experiments/reproduce); the same for both trainers.
#pragma once

#include <string>
#include <vector>

#include "moecollab/train/domain_shard.h"
#include "moecollab/train/report.h"

namespace moecollab::cli {

// "feature cache: quotes 1024/1804 texts, 5.0 s", for TrainOptions::cache_progress.
void print_cache_progress(const CacheProgress& p);

// "TITLE (val|test):" then a line per domain.
void print_final(const std::vector<DomainReport>& reports, bool test_split, const char* title = "final");

// The final table as JSON, written atomically: {"split", "rounds", "feature_cache_seconds", "domains": [{"domain",
// "moe_accuracy", "moe_macro_f1", "expert_accuracy", "expert_macro_f1", "samples", "utilization"}]}.
void write_final_json(const std::string& path, const std::vector<DomainReport>& reports, bool test_split, int rounds,
                      double feature_cache_seconds);

}  // namespace moecollab::cli
