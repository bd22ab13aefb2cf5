// The two halves of a λ1/λ2 sweep that slurm/ scripts call:
//   moecollab sweep-point --grid G --index I   one array task's parameters, as shell assignments
//   moecollab sweep-point --grid G --info      the sweep's size, run config, ranks and pending runs
//   moecollab sweep-summary --grid G           every run's final metrics: table, CSV, HDF5
#include <filesystem>
#include <iostream>

#include "commands.h"
#include "moecollab/io/run_dir.h"
#include "moecollab/sweep/grid.h"
#include "moecollab/sweep/summary.h"
#include "moecollab/util/error.h"
#include "options.h"
#include "run_options.h"

namespace moecollab::cli {
namespace {

// 'text' for a POSIX shell.
std::string quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

void assign(const std::string& name, const std::string& value) { std::cout << name << "=" << quoted(value) << "\n"; }

// The domains of the grid's run config, parsed exactly as `moecollab train` parses it.
std::size_t domains_of(const SweepGrid& grid) {
  RunOptions run;
  CollectiveOptions collective;
  po::options_description options;
  add_run_options(options, run);
  add_collective_options(options, collective);
  po::variables_map vm;
  store_config_file(grid.run_config, options, vm);
  po::notify(vm);
  if (run.data.domains.empty()) throw Error(grid.run_config + " (run-config of " + grid.path + "): no domain");
  return run.data.domains.size();
}

}  // namespace

int sweep_point_main(int argc, char** argv) {
  std::string grid_path;
  long long index = -1;
  bool info = false;
  po::options_description options("sweep-point");
  options.add_options()("grid", po::value(&grid_path)->required(),
                        "the sweep grid file (INI: lambda1, lambda2, seeds, run-config, sweep-dir)")(
      "index", po::value(&index),
      "a job-array index: print SWEEP_NAME, SWEEP_LAMBDA1, SWEEP_LAMBDA2, SWEEP_SEED, "
      "SWEEP_RUN_DIR, SWEEP_RUN_CONFIG and SWEEP_STATE (new, resume or completed)")(
      "info", flag(&info),
      "print SWEEP_SIZE, SWEEP_DIR, SWEEP_RUN_CONFIG, SWEEP_RANKS (domains of the "
      "run config) and SWEEP_PENDING (indices not completed, comma-separated)");
  po::variables_map vm;
  if (!parse_options(argc, argv,
                     "usage: moecollab sweep-point --grid G (--index I | --info)\n"
                     "Shell assignments (eval \"$(moecollab sweep-point ...)\") for slurm/sweep.sbatch and "
                     "slurm/submit-sweep. Index I -> (lambda1, lambda2, seed), seed fastest.",
                     options, vm)) {
    return 0;
  }
  if (info == (vm.count("index") > 0)) throw Error("sweep-point: give exactly one of --index and --info");
  const auto grid = load_sweep_grid(grid_path);
  if (info) {
    const auto ranks = domains_of(grid);
    std::string pending;
    for (auto i : pending_points(grid)) pending += (pending.empty() ? "" : ",") + std::to_string(i);
    assign("SWEEP_SIZE", std::to_string(sweep_size(grid)));
    assign("SWEEP_DIR", grid.sweep_dir);
    assign("SWEEP_RUN_CONFIG", grid.run_config);
    assign("SWEEP_RANKS", std::to_string(ranks));
    assign("SWEEP_PENDING", pending);
    return 0;
  }
  if (index < 0) throw Error("sweep-point: --index must be >= 0");
  const auto point = sweep_point(grid, static_cast<std::size_t>(index));
  namespace fs = std::filesystem;
  const bool completed = fs::exists(run_dir::completed_marker_path(point.run_dir));
  const bool started = fs::is_directory(run_dir::checkpoints_dir(point.run_dir)) &&
                       !fs::is_empty(run_dir::checkpoints_dir(point.run_dir));
  assign("SWEEP_NAME", point.name);
  assign("SWEEP_LAMBDA1", point.lambda1.text);
  assign("SWEEP_LAMBDA2", point.lambda2.text);
  assign("SWEEP_SEED", std::to_string(point.seed));
  assign("SWEEP_RUN_DIR", point.run_dir);
  assign("SWEEP_RUN_CONFIG", grid.run_config);
  assign("SWEEP_STATE", completed ? "completed" : started ? "resume" : "new");
  return 0;
}

int sweep_summary_main(int argc, char** argv) {
  std::string grid_path, out;
  po::options_description options("sweep-summary");
  options.add_options()("grid", po::value(&grid_path)->required(), "the sweep grid file")(
      "out,o", po::value(&out), "directory for summary.csv and summary.h5 (default: the grid's sweep-dir)");
  po::variables_map vm;
  if (!parse_options(argc, argv,
                     "usage: moecollab sweep-summary --grid G [--out DIR]\n"
                     "Reads every run's log under the grid's sweep-dir; prints one row per run (and the mean over "
                     "seeds) and writes DIR/summary.csv and DIR/summary.h5.",
                     options, vm)) {
    return 0;
  }
  const auto grid = load_sweep_grid(grid_path);
  if (out.empty()) out = grid.sweep_dir;
  const auto summary = summarize_sweep(grid);
  std::filesystem::create_directories(out);
  const auto csv = (std::filesystem::path(out) / "summary.csv").string();
  const auto h5 = (std::filesystem::path(out) / "summary.h5").string();
  write_summary_csv(summary, csv);
  write_summary_hdf5(summary, h5);
  std::cout << format_summary_table(summary) << "\nwrote " << csv << " and " << h5 << std::endl;
  return 0;
}

}  // namespace moecollab::cli
