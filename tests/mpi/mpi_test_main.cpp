// GoogleTest main for tests run under mpirun: float64 by default, one
// MpiCommunicator for the process (tests reach it through world()), and one
// verdict for all ranks:
// 1 when any rank failed a test, 77 (CTest: skipped) when every selected test
// skipped itself (the NCCL test without GPUs), else 0.
#include <gtest/gtest.h>

#include "mpi/world.h"

namespace moecollab::testing {

MpiCommunicator* g_world = nullptr;

MpiCommunicator& world() { return *g_world; }

}  // namespace moecollab::testing

int main(int argc, char** argv) {
  // Every tensor a test makes without naming its dtype is float64: the equivalence tests
  // then hold the federated trainer to the single process at 1e-9 relative, with no
  // absolute floor (in float32 the balance term's cancellation alone costs ~1e-5).
  torch::set_default_dtype(caffe2::TypeMeta::Make<double>());
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
  if (any_failed.item<std::int64_t>() != 0) return 1;
  const auto* unit = ::testing::UnitTest::GetInstance();
  return unit->skipped_test_count() > 0 && unit->successful_test_count() == 0 ? 77 : 0;
}
