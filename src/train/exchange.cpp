#include "moecollab/train/exchange.h"

#include "moecollab/comm/fusion.h"
#include "moecollab/util/error.h"

namespace moecollab {

torch::Tensor exchange_features(Communicator& comm, const torch::Tensor& local, std::vector<std::int64_t>& counts) {
  return comm.allgather_rows(local.detach(), &counts);
}

std::vector<torch::Tensor> gather_expert_logits(Communicator& comm, const torch::Tensor& logits,
                                                const std::vector<std::int64_t>& counts) {
  std::vector<torch::Tensor> send;
  std::int64_t offset = 0;
  for (auto n : counts) {
    send.push_back(logits.detach().narrow(0, offset, n));
    offset += n;
  }
  if (offset != logits.size(0)) throw Error("gather_expert_logits: row counts do not add up to the logits' rows");
  return comm.alltoall_rows(send);
}

torch::Tensor return_logit_grads(Communicator& comm, const std::vector<torch::Tensor>& grads) {
  return torch::cat(comm.alltoall_rows(grads));
}

torch::Tensor global_mean_gate(Communicator& comm, const torch::Tensor& local_probs, std::int64_t total_rows) {
  const auto local_sum = local_probs.sum(0);
  auto all_sum = local_sum.detach().clone();
  comm.allreduce_sum(all_sum);
  return (local_sum + (all_sum - local_sum.detach())) / static_cast<double>(total_rows);
}

void allreduce_gradients(Communicator& comm, const std::vector<torch::Tensor>& parameters,
                          std::vector<double>& extras) {
  const auto grads = flatten_gradients(parameters);
  auto buffer = torch::cat({grads, torch::tensor(extras, grads.options())});
  comm.allreduce_sum(buffer);
  assign_gradients(parameters, buffer.narrow(0, 0, grads.numel()));
  const auto tail = buffer.narrow(0, grads.numel(), static_cast<std::int64_t>(extras.size())).to(torch::kFloat64);
  for (std::size_t i = 0; i < extras.size(); ++i) extras[i] = tail[static_cast<std::int64_t>(i)].item<double>();
}

}  // namespace moecollab
