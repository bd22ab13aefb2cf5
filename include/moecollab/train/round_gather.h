// What the ranks of a federated run gather of each other outside the gate
// step, each in one collective of fixed-layout rows: every domain's validation
// report (with its routing samples, when they are logged), and every domain's
// sampler position for a checkpoint. The one place that knows these layouts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "moecollab/comm/communicator.h"
#include "moecollab/train/report.h"

namespace moecollab {

// Every rank's report, in rank order, named domains[r]; `mine` is this rank's.
// With `routing`, each report carries its rank's routing samples (one more
// all-gather); without, none. Collective: every rank calls it alike.
std::vector<DomainReport> gather_reports(Communicator& comm, const DomainReport& mine,
                                         const std::vector<std::string>& domains, bool routing);

struct SamplerPosition {
  std::uint64_t epoch = 0;
  std::uint64_t cursor = 0;
};

// Every rank's sampler position, in rank order. Collective.
std::vector<SamplerPosition> gather_sampler_positions(Communicator& comm, SamplerPosition mine);

}  // namespace moecollab
