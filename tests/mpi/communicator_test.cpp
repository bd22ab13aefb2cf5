// The MPI backend's collectives, on every rank, with uneven row counts.
#include <gtest/gtest.h>

#include "moecollab/comm/agreement.h"
#include "moecollab/train/round_gather.h"
#include "mpi/world.h"

namespace moecollab {

using testing::world;

TEST(MpiCommunicator, AllreduceSumAndMax) {
  auto& comm = world();
  auto t = torch::full({3}, static_cast<double>(comm.rank() + 1), torch::kFloat64);
  comm.allreduce_sum(t);
  const double n = comm.size();
  EXPECT_EQ(t[0].item<double>(), n * (n + 1) / 2);
  auto m = torch::tensor({static_cast<std::int64_t>(comm.rank())});
  comm.allreduce_max(m);
  EXPECT_EQ(m.item<std::int64_t>(), comm.size() - 1);
}

TEST(MpiCommunicator, AllgatherRowsWithUnequalCounts) {
  auto& comm = world();
  const std::int64_t rows = comm.rank();  // rank 0 sends no rows at all
  const auto local = torch::full({rows, 2}, static_cast<float>(comm.rank()));
  std::vector<std::int64_t> counts;
  const auto all = comm.allgather_rows(local, &counts);
  ASSERT_EQ(static_cast<int>(counts.size()), comm.size());
  std::int64_t offset = 0;
  for (int r = 0; r < comm.size(); ++r) {
    EXPECT_EQ(counts[static_cast<std::size_t>(r)], r);
    if (r > 0) EXPECT_TRUE(torch::all(all.narrow(0, offset, r) == static_cast<float>(r)).item<bool>());
    offset += r;
  }
  EXPECT_EQ(all.size(0), offset);
  EXPECT_EQ(comm.allgather_strings("r" + std::to_string(comm.rank()))[static_cast<std::size_t>(comm.size() - 1)],
            "r" + std::to_string(comm.size() - 1));
}

// What a round gathers outside the gate step arrives whole and in rank order:
// reports (rank r sends r routing samples), and sampler positions.
TEST(RoundGather, ReportsRoutingAndSamplerPositions) {
  auto& comm = world();
  const auto E = static_cast<std::size_t>(comm.size());
  const auto r = static_cast<std::size_t>(comm.rank());
  std::vector<std::string> names;
  for (std::size_t i = 0; i < E; ++i) names.push_back("d" + std::to_string(i));
  const auto report_of = [&](std::size_t rank) {
    DomainReport d;
    d.moe = {0.5 + 0.01 * static_cast<double>(rank), 0.25, 10 + rank};
    d.expert = {0.125, 0.0625 * static_cast<double>(rank), 10 + rank};
    d.utilization.assign(E, 1.0 / static_cast<double>(E + rank));
    d.top1.assign(E, static_cast<double>(rank));
    for (std::size_t s = 0; s < rank; ++s) {
      d.routing.push_back({static_cast<std::int64_t>(s), static_cast<std::int64_t>(rank), std::vector<double>(E, 0.5)});
    }
    return d;
  };
  for (bool routing : {false, true}) {
    const auto all = gather_reports(comm, report_of(r), names, routing);
    ASSERT_EQ(all.size(), E);
    for (std::size_t i = 0; i < E; ++i) {
      const auto want = report_of(i);
      EXPECT_EQ(all[i].domain, names[i]);
      EXPECT_EQ(all[i].moe.accuracy, want.moe.accuracy);
      EXPECT_EQ(all[i].moe.count, want.moe.count);
      EXPECT_EQ(all[i].expert.macro_f1, want.expert.macro_f1);
      EXPECT_EQ(all[i].utilization, want.utilization);
      EXPECT_EQ(all[i].top1, want.top1);
      ASSERT_EQ(all[i].routing.size(), routing ? i : 0u);
      for (std::size_t s = 0; s < all[i].routing.size(); ++s) {
        EXPECT_EQ(all[i].routing[s].label, want.routing[s].label);
        EXPECT_EQ(all[i].routing[s].predicted, static_cast<std::int64_t>(i));
        EXPECT_EQ(all[i].routing[s].gate, want.routing[s].gate);
      }
    }
  }
  const auto positions = gather_sampler_positions(comm, {3 + r, 1000 * r});
  ASSERT_EQ(positions.size(), E);
  for (std::size_t i = 0; i < E; ++i) {
    EXPECT_EQ(positions[i].epoch, 3 + i);
    EXPECT_EQ(positions[i].cursor, 1000 * i);
  }
}

TEST(MpiCommunicator, AlltoallRowsRoutesEachBlock) {
  auto& comm = world();
  std::vector<torch::Tensor> send;
  for (int to = 0; to < comm.size(); ++to) {
    // (to + 1) rows of value 100*from + to.
    send.push_back(torch::full({to + 1, 3}, 100.0 * comm.rank() + to, torch::kFloat64));
  }
  const auto recv = comm.alltoall_rows(send);
  ASSERT_EQ(static_cast<int>(recv.size()), comm.size());
  for (int from = 0; from < comm.size(); ++from) {
    const auto& block = recv[static_cast<std::size_t>(from)];
    EXPECT_EQ(block.size(0), comm.rank() + 1);
    EXPECT_TRUE(torch::all(block == 100.0 * from + comm.rank()).item<bool>());
  }
  const auto& op = comm.stats().ops.at("alltoall");
  EXPECT_GE(op.calls, 1u);
  EXPECT_GT(op.bytes_sent, 0u);
}

TEST(MpiCommunicator, Broadcast) {
  auto& comm = world();
  auto t = torch::full({4}, comm.rank() == 0 ? 7 : -1, torch::kInt64);
  comm.broadcast(t, 0);
  EXPECT_TRUE(torch::all(t == 7).item<bool>());
  comm.barrier();
}

// Ranks that fail alike are reported in one line, others each with their ranks.
TEST(Agreement, GroupsRanksThatFailedAlike) {
  auto& comm = world();
  const auto n = std::to_string(comm.size());
  try {
    raise_if_any_rank_failed(comm, "same problem");
    ADD_FAILURE() << "expected an error";
  } catch (const AgreedError& e) {
    EXPECT_EQ(std::string(e.what()), "all " + n + " ranks: same problem");
  }
  const bool odd = comm.rank() % 2 == 1;
  try {
    raise_if_any_rank_failed(comm, comm.rank() == 0 ? "first" : odd ? "odd" : "");
    ADD_FAILURE() << "expected an error";
  } catch (const AgreedError& e) {
    std::string odd_ranks;
    for (int r = 1; r < comm.size(); r += 2) odd_ranks += (odd_ranks.empty() ? "" : ", ") + std::to_string(r);
    const std::string who = comm.size() > 3 ? "ranks " : "rank ";
    EXPECT_EQ(std::string(e.what()), "rank 0: first\n  " + who + odd_ranks + ": odd");
  }
  EXPECT_NO_THROW(raise_if_any_rank_failed(comm, ""));
}

}  // namespace moecollab

#ifdef MOECOLLAB_HAVE_NCCL
#include "moecollab/comm/nccl_communicator.h"

namespace moecollab {

// Runs only where every rank has a GPU of its own (never on CI); there the NCCL
// backend must give what the MPI backend gives.
TEST(NcclCommunicator, MatchesMpi) {
  auto& mpi = testing::world();
  auto has_gpu = torch::tensor({mpi.local_rank() < NcclCommunicator::device_count() ? 1 : 0}, torch::kInt64);
  mpi.allreduce_sum(has_gpu);
  if (has_gpu.item<std::int64_t>() != mpi.size()) GTEST_SKIP() << "not every rank has a GPU of its own";
  NcclCommunicator nccl(mpi, mpi.local_rank());
  auto a = torch::randn({1000}, torch::kFloat32) + mpi.rank();
  auto b = a.clone();
  mpi.allreduce_sum(a);
  nccl.allreduce_sum(b);
  EXPECT_TRUE(torch::allclose(a, b, 1e-5, 1e-5));
  std::vector<torch::Tensor> send;
  for (int to = 0; to < mpi.size(); ++to) send.push_back(torch::full({to + 1, 3}, 100.0 * mpi.rank() + to));
  const auto x = mpi.alltoall_rows(send), y = nccl.alltoall_rows(send);
  for (std::size_t r = 0; r < x.size(); ++r) EXPECT_TRUE(torch::equal(x[r], y[r]));
  std::vector<std::int64_t> cx, cy;
  const auto local = torch::full({mpi.rank() + 1, 2}, static_cast<float>(mpi.rank()));
  EXPECT_TRUE(torch::equal(mpi.allgather_rows(local, &cx), nccl.allgather_rows(local, &cy)));
  EXPECT_EQ(cx, cy);
}

}  // namespace moecollab
#endif
