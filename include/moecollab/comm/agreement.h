// Failing together: a step that may fail on some ranks (loading a shard,
// reading a file) is followed by an agreement, so either every rank goes on or
// every rank stops with the same message naming the failing ranks — never
// some ranks waiting forever in a collective the failed ones will not join.
#pragma once

#include <string>

#include "moecollab/comm/communicator.h"
#include "moecollab/util/error.h"

namespace moecollab {

// An Error that every rank raised with the same message.
class AgreedError : public Error {
 public:
  using Error::Error;
};

// Collective. `local_error` is empty when this rank succeeded. Throws
// AgreedError on every rank ("rank 2: <message>; rank 3: <message>") if any failed.
void raise_if_any_rank_failed(Communicator& comm, const std::string& local_error);

// Runs `step` on this rank, then agrees: rethrows every rank's failure as AgreedError.
template <typename Step>
void run_on_every_rank(Communicator& comm, Step&& step) {
  std::string error;
  try {
    step();
  } catch (const std::exception& e) {
    error = e.what();
  }
  raise_if_any_rank_failed(comm, error);
}

}  // namespace moecollab
