#include "moecollab/sweep/grid.h"

#include <boost/program_options.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "moecollab/io/run_dir.h"
#include "moecollab/util/error.h"

namespace moecollab {
namespace {

namespace po = boost::program_options;

std::vector<std::string> split_list(const std::string& text) {
  std::string spaced = text;
  for (auto& c : spaced) {
    if (c == ',') c = ' ';
  }
  std::istringstream in(spaced);
  std::vector<std::string> out;
  for (std::string token; in >> token;) out.push_back(token);
  return out;
}

std::string where(const std::string& path, const std::string& key) { return path + ": " + key + ": "; }

std::vector<GridValue> parse_lambdas(const std::string& path, const std::string& key, const std::string& text) {
  std::vector<GridValue> values;
  std::set<double> seen;
  for (const auto& token : split_list(text)) {
    std::size_t used = 0;
    double value = 0;
    try {
      value = std::stod(token, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != token.size() || !std::isfinite(value) || value < 0) {
      throw Error(where(path, key) + "'" + token + "' is not a finite number >= 0");
    }
    if (!seen.insert(value).second) throw Error(where(path, key) + "value " + token + " is given twice");
    values.push_back({token, value});
  }
  if (values.empty()) throw Error(where(path, key) + "no values");
  return values;
}

std::vector<std::int64_t> parse_seeds(const std::string& path, const std::string& text) {
  std::vector<std::int64_t> seeds;
  for (const auto& token : split_list(text)) {
    std::size_t used = 0;
    long long seed = 0;
    try {
      seed = std::stoll(token, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != token.size() || seed < 0) throw Error(where(path, "seeds") + "'" + token + "' is not an integer >= 0");
    for (auto s : seeds) {
      if (s == seed) throw Error(where(path, "seeds") + "seed " + token + " is given twice");
    }
    seeds.push_back(seed);
  }
  if (seeds.empty()) throw Error(where(path, "seeds") + "no values");
  return seeds;
}

}  // namespace

SweepGrid load_sweep_grid(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(path + ": cannot open sweep grid");
  std::string lambda1, lambda2, seeds;
  SweepGrid grid;
  grid.path = path;
  po::options_description keys;
  keys.add_options()("lambda1", po::value(&lambda1))("lambda2", po::value(&lambda2))("seeds", po::value(&seeds))(
      "run-config", po::value(&grid.run_config))("sweep-dir", po::value(&grid.sweep_dir));
  po::variables_map vm;
  try {
    po::store(po::parse_config_file(in, keys, /*allow_unregistered=*/false), vm);
  } catch (const po::unknown_option& e) {
    throw Error(path + ": unrecognised key '" + e.get_option_name() +
                "' (a sweep grid has lambda1, lambda2, seeds, "
                "run-config, sweep-dir)");
  } catch (const po::error& e) {
    throw Error(path + ": " + e.what());
  }
  po::notify(vm);
  for (const char* key : {"lambda1", "lambda2", "seeds", "run-config", "sweep-dir"}) {
    if (!vm.count(key)) throw Error(where(path, key) + "missing");
  }
  grid.lambda1 = parse_lambdas(path, "lambda1", lambda1);
  grid.lambda2 = parse_lambdas(path, "lambda2", lambda2);
  grid.seeds = parse_seeds(path, seeds);
  if (grid.run_config.empty()) throw Error(where(path, "run-config") + "empty");
  if (grid.sweep_dir.empty()) throw Error(where(path, "sweep-dir") + "empty");
  return grid;
}

std::size_t sweep_size(const SweepGrid& grid) { return grid.lambda1.size() * grid.lambda2.size() * grid.seeds.size(); }

SweepPoint sweep_point(const SweepGrid& grid, std::size_t index) {
  const auto n = sweep_size(grid);
  if (index >= n) {
    throw Error(grid.path + ": array index " + std::to_string(index) + " is outside the grid (" + std::to_string(n) +
                " runs: indices 0.." + std::to_string(n - 1) + ")");
  }
  SweepPoint p;
  p.index = index;
  const auto seeds = grid.seeds.size(), l2 = grid.lambda2.size();
  p.seed = grid.seeds[index % seeds];
  p.lambda2 = grid.lambda2[(index / seeds) % l2];
  p.lambda1 = grid.lambda1[index / seeds / l2];
  p.name = "lambda1-" + p.lambda1.text + "_lambda2-" + p.lambda2.text + "_seed-" + std::to_string(p.seed);
  p.run_dir = (std::filesystem::path(grid.sweep_dir) / p.name).string();
  return p;
}

std::vector<std::size_t> pending_points(const SweepGrid& grid) {
  std::vector<std::size_t> pending;
  for (std::size_t i = 0; i < sweep_size(grid); ++i) {
    if (!std::filesystem::exists(run_dir::completed_marker_path(sweep_point(grid, i).run_dir))) {
      pending.push_back(i);
    }
  }
  return pending;
}

}  // namespace moecollab
