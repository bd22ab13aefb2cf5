// How the MPI subcommands (train, pretrain, build-vocab --federated) end on an
// error: an AgreedError (every rank failed alike) is printed once, by rank 0,
// and every rank exits 1; any other error happened on one rank only, while the
// others may wait in a collective, so it is printed with the rank and the whole
// job is aborted. Never a hang.
#pragma once

#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "moecollab/comm/agreement.h"
#include "moecollab/comm/mpi_communicator.h"
#include "moecollab/data/dataset.h"
#include "moecollab/util/error.h"
#include "moecollab/util/strings.h"
#include "options.h"

namespace moecollab::cli {

// The first check of every MPI subcommand: one rank per domain. (Tasks that
// srun started as separate single-rank jobs are refused by MpiCommunicator.)
inline void require_one_rank_per_domain(const std::string& command, const std::vector<std::string>& domains,
                                        const MpiCommunicator& comm) {
  for (std::size_t i = 0; i < domains.size(); ++i) {
    for (std::size_t j = i + 1; j < domains.size(); ++j) {
      if (domains[i] == domains[j]) {
        throw AgreedError("domain '" + domains[i] + "' is given twice (ranks " + std::to_string(i) + " and " +
                          std::to_string(j) + "); every rank needs a domain of its own");
      }
    }
  }
  try {
    check_distinct_domain_names(domains, "rank");
  } catch (const Error& e) {
    throw AgreedError(e.what());
  }
  if (static_cast<int>(domains.size()) == comm.size()) return;
  throw AgreedError("this run has " + std::to_string(domains.size()) + " domains (" + join(domains) + ") but " +
                    std::to_string(comm.size()) + " MPI rank" + (comm.size() == 1 ? "" : "s") +
                    "; start one rank per domain: mpirun -np " + std::to_string(domains.size()) + " moecollab " +
                    command + " ...");
}

// For the header line: how collectives wait on this node ("4 ranks on 2 CPUs: collectives wait sleeping").
inline std::string waiting_text(const MpiCommunicator& comm) {
  return std::to_string(comm.local_size()) + " ranks on " + std::to_string(comm.node_cpus()) +
         " CPUs: " + (comm.sleeps_while_waiting() ? "large all-reduces wait sleeping" : "collectives wait polling");
}

// parse_options for an MPI command: every rank parses the same command line and
// config, so an option error is the same on every rank and is reported once.
inline bool parse_options_agreed(int argc, char** argv, const std::string& usage, po::options_description& options,
                                 po::variables_map& vm) {
  try {
    return parse_options(argc, argv, usage, options, vm);
  } catch (const Error& e) {
    throw AgreedError(e.what());
  }
}

inline int run_collectively(MpiCommunicator& comm, const char* command, const std::function<int()>& body) {
  try {
    return body();
  } catch (const AgreedError& e) {
    if (comm.rank() == 0) std::cerr << "moecollab " << command << ": error: " << e.what() << std::endl;
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "moecollab " << command << ": rank " << comm.rank() << ": error: " << e.what() << std::endl;
    comm.abort(1);
  }
}

}  // namespace moecollab::cli
