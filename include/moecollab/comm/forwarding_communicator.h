// A Communicator that hands every collective to another one (LevelDB's EnvWrapper
// pattern): the base of the wrappers that change some operations — fault injection
// for the fault suite, secure aggregation of sums — so each overrides only those and
// calls through for the rest. Its stats are the base's, copied after every call.
#pragma once

#include "moecollab/comm/communicator.h"

namespace moecollab {

class ForwardingCommunicator : public Communicator {
 public:
  // REQUIRES: `base` outlives this object.
  explicit ForwardingCommunicator(Communicator& base) : base_(base) { sync_stats(); }

  int rank() const override { return base_.rank(); }
  int size() const override { return base_.size(); }
  std::string backend() const override { return base_.backend(); }
  bool hides_contributions() const override { return base_.hides_contributions(); }
  void allreduce_sum(torch::Tensor& tensor) override {
    base_.allreduce_sum(tensor);
    sync_stats();
  }
  void allreduce_max(torch::Tensor& tensor) override {
    base_.allreduce_max(tensor);
    sync_stats();
  }
  torch::Tensor allgather_rows(const torch::Tensor& local, std::vector<std::int64_t>* counts = nullptr) override {
    auto out = base_.allgather_rows(local, counts);
    sync_stats();
    return out;
  }
  std::vector<torch::Tensor> alltoall_rows(const std::vector<torch::Tensor>& send) override {
    auto out = base_.alltoall_rows(send);
    sync_stats();
    return out;
  }
  void broadcast(torch::Tensor& tensor, int root) override {
    base_.broadcast(tensor, root);
    sync_stats();
  }
  void barrier() override {
    base_.barrier();
    sync_stats();
  }

 protected:
  void sync_stats() { stats_ = base_.stats(); }

 private:
  Communicator& base_;
};

}  // namespace moecollab
