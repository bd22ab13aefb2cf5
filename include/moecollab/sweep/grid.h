// A λ1 × λ2 × seed sweep: the grid file (INI) that slurm/sweep.sbatch and
// `moecollab sweep-summary` read, and the mapping from a job-array index to
// one point of the grid and the run directory it writes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace moecollab {

// One grid value: the text as written in the grid file (used in run names and
// passed to --lambda1/--lambda2 verbatim) and its number.
struct GridValue {
  std::string text;
  double value = 0;
};

struct SweepGrid {
  std::string path;                 // the grid file
  std::vector<GridValue> lambda1;   // --lambda1 values
  std::vector<GridValue> lambda2;   // --lambda2 values
  std::vector<std::int64_t> seeds;  // --seed values
  std::string run_config;           // `moecollab train` config every run uses
  std::string sweep_dir;            // runs go to sweep_dir/<run name>/
};

// Reads a grid file: keys lambda1, lambda2, seeds (values separated by spaces
// or commas), run-config, sweep-dir. Throws Error naming the file and key on
// an unknown key, a missing key, an empty list, a value that is not a finite
// number >= 0 (λ) or an integer (seed), or a repeated value.
SweepGrid load_sweep_grid(const std::string& path);

// Number of runs: |λ1| · |λ2| · |seeds|.
std::size_t sweep_size(const SweepGrid& grid);

struct SweepPoint {
  std::size_t index = 0;  // the job-array index
  GridValue lambda1, lambda2;
  std::int64_t seed = 0;
  std::string name;     // "lambda1-<t>_lambda2-<t>_seed-<s>"
  std::string run_dir;  // sweep_dir/name
};

// Index → point, row-major with the seed fastest:
// index = (i1 · |λ2| + i2) · |seeds| + i_seed. Throws Error when index >= sweep_size.
SweepPoint sweep_point(const SweepGrid& grid, std::size_t index);

// Indices whose run directory has no completion marker (io/run_dir.h), ascending.
std::vector<std::size_t> pending_points(const SweepGrid& grid);

}  // namespace moecollab
