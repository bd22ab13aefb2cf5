#include "moecollab/comm/agreement.h"

namespace moecollab {

void raise_if_any_rank_failed(Communicator& comm, const std::string& local_error) {
  const auto errors = comm.allgather_strings(local_error);
  std::string message;
  for (std::size_t r = 0; r < errors.size(); ++r) {
    if (errors[r].empty()) continue;
    if (!message.empty()) message += "\n  ";
    message += "rank " + std::to_string(r) + ": " + errors[r];
  }
  if (!message.empty()) throw AgreedError(message);
}

}  // namespace moecollab
