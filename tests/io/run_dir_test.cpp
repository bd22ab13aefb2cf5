// io/run_dir.h: the run directory's names, and every reader checking the file's
// format name and version; run-log columns found by name, not position.
#include "moecollab/io/run_dir.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "moecollab/io/hdf5.h"
#include "moecollab/io/run_log_reader.h"
#include "testing/errors.h"
#include "testing/run_logs.h"
#include "testing/temp.h"

namespace moecollab {
namespace {

TEST(RunDir, Names) {
  EXPECT_EQ(run_dir::log_path("runs/a", 1), "runs/a/log.h5");
  EXPECT_EQ(run_dir::log_path("runs/a", 5), "runs/a/log-from-round-5.h5");
  EXPECT_TRUE(run_dir::is_log_name("log.h5"));
  EXPECT_TRUE(run_dir::is_log_name("log-from-round-12.h5"));
  EXPECT_FALSE(run_dir::is_log_name("log.h5.tmp"));
  EXPECT_FALSE(run_dir::is_log_name("logbook.h5"));
  EXPECT_EQ(run_dir::checkpoint_path(run_dir::checkpoints_dir("runs/a"), 4), "runs/a/checkpoints/round-000004.h5");
  EXPECT_TRUE(run_dir::is_checkpoint_name("round-000004.h5"));
  EXPECT_FALSE(run_dir::is_checkpoint_name("round-000004.h5.tmp"));
  EXPECT_EQ(run_dir::final_json_path("runs/a"), "runs/a/final.json");
  EXPECT_EQ(run_dir::completed_marker_path("runs/a"), "runs/a/COMPLETED");
  EXPECT_EQ(run_dir::registry_index_path("reg"), "reg/index.json");
  EXPECT_EQ(run_dir::registry_package_file("law", "1.2.0"), "law/1.2.0.h5");
}

TEST(RunDir, RunLogVersionIsChecked) {
  const auto path = testing::temp_path("run_dir", "versioned/log.h5");
  testing::write_log(path, {testing::round_report(1, 0.3)});
  EXPECT_EQ(read_run_log(path).rounds(), 1);
  {
    auto file = h5::open_file(path, h5::Mode::kWrite);
    h5::write_attribute(file, "format_version", std::int64_t{run_dir::kRunLog.version + 1});
  }
  const auto message = testing::error_of([&] { read_run_log(path); });
  EXPECT_NE(message.find(path + ": run log format version 2, this build reads version 1"), std::string::npos)
      << message;
  {
    auto file = h5::open_file(path, h5::Mode::kWrite);
    h5::write_attribute(file, "format", std::string("something-else"));
  }
  EXPECT_NE(testing::error_of([&] { read_run_log(path); }).find("not a MoECollab run log"), std::string::npos);
}

TEST(RunDir, LogColumnsByName) {
  const auto path = testing::temp_path("run_dir", "columns/log.h5");
  testing::write_log(path, {testing::round_report(1, 0.3), testing::round_report(2, 0.4)});
  const auto log = read_run_log(path);
  const auto& losses = log.columns.at("losses");
  ASSERT_EQ(losses.size(), static_cast<std::size_t>(log.losses.size(1)));
  EXPECT_EQ(losses, (std::vector<std::string>{"local", "task", "entropy", "balance", "total", "z", "domain"}));
  EXPECT_NEAR(log.loss("total")[1].item<double>(), 0.9, 1e-12);  // round_report(2, 0.4): total 0.5 + x
  EXPECT_NEAR(log.loss("task")[0].item<double>(), 0.5, 1e-12);
  EXPECT_EQ(log.column("seconds", "total").size(0), 2);
  const auto message = testing::error_of([&] { log.loss("nosuch"); });
  EXPECT_NE(message.find(path + ": /rounds/losses has no column 'nosuch'"), std::string::npos) << message;
}

}  // namespace
}  // namespace moecollab
