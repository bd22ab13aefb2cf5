#include "moecollab/comm/fault_injection.h"

#include <chrono>
#include <csignal>
#include <limits>
#include <thread>

#include "moecollab/util/error.h"

namespace moecollab {
namespace {

const char* const kOps[] = {"allreduce_sum", "allreduce_max", "allgather_rows",
                            "alltoall_rows", "broadcast",     "barrier"};

// NaN in the first element of a floating-point tensor (a copy when `copy`); other tensors are left alone.
torch::Tensor poisoned(const torch::Tensor& t, bool copy) {
  if (!t.is_floating_point() || t.numel() == 0) return t;
  auto out = copy ? t.clone() : t;
  out.view(-1)[0] = std::numeric_limits<double>::quiet_NaN();
  return out;
}

}  // namespace

Fault parse_fault(const std::string& spec) {
  const auto usage =
      "a fault is KIND:RANK:OP:CALL (KIND nan, stall or crash; OP allreduce_sum, allreduce_max, "
      "allgather_rows, alltoall_rows, broadcast or barrier; CALL from 1), not '" +
      spec + "'";
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t colon; (colon = spec.find(':', start)) != std::string::npos; start = colon + 1) {
    parts.push_back(spec.substr(start, colon - start));
  }
  parts.push_back(spec.substr(start));
  if (parts.size() != 4) throw Error(usage);
  Fault fault;
  if (parts[0] == "nan")
    fault.kind = Fault::Kind::kNaN;
  else if (parts[0] == "stall")
    fault.kind = Fault::Kind::kStall;
  else if (parts[0] == "crash")
    fault.kind = Fault::Kind::kCrash;
  else
    throw Error(usage);
  bool known = false;
  for (const char* op : kOps) known = known || parts[2] == op;
  if (!known) throw Error(usage);
  fault.op = parts[2];
  try {
    std::size_t used = 0;
    fault.rank = std::stoi(parts[1], &used);
    if (used != parts[1].size() || fault.rank < 0) throw Error(usage);
    const auto call = std::stoll(parts[3], &used);
    if (used != parts[3].size() || call < 1) throw Error(usage);
    fault.call = static_cast<std::uint64_t>(call);
  } catch (const std::logic_error&) {
    throw Error(usage);
  }
  return fault;
}

FaultInjectingCommunicator::FaultInjectingCommunicator(Communicator& base, Fault fault)
    : ForwardingCommunicator(base), fault_(std::move(fault)) {}

bool FaultInjectingCommunicator::strike(const char* op, bool floating) {
  if (fault_.rank != rank() || fault_.op != op || injected_) return false;
  if (fault_.kind == Fault::Kind::kNaN && !floating) return false;
  if (++calls_ != fault_.call) return false;
  injected_ = true;
  switch (fault_.kind) {
    case Fault::Kind::kStall:
      std::this_thread::sleep_for(std::chrono::hours(1));  // the others wait (their watchdog reports)
      return false;
    case Fault::Kind::kCrash:
      std::raise(SIGSEGV);
      return false;
    case Fault::Kind::kNaN:
      return true;
  }
  return false;
}

void FaultInjectingCommunicator::allreduce_sum(torch::Tensor& tensor) {
  if (strike("allreduce_sum", tensor.is_floating_point())) poisoned(tensor, false);
  ForwardingCommunicator::allreduce_sum(tensor);
}

void FaultInjectingCommunicator::allreduce_max(torch::Tensor& tensor) {
  if (strike("allreduce_max", tensor.is_floating_point())) poisoned(tensor, false);
  ForwardingCommunicator::allreduce_max(tensor);
}

torch::Tensor FaultInjectingCommunicator::allgather_rows(const torch::Tensor& local,
                                                         std::vector<std::int64_t>* counts) {
  const bool poison = strike("allgather_rows", local.is_floating_point());
  return ForwardingCommunicator::allgather_rows(poison ? poisoned(local, true) : local, counts);
}

std::vector<torch::Tensor> FaultInjectingCommunicator::alltoall_rows(const std::vector<torch::Tensor>& send) {
  auto sent = send;
  if (strike("alltoall_rows", !send.empty() && send.front().is_floating_point())) {
    for (auto& t : sent) t = poisoned(t, true);
  }
  return ForwardingCommunicator::alltoall_rows(sent);
}

void FaultInjectingCommunicator::broadcast(torch::Tensor& tensor, int root) {
  if (strike("broadcast", tensor.is_floating_point())) poisoned(tensor, false);
  ForwardingCommunicator::broadcast(tensor, root);
}

void FaultInjectingCommunicator::barrier() {
  strike("barrier", false);
  ForwardingCommunicator::barrier();
}

}  // namespace moecollab
