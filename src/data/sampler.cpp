#include "moecollab/data/sampler.h"

#include <algorithm>
#include <numeric>
#include <random>
#include <string>

#include "moecollab/util/error.h"

namespace moecollab {

namespace {

// A seeded Fisher-Yates over [first, last): std::shuffle's use of the engine is
// implementation-defined, this is the same on every platform.
template <typename It>
void seeded_shuffle(It first, It last, std::mt19937_64& rng) {
  for (auto n = static_cast<std::size_t>(last - first); n > 1; --n) {
    std::swap(first[static_cast<std::ptrdiff_t>(n - 1)], first[static_cast<std::ptrdiff_t>(rng() % n)]);
  }
}

}  // namespace

BatchSampler::BatchSampler(std::size_t size, std::uint64_t seed, std::vector<std::size_t> lengths,
                           LengthBucketing bucketing)
    : size_(size), seed_(seed), lengths_(std::move(lengths)), bucketing_(bucketing), order_(size) {
  if (size == 0) throw Error("sampler: the split is empty");
  if (bucketing_.enabled() && lengths_.size() != size_) {
    throw Error("sampler: length bucketing needs one length per row (" + std::to_string(lengths_.size()) + " for " +
                std::to_string(size_) + " rows)");
  }
  shuffle_epoch();
}

void BatchSampler::shuffle_epoch() {
  std::iota(order_.begin(), order_.end(), std::size_t{0});
  // mt19937_64 and a hand-written Fisher-Yates: std::shuffle's use of the
  // engine is implementation-defined, this is the same on every platform.
  std::mt19937_64 rng(seed_ * 0x9E3779B97F4A7C15ULL + epoch_);
  seeded_shuffle(order_.begin(), order_.end(), rng);
  if (bucketing_.enabled()) bucket_by_length(rng());
}

void BatchSampler::bucket_by_length(std::uint64_t salt) {
  std::mt19937_64 rng(salt);
  const std::size_t batch = bucketing_.batch;
  const std::size_t window = batch * bucketing_.batches_per_window;
  // The trainer draws `batch` rows at a time across epochs, so the first
  // `head` rows of this epoch complete a batch the previous epoch started:
  // windows begin after them, aligned with the batches really drawn.
  const std::size_t head = static_cast<std::size_t>((batch - (epoch_ * size_) % batch) % batch);
  std::vector<std::size_t> sorted;
  std::vector<std::size_t> starts = {0};
  for (std::size_t start = std::min(head, size_); start < size_; start += window) starts.push_back(start);
  for (std::size_t w = 0; w < starts.size(); ++w) {
    const auto first = order_.begin() + static_cast<std::ptrdiff_t>(starts[w]);
    const auto last = order_.begin() + static_cast<std::ptrdiff_t>(w + 1 < starts.size() ? starts[w + 1] : size_);
    if (first == last) continue;
    // Stable: rows of equal length keep the shuffled order, so the result is a
    // function of (seed, epoch) alone.
    std::stable_sort(first, last, [&](std::size_t a, std::size_t b) { return lengths_[a] < lengths_[b]; });
    // Full batches in a random order; a short one (the epoch's end) stays last,
    // so the batches drawn stay aligned with the sorted runs.
    const auto rows = static_cast<std::size_t>(last - first);
    std::vector<std::size_t> batches((rows + batch - 1) / batch);
    std::iota(batches.begin(), batches.end(), std::size_t{0});
    seeded_shuffle(batches.begin(), batches.begin() + static_cast<std::ptrdiff_t>(rows / batch), rng);
    sorted.clear();
    for (auto b : batches) {
      const auto from = first + static_cast<std::ptrdiff_t>(b * batch);
      sorted.insert(sorted.end(), from, std::min(last, from + static_cast<std::ptrdiff_t>(batch)));
    }
    std::copy(sorted.begin(), sorted.end(), first);
  }
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
