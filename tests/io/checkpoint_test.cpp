#include "moecollab/io/checkpoint.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "moecollab/io/hdf5.h"
#include "moecollab/io/run_dir.h"
#include "moecollab/train/local_trainer.h"
#include "moecollab/util/error.h"
#include "testing/errors.h"
#include "testing/fixture_domains.h"

namespace moecollab {

using testing::error_of;
namespace fs = std::filesystem;

namespace {

std::string temp_dir(const std::string& name) {
  const auto dir = fs::temp_directory_path() / "moecollab_checkpoint_test" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

std::vector<Domain> domains() {
  return {testing::topic_domain("animals", 3, 120, 1), testing::topic_domain("weather", 2, 90, 2),
          testing::topic_domain("food", 5, 100, 3)};
}

TrainOptions options() {
  auto o = testing::small_options();
  o.local_steps = 7;
  o.gate_steps = 5;
  return o;
}

CheckpointInfo info() { return {"e0", "v0", {{"rounds", "4"}}}; }
// info() with the model `trainer` trains, as the training commands record it.
CheckpointInfo info(const LocalTrainer& trainer) {
  auto i = info();
  i.model = trainer.model_config();
  return i;
}

void expect_same_state(const TrainerState& a, const TrainerState& b) {
  EXPECT_EQ(a.round, b.round);
  ASSERT_EQ(a.experts.size(), b.experts.size());
  auto same = [](const NamedTensors& x, const NamedTensors& y, const std::string& what) {
    ASSERT_EQ(x.size(), y.size()) << what;
    for (const auto& [name, t] : x) {
      ASSERT_TRUE(y.count(name)) << what << " " << name;
      EXPECT_TRUE(torch::equal(t, y.at(name))) << what << " " << name << " differs";  // bit-identical
    }
  };
  same(a.gate, b.gate, "gate");
  for (std::size_t i = 0; i < a.experts.size(); ++i) {
    same(a.experts[i].tensors, b.experts[i].tensors, "expert " + std::to_string(i));
    EXPECT_EQ(a.experts[i].sampler_epoch, b.experts[i].sampler_epoch);
    EXPECT_EQ(a.experts[i].sampler_cursor, b.experts[i].sampler_cursor);
  }
}

}  // namespace

TEST(Checkpoint, ResumeContinuesExactlyAsTheUninterruptedRun) {
  const auto data = domains();
  const auto tokenizer = testing::fixture_tokenizer(data);
  LocalTrainer straight(options(), data, tokenizer);
  for (int r = 0; r < 4; ++r) straight.run_round();

  const auto dir = temp_dir("resume");
  {
    LocalTrainer first(options(), data, tokenizer);
    first.run_round();
    first.run_round();
    save_checkpoint(run_dir::checkpoint_path(dir, 2), {first.export_state(), info(first)});
  }
  LocalTrainer resumed(options(), data, tokenizer);
  const auto loaded = load_checkpoint(latest_checkpoint(dir));
  EXPECT_EQ(loaded.state.round, 2);
  EXPECT_EQ(loaded.info.config.at("rounds"), "4");
  resumed.import_state(loaded.state);
  EXPECT_EQ(resumed.rounds_done(), 2);
  resumed.run_round();
  resumed.run_round();
  expect_same_state(straight.export_state(), resumed.export_state());
}

TEST(Checkpoint, RefusesWhatDiffers) {
  const auto data = domains();
  const auto tokenizer = testing::fixture_tokenizer(data);
  LocalTrainer trainer(options(), data, tokenizer);
  trainer.run_round();
  const auto dir = temp_dir("refuse");
  const auto path = run_dir::checkpoint_path(dir, 1);
  save_checkpoint(path, {trainer.export_state(), info(trainer)});
  const auto c = load_checkpoint(path);
  const std::vector<std::string> names = {"animals", "weather", "food"};
  std::vector<std::vector<std::string>> labels;
  for (const auto& d : data) labels.push_back(d.labels.names);
  EXPECT_NO_THROW(check_compatible(c, path, info(), names, labels));
  auto expect = [&](const std::string& fragment, const CheckpointInfo& run, const std::vector<std::string>& n,
                    const std::vector<std::vector<std::string>>& l) {
    const auto msg = error_of([&] { check_compatible(c, path, run, n, l); });
    EXPECT_NE(msg.find(path + ": incompatible checkpoint: " + fragment), std::string::npos) << msg;
  };
  expect("encoder fingerprint e0 != this run's e1", {"e1", "v0", {}}, names, labels);
  expect("vocabulary fingerprint v0 != this run's v9", {"e0", "v9", {}}, names, labels);
  expect("3 experts, this run has 2 domains", info(), {"animals", "weather"}, {labels[0], labels[1]});
  expect("expert 1 is domain 'weather', this run has 'sports'", info(), {"animals", "sports", "food"}, labels);
  auto other = labels;
  other[2].push_back("extra");
  expect("expert 2 ('food') has 5 labels that differ from this run's 6", info(), names, other);

  // Format checks: another version, or not a checkpoint at all.
  {
    auto file = h5::open_file(path, h5::Mode::kWrite);
    h5::write_attribute(file, "format_version", std::int64_t{99});
  }
  EXPECT_NE(error_of([&] { load_checkpoint(path); }).find("checkpoint format version 99, this build reads version 2"),
            std::string::npos);
  const auto not_ckpt = dir + "/other.h5";
  { auto file = h5::open_file(not_ckpt, h5::Mode::kCreate); }
  EXPECT_NE(error_of([&] { load_checkpoint(not_ckpt); }).find("not a MoECollab checkpoint"), std::string::npos);
}

// Where the encoder and vocabulary were: absolute as given, and relative to the
// checkpoint, resolved against wherever the checkpoint is read from.
TEST(Checkpoint, RecordsWhereTheEncoderAndVocabularyAre) {
  const auto data = domains();
  LocalTrainer trainer(options(), data, testing::fixture_tokenizer(data));
  const auto site = fs::path(temp_dir("paths"));
  auto run_info = info(trainer);
  run_info.encoder = "hf:" + (site / "encoder").string();
  run_info.vocabulary = (site / "encoder" / "vocab.txt").string();
  save_checkpoint((site / "run" / "checkpoints" / "round-000001.h5").string(), {trainer.export_state(), run_info});
  const auto moved = fs::path(temp_dir("paths-moved"));
  fs::remove_all(moved);
  fs::rename(site, moved);
  const auto c = load_checkpoint((moved / "run" / "checkpoints" / "round-000001.h5").string());
  EXPECT_EQ(c.info.encoder, run_info.encoder);
  EXPECT_EQ(c.info.vocabulary, run_info.vocabulary);
  EXPECT_EQ(c.info.encoder_relative, "hf:" + (moved / "encoder").string());
  EXPECT_EQ(c.info.vocabulary_relative, (moved / "encoder" / "vocab.txt").string());
  // An encoder mismatch says which encoder the checkpoint was trained with, and how to select it.
  CheckpointInfo random_run{"e1", "v0", {}};
  random_run.encoder = "random";
  const auto msg = error_of([&] { check_compatible(c, "ckpt", random_run, {}, {}); });
  EXPECT_NE(msg.find("this run's encoder: random); the checkpoint was trained with encoder " + run_info.encoder +
                     ", fingerprint e0 (select it with --encoder " + run_info.encoder + ")"),
            std::string::npos)
      << msg;
}

// The model a checkpoint describes (/model) reads back field for field, typed, so
// that predict and integrate build it from the file alone.
TEST(Checkpoint, StoresTheModelItDescribes) {
  const auto data = domains();
  auto o = options();
  o.routing.top_k = 2;
  o.adapter = 6;
  o.expert_lora.rank = 2;
  o.max_length = 24;
  o.encoder.seed = 18446744073709551557ULL;  // above 2^63: stored in an int64 attribute, read back exactly
  LocalTrainer trainer(o, data, testing::fixture_tokenizer(data));
  const auto written = trainer.model_config();
  EXPECT_EQ(written.domains, (std::vector<std::string>{"animals", "weather", "food"}));
  EXPECT_EQ(written.label_counts, (std::vector<std::int64_t>{3, 2, 5}));
  const auto dir = temp_dir("model");
  const auto path = run_dir::checkpoint_path(dir, 1);
  save_checkpoint(path, {trainer.export_state(), info(trainer)});
  const auto read = load_checkpoint(path).info.model;
  EXPECT_EQ(field_texts(read), field_texts(written));
  EXPECT_EQ(read.routing.top_k, 2);
  EXPECT_EQ(read.adapter, 6);
  EXPECT_EQ(read.expert_lora.rank, 2);
  EXPECT_EQ(read.max_length, 24);
  EXPECT_EQ(read.encoder.seed, 18446744073709551557ULL);
  EXPECT_EQ(read.encoder.vocab_size, trainer.encoder()->config().vocab_size);
  EXPECT_TRUE(differences(read, written, "a", "b").empty());
  auto other = written;
  other.adapter = 8;
  EXPECT_EQ(differences(other, written, "here", "there"), (std::vector<std::string>{"adapter: 8 in here, 6 in there"}));
  EXPECT_TRUE(differences(other, written, "here", "there", {"routing"}).empty());

  // A missing field, a field of the wrong shape, or a /model that is not the file's experts: refused, naming both.
  {
    auto file = h5::open_file(path, h5::Mode::kWrite);
    auto model = h5::open_group(file, "model");
    h5::write_attribute(model, "label_counts", std::vector<std::int64_t>{3, 2, 4});
  }
  EXPECT_NE(error_of([&] { load_checkpoint(path); }).find(path + ": /model describes 3 experts"), std::string::npos);
  {
    auto file = h5::open_file(path, h5::Mode::kWrite);
    auto model = h5::open_group(file, "model");
    h5::write_attribute(model, "adapter", std::vector<std::int64_t>{6, 6});
  }
  EXPECT_NE(error_of([&] { load_checkpoint(path); }).find(path + ": /model@adapter: "), std::string::npos);
  {
    auto file = h5::open_file(path, h5::Mode::kWrite);
    auto model = h5::open_group(file, "model");
    h5::write_attribute(model, "adapter", std::int64_t{6});
    H5Adelete(model.id(), "routing.top_k");
  }
  EXPECT_NE(error_of([&] { load_checkpoint(path); }).find(path + ": /model has no attribute 'routing.top_k'"),
            std::string::npos);
}

TEST(Checkpoint, KillDuringWriteLeavesThePreviousCheckpointLoadable) {
  const auto data = domains();
  const auto tokenizer = testing::fixture_tokenizer(data);
  LocalTrainer trainer(options(), data, tokenizer);
  trainer.run_round();
  const Checkpoint checkpoint{trainer.export_state(), info(trainer)};
  const auto dir = temp_dir("atomic");
  const auto path = run_dir::checkpoint_path(dir, 1);
  save_checkpoint(path, checkpoint);
  for (int attempt = 0; attempt < 5; ++attempt) {
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      for (;;) save_checkpoint(path, checkpoint);  // rewrite it until killed
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + 15 * attempt));
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    const auto loaded = load_checkpoint(path);  // never a half-written file
    expect_same_state(loaded.state, checkpoint.state);
  }
}

TEST(Checkpoint, KeepsTheNewestAndFindsTheLatest) {
  const auto dir = temp_dir("prune");
  EXPECT_NE(error_of([&] { latest_checkpoint(dir); }).find("no checkpoint"), std::string::npos);
  Checkpoint c;
  c.info = info();
  for (int r : {1, 2, 10, 3}) {
    c.state.round = r;
    save_checkpoint(run_dir::checkpoint_path(dir, r), c);
  }
  EXPECT_EQ(latest_checkpoint(dir), run_dir::checkpoint_path(dir, 10));
  prune_checkpoints(dir, 2);
  EXPECT_FALSE(fs::exists(run_dir::checkpoint_path(dir, 2)));
  EXPECT_TRUE(fs::exists(run_dir::checkpoint_path(dir, 3)));
  EXPECT_TRUE(fs::exists(run_dir::checkpoint_path(dir, 10)));
}

}  // namespace moecollab
