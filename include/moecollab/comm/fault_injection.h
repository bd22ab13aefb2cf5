// Fault injection for the fault suite: a Communicator that delegates every
// collective to another one and, on one chosen rank at one chosen call of one
// operation, injects a fault — NaN in the data that rank sends, a stall (the
// rank never reaches the collective), or a crash (SIGSEGV). The pattern of
// LevelDB's EnvWrapper: the trainers see a Communicator, the tests choose the
// fault, and the library itself injects nothing.
#pragma once

#include <cstdint>
#include <string>

#include "moecollab/comm/forwarding_communicator.h"

namespace moecollab {

struct Fault {
  enum class Kind { kNaN, kStall, kCrash };
  Kind kind = Kind::kNaN;
  int rank = 0;                      // the rank that misbehaves
  std::string op = "allreduce_sum";  // allreduce_sum, allreduce_max, allgather_rows, alltoall_rows, broadcast, barrier
  // That operation's 1-based call number on that rank: for kNaN counting only the calls
  // that carry floating-point data (so start-up agreements on strings and row counts,
  // which vary with the options, do not shift it); for kStall and kCrash every call.
  std::uint64_t call = 1;
};

// "KIND:RANK:OP:CALL", e.g. "nan:2:allreduce_sum:9" or "stall:2:allreduce_sum:1"
// (KIND nan, stall or crash). Throws Error saying what is wrong.
Fault parse_fault(const std::string& spec);

class FaultInjectingCommunicator : public ForwardingCommunicator {
 public:
  // REQUIRES: `base` outlives this object.
  FaultInjectingCommunicator(Communicator& base, Fault fault);

  void allreduce_sum(torch::Tensor& tensor) override;
  void allreduce_max(torch::Tensor& tensor) override;
  torch::Tensor allgather_rows(const torch::Tensor& local, std::vector<std::int64_t>* counts = nullptr) override;
  std::vector<torch::Tensor> alltoall_rows(const std::vector<torch::Tensor>& send) override;
  void broadcast(torch::Tensor& tensor, int root) override;
  void barrier() override;

  // Whether the fault has been injected (on the faulty rank; never elsewhere).
  bool injected() const { return injected_; }

 private:
  // Counts a call of `op` (carrying floating-point data or not); true when this is the
  // one to corrupt with NaN (stall and crash act here).
  bool strike(const char* op, bool floating);
  Fault fault_;
  std::uint64_t calls_ = 0;  // of fault_.op, on this rank
  bool injected_ = false;
};

}  // namespace moecollab
