// The sweep grid file and the job-array index -> (λ1, λ2, seed) mapping.
#include "moecollab/sweep/grid.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <tuple>

#include "moecollab/io/run_dir.h"
#include "moecollab/util/error.h"
#include "testing/errors.h"
#include "testing/temp.h"

namespace moecollab {
namespace {

std::string write_grid(const std::string& name, const std::string& text) {
  const auto path = testing::temp_path("sweep_grid", name);
  std::ofstream(path) << text;
  return path;
}

void expect_error(const std::function<void()>& f, const std::string& message) {
  const auto error = testing::error_of(f);
  EXPECT_NE(error.find(message), std::string::npos) << "error: " << error << "\nexpected: " << message;
}

const char* kGrid =
    "# a 3 x 2 grid, two seeds\n"
    "lambda1 = 0 0.01 0.1\n"
    "lambda2 = 0, 0.5\n"
    "seeds = 7 8\n"
    "run-config = experiments/demo.ini\n"
    "sweep-dir = runs/sweep\n";

TEST(SweepGrid, ParsesListsInFileOrder) {
  const auto grid = load_sweep_grid(write_grid("ok.ini", kGrid));
  ASSERT_EQ(grid.lambda1.size(), 3u);
  EXPECT_EQ(grid.lambda1[1].text, "0.01");
  EXPECT_DOUBLE_EQ(grid.lambda1[1].value, 0.01);
  ASSERT_EQ(grid.lambda2.size(), 2u);
  EXPECT_EQ(grid.lambda2[1].text, "0.5");
  EXPECT_EQ(grid.seeds, (std::vector<std::int64_t>{7, 8}));
  EXPECT_EQ(grid.run_config, "experiments/demo.ini");
  EXPECT_EQ(sweep_size(grid), 12u);
}

TEST(SweepGrid, IndexMapsRowMajorWithSeedFastest) {
  const auto grid = load_sweep_grid(write_grid("map.ini", kGrid));
  std::set<std::tuple<std::string, std::string, std::int64_t>> seen;
  for (std::size_t i = 0; i < sweep_size(grid); ++i) {
    const auto p = sweep_point(grid, i);
    EXPECT_EQ(p.index, i);
    EXPECT_EQ(p.seed, grid.seeds[i % 2]);
    EXPECT_EQ(p.lambda2.text, grid.lambda2[(i / 2) % 2].text);
    EXPECT_EQ(p.lambda1.text, grid.lambda1[i / 4].text);
    seen.insert({p.lambda1.text, p.lambda2.text, p.seed});
  }
  EXPECT_EQ(seen.size(), 12u);  // every point exactly once
  const auto p = sweep_point(grid, 11);
  EXPECT_EQ(p.name, "lambda1-0.1_lambda2-0.5_seed-8");
  EXPECT_EQ(p.run_dir, "runs/sweep/lambda1-0.1_lambda2-0.5_seed-8");
  EXPECT_EQ(sweep_point(grid, 5).name, "lambda1-0.01_lambda2-0_seed-8");
  expect_error([&] { sweep_point(grid, 12); }, "array index 12 is outside the grid (12 runs: indices 0..11)");
}

TEST(SweepGrid, PendingSkipsCompletedRuns) {
  auto text = std::string(kGrid);
  const auto dir = testing::temp_path("sweep_grid", "pending");
  std::filesystem::remove_all(dir);
  text.replace(text.find("runs/sweep"), 10, dir);
  const auto grid = load_sweep_grid(write_grid("pending.ini", text));
  EXPECT_EQ(pending_points(grid).size(), 12u);
  for (std::size_t i : {0u, 5u}) {
    std::filesystem::create_directories(sweep_point(grid, i).run_dir);
    std::ofstream(run_dir::completed_marker_path(sweep_point(grid, i).run_dir)) << "";
  }
  const auto pending = pending_points(grid);
  EXPECT_EQ(pending.size(), 10u);
  EXPECT_EQ(pending.front(), 1u);
  EXPECT_EQ(std::count(pending.begin(), pending.end(), 5u), 0);
}

TEST(SweepGrid, BadFilesNameFileAndKey) {
  const auto bad = [](const std::string& name, const std::string& text, const std::string& message) {
    const auto path = write_grid(name, text);
    expect_error([&] { load_sweep_grid(path); }, path + ": " + message);
  };
  const std::string rest = "run-config = a.ini\nsweep-dir = runs/s\n";
  bad("negative.ini", "lambda1 = 0 -0.1\nlambda2 = 0\nseeds = 1\n" + rest,
      "lambda1: '-0.1' is not a finite number >= 0");
  bad("word.ini", "lambda1 = 0\nlambda2 = small\nseeds = 1\n" + rest, "lambda2: 'small' is not a finite number >= 0");
  bad("twice.ini", "lambda1 = 0.1 0.10\nlambda2 = 0\nseeds = 1\n" + rest, "lambda1: value 0.10 is given twice");
  bad("seed.ini", "lambda1 = 0\nlambda2 = 0\nseeds = 1.5\n" + rest, "seeds: '1.5' is not an integer >= 0");
  bad("empty.ini", "lambda1 =\nlambda2 = 0\nseeds = 1\n" + rest, "lambda1: no values");
  bad("missing.ini", "lambda1 = 0\nseeds = 1\n" + rest, "lambda2: missing");
  bad("typo.ini", "lambda1 = 0\nlambda2 = 0\nseed = 1\n" + rest, "unrecognised key 'seed'");
  expect_error([] { load_sweep_grid("/nonexistent/grid.ini"); }, "/nonexistent/grid.ini: cannot open sweep grid");
}

}  // namespace
}  // namespace moecollab
