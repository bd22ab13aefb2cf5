// The round loop both training commands run, with what a run leaves behind:
// resuming from a checkpoint, the HDF5 run log (rank 0) and checkpoints every
// N rounds and at the end (gathered collectively, written by rank 0).
#pragma once

#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>

#include "moecollab/io/checkpoint.h"
#include "moecollab/io/run_dir.h"
#include "moecollab/io/run_log.h"
#include "moecollab/util/error.h"
#include "printing.h"
#include "run_options.h"

namespace moecollab::cli {

struct RunContext {
  bool root = true;  // prints, and writes the log and checkpoints
  // Runs a step that may fail on some ranks so that all fail together (identity in one process).
  std::function<void(const std::function<void()>&)> on_every_rank = [](const std::function<void()>& f) { f(); };
  CheckpointInfo info;
  RunLogHeader header;
  double feature_cache_seconds = 0;  // for final.json: all domains' in one process, rank 0's in a federated run
};

// The context both training commands start from: what checkpoints record of the
// run (run_info: the trainer's model) and the run log's header.
template <typename Trainer>
RunContext run_context(const RunOptions& run, const Trainer& trainer, std::int64_t world_size,
                       std::vector<std::vector<std::string>> labels, const std::string& encoder_fingerprint,
                       const std::string& vocabulary_fingerprint, const po::variables_map& vm) {
  RunContext context;
  context.info = run_info(run, trainer.model_config(), encoder_fingerprint, vocabulary_fingerprint, vm);
  auto& h = context.header;
  h.config = context.info.config;
  h.git_revision = git_revision();
  h.world_size = world_size;
  h.seed = static_cast<std::int64_t>(run.train.seed);
  h.encoder_fingerprint = encoder_fingerprint;
  h.vocabulary_fingerprint = vocabulary_fingerprint;
  h.domains = context.info.model.domains;
  h.labels = std::move(labels);
  h.routing_samples = run.train.log_routing;
  return context;
}

template <typename Trainer>
void run_training(Trainer& trainer, const RunOptions& run, RunContext context) {
  namespace fs = std::filesystem;
  const auto& a = run.artifacts;
  const std::string checkpoints = a.run_dir.empty() ? "" : run_dir::checkpoints_dir(a.run_dir);
  if (!a.resume.empty()) {
    context.on_every_rank([&] {
      if (a.resume == "latest" && checkpoints.empty()) throw Error("--resume latest needs --run-dir");
      const auto path = a.resume == "latest" ? latest_checkpoint(checkpoints) : a.resume;
      const auto checkpoint = load_checkpoint(path);
      check_compatible(checkpoint, path, context.info, context.header.domains, context.header.labels);
      // Runs never mix in one checkpoints/: resuming elsewhere into a run directory that holds
      // another run's checkpoints is refused too.
      if (a.resume != "latest" && !checkpoints.empty() && has_checkpoints(checkpoints)) {
        const auto here = latest_checkpoint(checkpoints);
        try {
          check_compatible(load_checkpoint(here), here, context.info, context.header.domains, context.header.labels);
        } catch (const Error& e) {
          throw Error(std::string(e.what()) + "\n  --run-dir " + a.run_dir +
                      " holds another run's checkpoints; resume "
                      "into a run directory of its own, or add --overwrite to clear it first");
        }
      }
      try {
        trainer.import_state(checkpoint.state);
      } catch (const Error& e) {
        throw Error(path + ": " + e.what());
      }
      if (context.root) std::cout << "resumed from " << path << " at round " << checkpoint.state.round << std::endl;
    });
  }
  std::unique_ptr<RunLog> log;
  if (!a.run_dir.empty()) {
    context.on_every_rank([&] {
      fs::create_directories(checkpoints);
      if (!context.root) return;
      // A resumed run starts a log of its own, so the first run's log stays whole.
      log = std::make_unique<RunLog>(run_dir::log_path(a.run_dir, trainer.rounds_done() + 1), context.header);
    });
  }
  for (int r = trainer.rounds_done(); r < run.train.rounds; ++r) {
    const auto report = trainer.run_round();
    if (context.root) {
      std::cout << format_round(report) << std::endl;
      if (log) log->append(report);
    }
    const bool last = r + 1 == run.train.rounds;
    if (!checkpoints.empty() && (last || (a.checkpoint_every > 0 && (r + 1) % a.checkpoint_every == 0))) {
      Checkpoint checkpoint{trainer.export_state(), context.info};  // collective
      if (context.root) {
        const auto path = run_dir::checkpoint_path(checkpoints, checkpoint.state.round);
        save_checkpoint(path, checkpoint);
        prune_checkpoints(checkpoints, a.keep_checkpoints);
      }
    }
  }
  const auto final_reports = trainer.evaluate(run.test ? Split::kTest : Split::kVal);
  if (context.root) {
    print_final(final_reports, run.test);
    if (!a.run_dir.empty()) {
      write_final_json(run_dir::final_json_path(a.run_dir), final_reports, run.test, run.train.rounds,
                       context.feature_cache_seconds);
    }
  }
}

}  // namespace moecollab::cli
