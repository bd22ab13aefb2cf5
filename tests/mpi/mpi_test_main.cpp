// GoogleTest main for tests run under mpirun: one MpiCommunicator for the
// process (tests reach it through world()), and one verdict for all ranks.
#include <gtest/gtest.h>

#include "mpi/world.h"

namespace moecollab::testing {

MpiCommunicator* g_world = nullptr;

MpiCommunicator& world() { return *g_world; }

}  // namespace moecollab::testing

int main(int argc, char** argv) {
  moecollab::MpiCommunicator comm(&argc, &argv);
  moecollab::testing::g_world = &comm;
  ::testing::InitGoogleTest(&argc, argv);
  if (comm.rank() != 0) {
    // Only rank 0 prints progress; every rank still prints its failures.
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  const int failed = RUN_ALL_TESTS() != 0 ? 1 : 0;
  auto any_failed = torch::tensor({failed}, torch::kInt64);
  comm.allreduce_max(any_failed);
  if (comm.rank() == 0 && any_failed.item<std::int64_t>() != 0) std::cerr << "some rank failed a test\n";
  return static_cast<int>(any_failed.item<std::int64_t>());
}
