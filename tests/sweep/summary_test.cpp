// The sweep summary on run logs written by hand (RunLog, the writer training
// uses): last round picked across a resumed run's logs, metrics, CSV and HDF5.
#include "moecollab/sweep/summary.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "moecollab/io/hdf5.h"
#include "moecollab/io/run_log.h"
#include "testing/errors.h"
#include "testing/run_logs.h"
#include "testing/temp.h"

namespace moecollab {
namespace {

namespace fs = std::filesystem;
using testing::round_report;
using testing::write_log;

SweepGrid make_grid(const std::string& dir) {
  fs::remove_all(dir);
  fs::create_directories(dir);
  const auto path = dir + "/grid.ini";
  std::ofstream(path) << "lambda1 = 0 0.5\nlambda2 = 0.1\nseeds = 3\nrun-config = unused.ini\nsweep-dir = " << dir
                      << "/runs\n";
  return load_sweep_grid(path);
}

TEST(SweepSummary, LastRoundAcrossResumedLogs) {
  const auto grid = make_grid(testing::temp_path("sweep_summary", "resumed"));
  const auto a = sweep_point(grid, 0), b = sweep_point(grid, 1);
  write_log(a.run_dir + "/log.h5", {round_report(1, 0.3), round_report(2, 0.6)});
  // b stopped after round 1 and was resumed: round 2 and 3 in a log of their own.
  write_log(b.run_dir + "/log.h5", {round_report(1, 0.2)});
  write_log(b.run_dir + "/log-from-round-2.h5", {round_report(2, 0.4), round_report(3, 0.7)});
  const auto summary = summarize_sweep(grid);
  ASSERT_EQ(summary.runs.size(), 2u);
  EXPECT_EQ(summary.domains, (std::vector<std::string>{"news", "law"}));
  const auto& ra = summary.runs[0];
  const auto& rb = summary.runs[1];
  EXPECT_EQ(ra.round, 2);
  EXPECT_EQ(rb.round, 3);
  EXPECT_EQ(rb.log, b.run_dir + "/log-from-round-2.h5");
  EXPECT_NEAR(ra.moe_accuracy[0], 0.6, 1e-12);
  EXPECT_NEAR(ra.moe_accuracy[1], 0.7, 1e-12);
  EXPECT_NEAR(rb.moe_macro_f1[1], 0.45, 1e-12);
  EXPECT_NEAR(rb.mean_accuracy, (0.7 + 0.8) / 2, 1e-12);
  // Load of b's last round: (30·[0.8, 0.2] + 10·[0.7, 0.3]) / 40 = [0.775, 0.225].
  const double h = -(0.775 * std::log(0.775) + 0.225 * std::log(0.225));
  EXPECT_NEAR(rb.load_balance, h / std::log(2.0), 1e-12);
  EXPECT_DOUBLE_EQ(rb.utilization_rate, 0.5);  // 0.225 < 1/(2E) = 1/4: one of two experts counts
  EXPECT_NEAR(rb.total_loss, 0.5 + 0.7, 1e-12);
  EXPECT_GE(rb.specialization, 0.0);
  EXPECT_LE(rb.specialization, 1.0);

  const auto table = format_summary_table(summary);
  EXPECT_NE(table.find("lambda1"), std::string::npos);
  EXPECT_NE(table.find("0.5"), std::string::npos);

  const auto csv = grid.sweep_dir + "/summary.csv";
  write_summary_csv(summary, csv);
  std::ifstream in(csv);
  std::string first, line;
  std::getline(in, first);
  EXPECT_EQ(first.rfind("index,name,lambda1,lambda2,seed,round,moe_acc_news,moe_f1_news,moe_acc_law", 0), 0u) << first;
  int rows = 0;
  while (std::getline(in, line)) ++rows;
  EXPECT_EQ(rows, 2);

  const auto h5path = grid.sweep_dir + "/summary.h5";
  write_summary_hdf5(summary, h5path);
  const auto file = h5::open_file(h5path, h5::Mode::kRead);
  EXPECT_EQ(h5::read_string_attribute(file, "format"), "moecollab-sweep-summary");
  EXPECT_EQ(h5::read_int_attribute(file, "format_version"), 1);
  EXPECT_EQ(h5::read_strings_attribute(file, "runs"), (std::vector<std::string>{a.name, b.name}));
  const auto acc = h5::read_tensor(file, "moe_accuracy");
  ASSERT_EQ(acc.sizes(), (std::vector<std::int64_t>{2, 2}));
  EXPECT_NEAR(acc[1][1].item<double>(), 0.8, 1e-12);
  EXPECT_NEAR(h5::read_tensor(file, "lambda1")[1].item<double>(), 0.5, 1e-15);
  EXPECT_NEAR(h5::read_tensor(file, "load_balance")[1].item<double>(), rb.load_balance, 1e-15);
}

TEST(SweepSummary, MissingRunsAreListed) {
  const auto grid = make_grid(testing::temp_path("sweep_summary", "missing"));
  write_log(sweep_point(grid, 0).run_dir + "/log.h5", {round_report(1, 0.3)});
  const auto error = testing::error_of([&] { summarize_sweep(grid); });
  EXPECT_NE(error.find("runs without a run log"), std::string::npos) << error;
  EXPECT_NE(error.find(sweep_point(grid, 1).run_dir + " (array index 1)"), std::string::npos) << error;
}

}  // namespace
}  // namespace moecollab
