// P3: the gate-gradient all-reduce as the trainer does it (allreduce_gradients:
// every gate gradient plus the two loss sums packed into one buffer, one
// collective, unpacked) against raw MPI_Allreduce of the same bytes, and
// against one all-reduce per parameter (no fusion), and the same fused all-reduce
// under --secure-aggregation (masked fixed-point words: bytes and time against
// plain). Run under mpirun; rank 0 prints one JSON line per gate size. Not a
// test: benchmarks/run reads it.
//   mpirun -np 4 moecollab_allreduce_bench [SAMPLES]
#include <mpi.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

#include "moecollab/comm/mpi_communicator.h"
#include "moecollab/comm/secure_aggregation.h"
#include "moecollab/train/exchange.h"

namespace {

// Median seconds per call of each candidate, measured in interleaved samples
// (A B C A B C ...) of `batch` back-to-back calls between barriers, so that
// machine drift and barrier skew hit every candidate alike.
std::vector<double> median_seconds(int samples, const std::vector<std::function<void()>>& candidates) {
  constexpr int batch = 20;
  for (const auto& call : candidates) {
    for (int i = 0; i < 5; ++i) call();
  }
  std::vector<std::vector<double>> times(candidates.size());
  for (int s = 0; s < samples; ++s) {
    for (std::size_t c = 0; c < candidates.size(); ++c) {
      MPI_Barrier(MPI_COMM_WORLD);
      const auto start = std::chrono::steady_clock::now();
      for (int i = 0; i < batch; ++i) candidates[c]();
      times[c].push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / batch);
    }
  }
  std::vector<double> medians;
  for (auto& t : times) {
    std::sort(t.begin(), t.end());
    medians.push_back(t[t.size() / 2]);
  }
  return medians;
}

}  // namespace

int main(int argc, char** argv) {
  moecollab::MpiCommunicator comm(&argc, &argv);
  const int repeats = argc > 1 ? std::atoi(argv[1]) : 100;  // samples of 20 calls each
  torch::set_num_threads(1);
  moecollab::SecureAggregationCommunicator secure(comm);
  struct Size {
    const char* name;
    std::int64_t experts, hidden;
  };
  for (const Size size :
       {Size{"demo", comm.size(), 128}, Size{"bert-base", comm.size(), 768}, Size{"bert-base x16", 16, 768}}) {
    std::vector<torch::Tensor> params = {torch::zeros({size.experts, size.hidden}, torch::requires_grad()),
                                         torch::zeros({size.experts}, torch::requires_grad())};
    for (auto& p : params) p.mutable_grad() = torch::randn(p.sizes());
    std::vector<double> extras = {0.5, 0.25};
    const int count = static_cast<int>(params[0].numel() + params[1].numel() + 2);
    std::vector<float> in(static_cast<std::size_t>(count), 1.0f), out(in.size());
    const auto t = median_seconds(
        repeats, {[&] { moecollab::allreduce_gradients(comm, params, extras); },
                  [&] { MPI_Allreduce(in.data(), out.data(), count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD); },
                  [&] {
                    for (auto& p : params) {
                      auto g = p.grad();
                      comm.allreduce_sum(g);
                    }
                    for (auto& e : extras) {
                      auto x = torch::tensor({e}, torch::kFloat64);
                      comm.allreduce_sum(x);
                    }
                  },
                  [&] { moecollab::allreduce_gradients(secure, params, extras); }});
    const double fused = t[0], raw = t[1], unfused = t[2], masked = t[3];
    // Bytes this rank sends per call, plain and masked (counted by the MPI communicator under both).
    const auto sent = [&](moecollab::Communicator& c) {
      const auto before = comm.stats().bytes_sent();
      moecollab::allreduce_gradients(c, params, extras);
      return comm.stats().bytes_sent() - before;
    };
    const auto plain_bytes = sent(comm), masked_bytes = sent(secure);
    if (comm.rank() == 0) {
      std::printf(
          "{\"gate\": \"%s\", \"ranks\": %d, \"experts\": %lld, \"hidden\": %lld, \"bytes\": %d, \"fused_s\": %.3e, "
          "\"raw_mpi_s\": %.3e, \"per_parameter_s\": %.3e, \"fused_over_raw\": %.3f, \"secagg_s\": %.3e, "
          "\"secagg_over_fused\": %.3f, \"plain_bytes\": %llu, \"secagg_bytes\": %llu}\n",
          size.name, comm.size(), static_cast<long long>(size.experts), static_cast<long long>(size.hidden), count * 4,
          fused, raw, unfused, fused / raw, masked, masked / fused, static_cast<unsigned long long>(plain_bytes),
          static_cast<unsigned long long>(masked_bytes));
      std::fflush(stdout);
    }
  }
  return 0;
}
