// Draws training batches from one domain's split: a fresh seeded shuffle per
// epoch, batches taken in order, so a run is reproducible from (seed, size)
// and its position is two numbers (epoch, cursor) that a checkpoint can hold.
#pragma once

#include <cstdint>
#include <vector>

namespace moecollab {

class BatchSampler {
 public:
  // REQUIRES: size > 0.
  BatchSampler(std::size_t size, std::uint64_t seed);

  // The next `batch` indices (fewer only when batch > size); wraps into a new
  // epoch, reshuffled, when the current one runs out.
  std::vector<std::size_t> next(std::size_t batch);

  std::uint64_t epoch() const { return epoch_; }
  std::size_t cursor() const { return cursor_; }
  // Resumes at a saved position.
  void seek(std::uint64_t epoch, std::size_t cursor);

 private:
  void shuffle_epoch();

  std::size_t size_;
  std::uint64_t seed_;
  std::uint64_t epoch_ = 0;
  std::size_t cursor_ = 0;
  std::vector<std::size_t> order_;
};

}  // namespace moecollab
