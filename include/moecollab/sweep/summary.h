// The sweep summary: every run of a λ1 × λ2 × seed grid reduced to its final
// metrics (last logged round: per-domain MoE accuracy and macro-F1, load
// balance, utilization rate, specialization), as a terminal table, CSV and
// one HDF5 file (docs/hdf5-layout.md, "Sweep summary").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "moecollab/sweep/grid.h"

namespace moecollab {

struct RunLogData;

struct RunResult {
  SweepPoint point;
  std::string log;                                 // the run log the last round was read from
  std::vector<std::string> domains;                // of that log
  std::int64_t round = 0;                          // last logged round
  std::vector<double> moe_accuracy, moe_macro_f1;  // per domain, validation split
  double mean_accuracy = 0, mean_macro_f1 = 0;     // over domains
  double load_balance = 0;                         // H(global load) / ln E
  double utilization_rate = 0;                     // experts with load >= 1/(2E), fraction
  double specialization = 0;                       // mean S(e) / ln D
  double kl_utilization = 0;                       // KL(global load ‖ uniform), nats
  double total_loss = 0;                           // gate-phase task + λ1 H + λ2 KL of the last round
};

struct SweepSummary {
  std::string grid;
  std::vector<std::string> domains;
  std::vector<RunResult> runs;  // in array-index order
};

// The metrics of the last round of one run log (`path`, for the result and messages).
// Throws Error when it has no finished round. `point` is left empty.
RunResult summarize_log(const RunLogData& log, const std::string& path);

// The final metrics of one run: the last round over RUN_DIR/log.h5 and any
// log-from-round-N.h5 a resumed run wrote. Throws Error naming the directory when it has no log.
RunResult summarize_run(const SweepPoint& point);

// Every run of the grid. Throws Error listing the runs without a log, or naming a
// run whose domains differ from the first run's.
SweepSummary summarize_sweep(const SweepGrid& grid);

std::string format_summary_table(const SweepSummary& summary);
void write_summary_csv(const SweepSummary& summary, const std::string& path);
void write_summary_hdf5(const SweepSummary& summary, const std::string& path);

}  // namespace moecollab
