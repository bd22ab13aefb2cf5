// The MPI world of a test binary run under mpirun (see mpi_test_main.cpp).
#pragma once

#include "moecollab/comm/mpi_communicator.h"

namespace moecollab::testing {

MpiCommunicator& world();

}  // namespace moecollab::testing
