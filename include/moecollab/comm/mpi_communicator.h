// The MPI backend of Communicator (CPU tensors), what CI and CPU clusters
// use. It owns MPI's lifetime for the process: the first instance
// initialises MPI (if nobody has), and finalises it at exit. How a rank
// waits inside a gradient all-reduce depends on the node: with a core per
// rank it blocks in MPI as usual (busy polling, the lowest latency); with more
// ranks than cores (mpirun --oversubscribe) an all-reduce of at least
// kSleepingWaitBytes starts MPI_Iallreduce and polls it, yielding for the first
// millisecond and then sleeping between polls, so that a rank kept waiting for a
// peer's longer batch leaves its core to the ranks still computing
// (docs/performance.md). Smaller collectives always block (their latency is what
// counts, and MPI's own yield covers them). MOECOLLAB_MPI_WAIT=busy|sleep|auto
// overrides the choice.
#pragma once

#include <mpi.h>

#include "moecollab/comm/communicator.h"

namespace moecollab {

class MpiCommunicator : public Communicator {
 public:
  // All-reduces from this size on wait sleeping on an oversubscribed node (the same
  // on every rank: an all-reduce has one count everywhere).
  static constexpr std::size_t kSleepingWaitBytes = 64 * 1024;

  // REQUIRES: argc/argv as main received them (MPI may read them).
  MpiCommunicator(int* argc, char*** argv);
  ~MpiCommunicator() override;
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return "mpi"; }
  // Ranks on this node (from MPI_COMM_TYPE_SHARED) and this rank's index among them.
  int local_rank() const { return local_rank_; }
  int local_size() const { return local_size_; }
  // CPUs the node's ranks may run on together (the union of their affinity masks).
  int node_cpus() const { return node_cpus_; }
  // Whether large all-reduces wait by sleeping (see above).
  bool sleeps_while_waiting() const { return sleep_while_waiting_; }

  void allreduce_sum(torch::Tensor& tensor) override;
  void allreduce_max(torch::Tensor& tensor) override;
  torch::Tensor allgather_rows(const torch::Tensor& local, std::vector<std::int64_t>* counts = nullptr) override;
  std::vector<torch::Tensor> alltoall_rows(const std::vector<torch::Tensor>& send) override;
  void broadcast(torch::Tensor& tensor, int root) override;
  void barrier() override;

  // Ends every rank of the job with `code` (for errors after start-up checks).
  [[noreturn]] void abort(int code) const;

 private:
  void allreduce(torch::Tensor& tensor, MPI_Op op, const char* name);

  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1, node_cpus_ = 1;
  bool owns_mpi_ = false, sleep_while_waiting_ = false;
};

}  // namespace moecollab
