// The fault-injecting Communicator: it delegates every collective (the results and byte
// counts equal the wrapped backend's), corrupts only the chosen rank's chosen call, and
// parse_fault refuses malformed specs.
#include <gtest/gtest.h>

#include <cmath>

#include "moecollab/comm/fault_injection.h"
#include "moecollab/util/error.h"
#include "mpi/world.h"

namespace moecollab {

using testing::world;

TEST(FaultInjection, ParsesSpecsAndRefusesMalformedOnes) {
  const auto f = parse_fault("nan:2:allreduce_sum:9");
  EXPECT_EQ(f.kind, Fault::Kind::kNaN);
  EXPECT_EQ(f.rank, 2);
  EXPECT_EQ(f.op, "allreduce_sum");
  EXPECT_EQ(f.call, 9u);
  EXPECT_EQ(parse_fault("stall:0:barrier:1").kind, Fault::Kind::kStall);
  EXPECT_EQ(parse_fault("crash:3:alltoall_rows:2").kind, Fault::Kind::kCrash);
  for (const char* bad :
       {"", "nan", "nan:2:allreduce_sum", "boom:2:allreduce_sum:1", "nan:x:allreduce_sum:1", "nan:-1:allreduce_sum:1",
        "nan:2:allreduce:1", "nan:2:allreduce_sum:0", "nan:2:allreduce_sum:1:5", "nan:2:allreduce_sum:1x"}) {
    EXPECT_THROW(parse_fault(bad), Error) << bad;
  }
}

TEST(FaultInjection, PoisonsOnlyTheChosenRanksChosenFloatingCall) {
  auto& base = world();
  const int target = base.size() - 1;
  FaultInjectingCommunicator comm(base, parse_fault("nan:" + std::to_string(target) + ":allreduce_sum:2"));
  const auto bytes_before = base.stats().bytes_sent();
  // Integer calls do not count for a NaN fault; the 1st floating call is clean.
  auto ints = torch::ones({2}, torch::kInt64);
  comm.allreduce_sum(ints);
  EXPECT_EQ(ints[0].item<std::int64_t>(), base.size());
  auto first = torch::ones({3}, torch::kFloat64);
  comm.allreduce_sum(first);
  EXPECT_TRUE(torch::all(first == static_cast<double>(base.size())).item<bool>());
  EXPECT_FALSE(comm.injected());
  // The 2nd: the target's element 0 is NaN before the sum, so the sum's is on every rank; the rest is intact.
  auto second = torch::ones({3}, torch::kFloat64);
  comm.allreduce_sum(second);
  EXPECT_TRUE(std::isnan(second[0].item<double>()));
  EXPECT_EQ(second[2].item<double>(), static_cast<double>(base.size()));
  EXPECT_EQ(comm.injected(), base.rank() == target);
  // Once only; other operations pass through unchanged.
  auto third = torch::ones({3}, torch::kFloat64);
  comm.allreduce_sum(third);
  EXPECT_TRUE(torch::all(third == static_cast<double>(base.size())).item<bool>());
  const auto rows = comm.allgather_rows(torch::full({1, 2}, static_cast<float>(base.rank())));
  EXPECT_EQ(rows.size(0), base.size());
  EXPECT_EQ(rows[target][0].item<float>(), static_cast<float>(target));
  // The wrapper reports the wrapped backend's counts.
  EXPECT_EQ(comm.stats().bytes_sent(), base.stats().bytes_sent());
  EXPECT_GT(comm.stats().bytes_sent(), bytes_before);
}

}  // namespace moecollab
