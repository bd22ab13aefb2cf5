#include "moecollab/comm/agreement.h"

#include <map>
#include <vector>

namespace moecollab {

void raise_if_any_rank_failed(Communicator& comm, const std::string& local_error) {
  const auto errors = comm.allgather_strings(local_error);
  // Ranks that failed alike share one line ("all 4 ranks: ...", "ranks 1, 3: ..."), in order of first rank.
  std::vector<std::string> order;
  std::map<std::string, std::vector<std::size_t>> ranks_of;
  for (std::size_t r = 0; r < errors.size(); ++r) {
    if (errors[r].empty()) continue;
    if (!ranks_of.count(errors[r])) order.push_back(errors[r]);
    ranks_of[errors[r]].push_back(r);
  }
  std::string message;
  for (const auto& error : order) {
    const auto& ranks = ranks_of[error];
    std::string who;
    if (ranks.size() == errors.size() && ranks.size() > 1) {
      who = "all " + std::to_string(ranks.size()) + " ranks";
    } else {
      who = ranks.size() == 1 ? "rank " : "ranks ";
      for (std::size_t i = 0; i < ranks.size(); ++i) who += (i ? ", " : "") + std::to_string(ranks[i]);
    }
    if (!message.empty()) message += "\n  ";
    message += who + ": " + error;
  }
  if (!message.empty()) throw AgreedError(message);
}

}  // namespace moecollab
