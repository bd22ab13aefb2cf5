// Communicator: the collective operations a federated round needs, on torch
// tensors, behind one interface so the trainer does not care which backend
// (MPI on CPUs, NCCL on GPUs) moves the bytes. Every rank must call the same
// operations in the same order (they are collectives). Each call's bytes sent
// and wall time are counted per operation for the progress line and logs.
#pragma once

#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace moecollab {

struct CommOpStats {
  std::uint64_t calls = 0;
  std::uint64_t bytes_sent = 0;  // payload this rank sent (see docs for each op's formula)
  double seconds = 0;
};

struct CommStats {
  std::map<std::string, CommOpStats> ops;
  std::uint64_t bytes_sent() const;
  double seconds() const;
};

// Counts one operation's call, bytes and wall time into `stats` over its scope.
class OpTimer {
 public:
  OpTimer(CommStats& stats, const char* name, std::uint64_t bytes_sent);
  ~OpTimer();
  OpTimer(const OpTimer&) = delete;
  OpTimer& operator=(const OpTimer&) = delete;

 private:
  CommOpStats& op_;
  std::chrono::steady_clock::time_point start_;
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string backend() const = 0;
  // Whether this transport hides each rank's part of a floating-point sum
  // (secure aggregation): then nothing else may tell a rank's part, such as
  // which rows of a gradient it left zero (allreduce_gradients' row_sparse).
  virtual bool hides_contributions() const { return false; }

  // In place: every rank ends with the elementwise sum (or max) over ranks.
  // REQUIRES: same shape and dtype on every rank; contiguous.
  virtual void allreduce_sum(torch::Tensor& tensor) = 0;
  virtual void allreduce_max(torch::Tensor& tensor) = 0;
  // Every rank's rows concatenated in rank order; rows may differ by rank,
  // trailing dimensions may not. `counts`, when given, receives rows per rank.
  virtual torch::Tensor allgather_rows(const torch::Tensor& local, std::vector<std::int64_t>* counts = nullptr) = 0;
  // send[r] goes to rank r; returns recv with recv[r] from rank r. Row counts may differ.
  // REQUIRES: send.size() == size(); every tensor has the same dtype and trailing shape.
  virtual std::vector<torch::Tensor> alltoall_rows(const std::vector<torch::Tensor>& send) = 0;
  virtual void broadcast(torch::Tensor& tensor, int root) = 0;
  virtual void barrier() = 0;

  // Every rank's string, in rank order (for start-up checks and error reports).
  std::vector<std::string> allgather_strings(const std::string& local);

  CommStats& stats() { return stats_; }
  const CommStats& stats() const { return stats_; }

 protected:
  CommStats stats_;
};

}  // namespace moecollab
