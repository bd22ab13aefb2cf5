#include "moecollab/io/feature_store.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "moecollab/io/hdf5.h"
#include "moecollab/model/fingerprint.h"
#include "moecollab/util/error.h"
#include "moecollab/util/files.h"
#include "moecollab/util/hash.h"

namespace moecollab {
namespace {

namespace fs = std::filesystem;

constexpr run_dir::FileFormat kFeatureCache{"moecollab-feature-cache", 1, "feature cache"};
const char* const kSplitNames[] = {"train", "val", "test"};

// Everything about the encoder that changes a text's features.
std::string encoder_key(Encoder& encoder) {
  const auto& c = encoder->config();
  std::string text = "weights " + hex64(parameter_fingerprint(*encoder));
  for (const auto v : {c.vocab_size, c.hidden, c.layers, c.heads, c.intermediate, c.max_positions, c.type_vocab})
    text += " " + std::to_string(v);
  text += " eps " + std::to_string(c.layer_norm_eps) + " pooling " + c.pooling;
  return hex64(mix64(fnv1a(text)));
}

// Every split's token ids, in row order.
std::string data_key(const DomainShard& shard) {
  std::uint64_t h = kFnvOffset;
  for (const auto which : {Split::kTrain, Split::kVal, Split::kTest}) {
    const auto& encodings = shard.split(which).encodings;
    const std::uint64_t rows = encodings.size();
    h = fnv1a(&rows, sizeof rows, h);
    for (const auto& e : encodings) {
      const std::uint64_t n = e.ids.size();
      h = fnv1a(&n, sizeof n, h);
      h = fnv1a(e.ids.data(), e.ids.size() * sizeof(std::int64_t), h);
    }
  }
  return hex64(mix64(h));
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// Reads the three splits' features of `path`, checking that they are what `shard` needs.
void read_features(const std::string& path, const std::string& encoder, const std::string& data, DomainShard& shard,
                   std::int64_t hidden, torch::Tensor (&out)[3]) {
  const auto file = h5::open_file(path, h5::Mode::kRead);
  h5::require_format(file, path, kFeatureCache);
  for (const auto& [name, want] : {std::pair<const char*, std::string>{"encoder_key", encoder}, {"data_key", data}}) {
    const auto got = h5::read_string_attribute(file, name);
    if (got != want) throw Error("/@" + std::string(name) + " is " + got + ", expected " + want);
  }
  for (int i = 0; i < 3; ++i) {
    auto t = h5::read_tensor(file, kSplitNames[i]);
    const auto rows = static_cast<std::int64_t>(shard.split(static_cast<Split>(i)).encodings.size());
    if (t.scalar_type() != torch::kFloat32 || t.dim() != 2 || t.size(0) != rows || t.size(1) != hidden) {
      throw Error(std::string("/") + kSplitNames[i] + " is not float32 [" + std::to_string(rows) + ", " +
                  std::to_string(hidden) + "]");
    }
    if (!torch::isfinite(t).all().item<bool>()) throw Error(std::string("/") + kSplitNames[i] + " holds NaN or Inf");
    out[i] = t;
  }
}

// Writes the shard's features under a name of this process's own, then renames it over `path`.
void write_features(const std::string& path, const std::string& encoder, const std::string& data,
                    const DomainShard& shard) {
  fs::create_directories(fs::path(path).parent_path());
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  const std::string tmp = path + ".tmp-" + host + "-" + std::to_string(getpid());
  try {
    {
      const auto file = h5::open_file(tmp, h5::Mode::kCreate);
      h5::write_format(file, kFeatureCache);
      h5::write_attribute(file, "encoder_key", encoder);
      h5::write_attribute(file, "data_key", data);
      h5::write_attribute(file, "domain", shard.name);
      h5::write_attribute(file, "created", utc_timestamp());
      for (int i = 0; i < 3; ++i) h5::write_tensor(file, kSplitNames[i], shard.cache[i].contiguous());
    }
    commit_file(tmp, path);
  } catch (...) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw;
  }
}

std::string path_of(const std::string& dir, const std::string& encoder, const std::string& data) {
  return (fs::path(dir) / (encoder + "-" + data + ".h5")).string();
}

}  // namespace

std::string default_feature_cache_dir() {
  if (const auto dir = env("MOECOLLAB_FEATURE_CACHE"); !dir.empty()) return dir;
  if (const auto dir = env("XDG_CACHE_HOME"); !dir.empty()) return dir + "/moecollab/features";
  if (const auto dir = env("HOME"); !dir.empty()) return dir + "/.cache/moecollab/features";
  return "";
}

std::string feature_cache_path(const std::string& dir, Encoder& encoder, const DomainShard& shard) {
  return path_of(dir, encoder_key(encoder), data_key(shard));
}

void fill_feature_cache(DomainShard& shard, Encoder& encoder, const std::string& dir, const CacheProgressFn& progress) {
  shard.cache_source = {};
  if (dir.empty()) {
    shard.cache_features(encoder, kFeatureCacheChunk, progress);
    return;
  }
  const auto start = std::chrono::steady_clock::now();
  const auto enc = encoder_key(encoder), data = data_key(shard);
  auto& source = shard.cache_source;
  source.path = path_of(dir, enc, data);
  std::error_code missing;
  if (fs::exists(source.path, missing)) {
    torch::Tensor features[3];
    try {
      read_features(source.path, enc, data, shard, encoder->config().hidden, features);
      for (int i = 0; i < 3; ++i) shard.cache[i] = features[i];
      shard.cache_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      source.loaded = true;
      return;
    } catch (const std::exception& e) {
      source.warning =
          "feature cache " + source.path + " not used (" + e.what() + "): encoding again, and replacing it";
    }
  }
  shard.cache_features(encoder, kFeatureCacheChunk, progress);
  try {
    write_features(source.path, enc, data, shard);
  } catch (const std::exception& e) {
    source.warning += std::string(source.warning.empty() ? "" : "; ") + "feature cache " + source.path +
                      " not written (" + e.what() + "): the next run encodes again";
  }
}

}  // namespace moecollab
