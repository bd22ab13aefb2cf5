// The persistent feature cache (io/feature_store.h): a second run reads exactly
// the features the first encoded; another encoder, other texts or a damaged file
// are never read; writing is atomic.
#include "moecollab/io/feature_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include "moecollab/io/hdf5.h"
#include "moecollab/train/mixture.h"
#include "testing/fixture_domains.h"
#include "testing/temp.h"

namespace moecollab {
namespace {

namespace fs = std::filesystem;

struct Fixture {
  Domain domain = testing::topic_domain("news", 3, 60, 7);
  std::shared_ptr<const Tokenizer> tokenizer = testing::fixture_tokenizer({domain});
  TrainOptions options = [this] {
    auto o = testing::small_options();
    o.encoder.vocab_size = static_cast<std::int64_t>(tokenizer->vocabulary().size());
    return o;
  }();
  Encoder encoder = make_encoder(options);

  DomainShard shard() const { return DomainShard(domain, *tokenizer, options.max_length, 1); }
};

std::string fresh_dir(const std::string& name) {
  const auto dir = testing::temp_path("feature_store", name);
  fs::remove_all(dir);
  return dir;
}

TEST(FeatureStore, SecondRunReadsTheFeaturesTheFirstEncoded) {
  Fixture f;
  const auto dir = fresh_dir("reuse");
  auto first = f.shard();
  fill_feature_cache(first, f.encoder, dir);
  EXPECT_FALSE(first.cache_source.loaded);
  EXPECT_TRUE(first.cache_source.warning.empty()) << first.cache_source.warning;
  ASSERT_TRUE(fs::exists(first.cache_source.path));
  EXPECT_EQ(first.cache_source.path, feature_cache_path(dir, f.encoder, first));

  auto second = f.shard();
  fill_feature_cache(second, f.encoder, dir);
  EXPECT_TRUE(second.cache_source.loaded);
  EXPECT_EQ(second.cache_source.path, first.cache_source.path);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(torch::equal(first.cache[i], second.cache[i])) << "split " << i;

  // And what it read is what encoding now gives.
  auto encoded = f.shard();
  encoded.cache_features(f.encoder, kFeatureCacheChunk);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(torch::allclose(encoded.cache[i], second.cache[i], 1e-5, 1e-6));
  // No temporary file is left behind.
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    ++files;
    EXPECT_EQ(e.path().extension(), ".h5") << e.path();
  }
  EXPECT_EQ(files, 1u);
}

TEST(FeatureStore, AnotherEncoderOrOtherTextsGetTheirOwnFile) {
  Fixture f;
  const auto dir = fresh_dir("keys");
  const auto shard = f.shard();
  const auto base = feature_cache_path(dir, f.encoder, shard);

  auto other_seed = f.options;
  other_seed.encoder.seed += 1;
  auto seeded = make_encoder(other_seed);
  EXPECT_NE(feature_cache_path(dir, seeded, shard), base);

  auto mean_to_cls = f.options;  // same weights, another pooling
  mean_to_cls.encoder.pooling = "cls";
  auto pooled = make_encoder(mean_to_cls);
  EXPECT_NE(feature_cache_path(dir, pooled, shard), base);

  auto heads = f.options;  // same parameter shapes, another computation
  heads.encoder.heads = 4;
  auto more_heads = make_encoder(heads);
  EXPECT_NE(feature_cache_path(dir, more_heads, shard), base);

  auto edited = f.domain;
  edited.test.back().text += " and more";
  EXPECT_NE(feature_cache_path(dir, f.encoder, DomainShard(edited, *f.tokenizer, f.options.max_length, 1)), base);
  // Truncation shows in the token ids too.
  EXPECT_NE(feature_cache_path(dir, f.encoder, DomainShard(f.domain, *f.tokenizer, 8, 1)), base);
  // The sampler's seed does not change a text's features.
  EXPECT_EQ(feature_cache_path(dir, f.encoder, DomainShard(f.domain, *f.tokenizer, f.options.max_length, 99)), base);
}

TEST(FeatureStore, DamagedOrForeignFileIsReportedAndReplaced) {
  Fixture f;
  const auto dir = fresh_dir("damaged");
  auto first = f.shard();
  fill_feature_cache(first, f.encoder, dir);
  const auto path = first.cache_source.path;

  {  // truncated: not an HDF5 file any more
    std::ofstream(path, std::ios::binary | std::ios::trunc) << "not hdf5";
  }
  auto second = f.shard();
  fill_feature_cache(second, f.encoder, dir);
  EXPECT_FALSE(second.cache_source.loaded);
  EXPECT_NE(second.cache_source.warning.find(path), std::string::npos) << second.cache_source.warning;
  EXPECT_NE(second.cache_source.warning.find("encoding again"), std::string::npos) << second.cache_source.warning;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(torch::equal(first.cache[i], second.cache[i]));

  // Replaced by a good one, which the next run reads.
  auto third = f.shard();
  fill_feature_cache(third, f.encoder, dir);
  EXPECT_TRUE(third.cache_source.loaded) << third.cache_source.warning;

  // A file whose rows do not match the shard (another shard's file copied under this name).
  {
    const auto file = h5::open_file(path, h5::Mode::kWrite);
    h5::write_attribute(file, "data_key", std::string("0000000000000000"));
  }
  auto fourth = f.shard();
  fill_feature_cache(fourth, f.encoder, dir);
  EXPECT_FALSE(fourth.cache_source.loaded);
  EXPECT_NE(fourth.cache_source.warning.find("data_key"), std::string::npos) << fourth.cache_source.warning;
}

TEST(FeatureStore, UnwritableDirectoryIsAWarningNotAFailure) {
  Fixture f;
  const auto blocker = fresh_dir("blocked");
  std::ofstream(blocker) << "a file where the directory should be";
  auto shard = f.shard();
  fill_feature_cache(shard, f.encoder, blocker + "/features");
  EXPECT_FALSE(shard.cache_source.loaded);
  EXPECT_TRUE(shard.cached());
  EXPECT_NE(shard.cache_source.warning.find("not written"), std::string::npos) << shard.cache_source.warning;
}

TEST(FeatureStore, DefaultDirectoryFollowsTheEnvironment) {
  std::map<std::string, std::optional<std::string>> saved;
  for (const char* name : {"MOECOLLAB_FEATURE_CACHE", "XDG_CACHE_HOME", "HOME"}) {
    const char* v = std::getenv(name);
    saved[name] = v ? std::optional<std::string>(v) : std::nullopt;
  }
  setenv("MOECOLLAB_FEATURE_CACHE", "/scratch/features", 1);
  setenv("XDG_CACHE_HOME", "/xdg", 1);
  EXPECT_EQ(default_feature_cache_dir(), "/scratch/features");
  unsetenv("MOECOLLAB_FEATURE_CACHE");
  EXPECT_EQ(default_feature_cache_dir(), "/xdg/moecollab/features");
  unsetenv("XDG_CACHE_HOME");
  setenv("HOME", "/home/me", 1);
  EXPECT_EQ(default_feature_cache_dir(), "/home/me/.cache/moecollab/features");
  for (const auto& [name, value] : saved) {
    if (value)
      setenv(name.c_str(), value->c_str(), 1);
    else
      unsetenv(name.c_str());
  }
}

}  // namespace
}  // namespace moecollab
