#include "moecollab/comm/backend.h"

#include "moecollab/comm/agreement.h"
#ifdef MOECOLLAB_HAVE_NCCL
#include "moecollab/comm/nccl_communicator.h"
#endif

namespace moecollab {

bool nccl_built() {
#ifdef MOECOLLAB_HAVE_NCCL
  return true;
#else
  return false;
#endif
}

std::unique_ptr<Communicator> select_backend(const std::string& requested, MpiCommunicator& mpi) {
  if (requested != "auto" && requested != "mpi" && requested != "nccl") {
    throw AgreedError("--backend must be auto, mpi or nccl, not '" + requested + "'");
  }
  if (requested == "mpi") return nullptr;
  // NCCL needs a GPU of its own per rank: the ranks on a node take GPUs 0, 1, ...
  int gpus = 0;
#ifdef MOECOLLAB_HAVE_NCCL
  gpus = NcclCommunicator::device_count();
#endif
  const bool own_gpu = nccl_built() && mpi.local_rank() < gpus;
  auto ranks_with_gpu = torch::tensor({own_gpu ? 1 : 0}, torch::kInt64);
  mpi.allreduce_sum(ranks_with_gpu);
  const bool all_have_gpu = ranks_with_gpu.item<std::int64_t>() == mpi.size();
  if (!all_have_gpu) {
    if (requested == "auto") return nullptr;
    if (!nccl_built()) {
      throw AgreedError(
          "--backend nccl: this build has no NCCL backend (CMake did not find CUDA and NCCL; "
          "see -DMOECOLLAB_NCCL)");
    }
    throw AgreedError("--backend nccl: only " + std::to_string(ranks_with_gpu.item<std::int64_t>()) + " of " +
                      std::to_string(mpi.size()) +
                      " ranks have a GPU of their own (NCCL cannot share one GPU "
                      "between ranks); use --backend mpi");
  }
#ifdef MOECOLLAB_HAVE_NCCL
  return std::make_unique<NcclCommunicator>(mpi, mpi.local_rank());
#else
  return nullptr;
#endif
}

}  // namespace moecollab
