#include "moecollab/data/sampler.h"

#include <algorithm>
#include <numeric>
#include <random>

#include "moecollab/util/error.h"

namespace moecollab {

BatchSampler::BatchSampler(std::size_t size, std::uint64_t seed) : size_(size), seed_(seed), order_(size) {
  if (size == 0) throw Error("sampler: the split is empty");
  shuffle_epoch();
}

void BatchSampler::shuffle_epoch() {
  std::iota(order_.begin(), order_.end(), std::size_t{0});
  // mt19937_64 and a hand-written Fisher-Yates: std::shuffle's use of the
  // engine is implementation-defined, this is the same on every platform.
  std::mt19937_64 rng(seed_ * 0x9E3779B97F4A7C15ULL + epoch_);
  for (std::size_t i = size_; i > 1; --i) std::swap(order_[i - 1], order_[rng() % i]);
}

std::vector<std::size_t> BatchSampler::next(std::size_t batch) {
  batch = std::min(batch, size_);
  std::vector<std::size_t> out;
  out.reserve(batch);
  while (out.size() < batch) {
    if (cursor_ == size_) {
      ++epoch_;
      cursor_ = 0;
      shuffle_epoch();
    }
    out.push_back(order_[cursor_++]);
  }
  return out;
}

void BatchSampler::seek(std::uint64_t epoch, std::size_t cursor) {
  if (cursor > size_) throw Error("sampler: cursor beyond the split");
  epoch_ = epoch;
  cursor_ = cursor;
  shuffle_epoch();
}

}  // namespace moecollab
