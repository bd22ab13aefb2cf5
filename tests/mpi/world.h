// The MPI world of a test binary run under mpirun (see mpi_test_main.cpp).
#pragma once

#include <torch/torch.h>

#include "moecollab/comm/mpi_communicator.h"

namespace moecollab::testing {

MpiCommunicator& world();

// The MPI tests run in float64 (mpi_test_main.cpp); a test of something defined in float32
// (bytes on the wire, a float32 file format) holds one of these for its duration.
class Float32Scope {
 public:
  Float32Scope() : previous_(torch::get_default_dtype()) { torch::set_default_dtype(caffe2::TypeMeta::Make<float>()); }
  ~Float32Scope() { torch::set_default_dtype(previous_); }
  Float32Scope(const Float32Scope&) = delete;
  Float32Scope& operator=(const Float32Scope&) = delete;

 private:
  caffe2::TypeMeta previous_;
};

}  // namespace moecollab::testing
