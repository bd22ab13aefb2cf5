// The NCCL backend of Communicator: collectives between GPUs, one GPU per
// rank (NCCL refuses two ranks on one GPU). Bootstrapped over MPI (rank 0's
// ncclUniqueId is broadcast), and MPI still exchanges the small row counts
// of the variable-size operations. CUDA tensors are used in place; CPU
// tensors (Debian's libtorch is CPU-only) are staged through a device buffer.
// Built only where CMake finds CUDA and NCCL (MOECOLLAB_NCCL).
#pragma once

#include <memory>

#include "moecollab/comm/mpi_communicator.h"

namespace moecollab {

class NcclCommunicator : public Communicator {
 public:
  // Collective over `mpi`'s ranks. REQUIRES: this rank has GPU `device`.
  NcclCommunicator(MpiCommunicator& mpi, int device);
  ~NcclCommunicator() override;

  int rank() const override { return mpi_.rank(); }
  int size() const override { return mpi_.size(); }
  std::string backend() const override { return "nccl"; }

  void allreduce_sum(torch::Tensor& tensor) override;
  void allreduce_max(torch::Tensor& tensor) override;
  torch::Tensor allgather_rows(const torch::Tensor& local, std::vector<std::int64_t>* counts = nullptr) override;
  std::vector<torch::Tensor> alltoall_rows(const std::vector<torch::Tensor>& send) override;
  void broadcast(torch::Tensor& tensor, int root) override;
  void barrier() override;

  // GPUs visible to this process (0 when CUDA has none or fails).
  static int device_count();

 private:
  // The all-to-all of alltoall_rows, its calls and bytes counted under `op`.
  std::vector<torch::Tensor> exchange_rows(const std::vector<torch::Tensor>& send, const char* op);
  struct State;
  void allreduce(torch::Tensor& tensor, bool max, const char* name);

  MpiCommunicator& mpi_;
  std::unique_ptr<State> state_;
};

}  // namespace moecollab
