// Draws training batches from one domain's split: a fresh seeded shuffle per
// epoch, batches taken in order, so a run is reproducible from (seed, size)
// and its position is two numbers (epoch, cursor) that a checkpoint can hold.
// With length bucketing, each epoch's shuffled order is cut into windows of
// `batches_per_window` batches; each window is sorted by text length and its
// batches are put back in a seeded random order. A batch then holds texts of
// similar length (little padding: the bundled data's random batches are padded
// to about 2-3x their mean length), every row is still drawn once per epoch,
// and the position is still (epoch, cursor).
#pragma once

#include <cstdint>
#include <vector>

namespace moecollab {

struct LengthBucketing {
  std::size_t batch = 0;               // rows per batch the trainer draws
  std::size_t batches_per_window = 0;  // 0: off (plain shuffle)
  bool enabled() const { return batch > 0 && batches_per_window > 0; }
};

class BatchSampler {
 public:
  // REQUIRES: size > 0; with bucketing enabled, lengths.size() == size.
  BatchSampler(std::size_t size, std::uint64_t seed, std::vector<std::size_t> lengths = {},
               LengthBucketing bucketing = {});

  // The next `batch` indices (fewer only when batch > size); wraps into a new
  // epoch, reshuffled, when the current one runs out.
  std::vector<std::size_t> next(std::size_t batch);

  std::uint64_t epoch() const { return epoch_; }
  std::size_t cursor() const { return cursor_; }
  // Resumes at a saved position.
  void seek(std::uint64_t epoch, std::size_t cursor);

 private:
  void shuffle_epoch();
  void bucket_by_length(std::uint64_t salt);

  std::size_t size_;
  std::uint64_t seed_;
  std::vector<std::size_t> lengths_;
  LengthBucketing bucketing_;
  std::uint64_t epoch_ = 0;
  std::size_t cursor_ = 0;
  std::vector<std::size_t> order_;
};

}  // namespace moecollab
