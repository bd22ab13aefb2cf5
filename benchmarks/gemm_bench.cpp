// The machine's limit for our matrix products: sgemm throughput through
// libtorch (and so through the BLAS it runs on, OpenBLAS here) at the shapes of
// the encoder's products in a masked-LM or fine-tuning step, and at a large
// square shape, with 1 intra-op thread and with every core. Each shape is run
// as the forward product (x·Wᵀ, what nn::Linear does) in reused output buffers,
// so the figure is the BLAS's and not the allocator's. Not a test: benchmarks/run
// reads its JSON lines (one per shape and thread count) and divides the
// pipeline's achieved rate by them (docs/performance.md#flops).
//   moecollab_gemm_bench [TOKENS] [MASKED] [SECONDS_PER_SHAPE]
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Shape {
  std::string name;
  std::int64_t m, k, n;  // (m×k) · (k×n)
};

// Best GFLOP/s over repeated timed batches of about `seconds` / 5 each: the
// best, not the mean, is the limit (a descheduled batch measures the machine's
// other load, not the BLAS).
double gflops(const Shape& s, double seconds) {
  const auto x = torch::randn({s.m, s.k});
  const auto w = torch::randn({s.n, s.k});  // a Linear's weight: out × in
  auto y = torch::empty({s.m, s.n});
  const double flop = 2.0 * static_cast<double>(s.m) * static_cast<double>(s.k) * static_cast<double>(s.n);
  for (int i = 0; i < 3; ++i) torch::mm_out(y, x, w.t());
  const int calls = std::max(1, static_cast<int>(seconds / 5 / (flop / 5e9)));  // ~seconds/5 at 5 GFLOP/s
  double best = 0;
  for (int batch = 0; batch < 5; ++batch) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < calls; ++i) torch::mm_out(y, x, w.t());
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, flop * calls / t / 1e9);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  // Defaults: a bucketed batch of 32 texts × 32 tokens, 15% of them masked; d = 128, FFN 512, 8000 words.
  const std::int64_t tokens = argc > 1 ? std::atoll(argv[1]) : 1024;
  const std::int64_t masked = argc > 2 ? std::atoll(argv[2]) : 150;
  const double seconds = argc > 3 ? std::atof(argv[3]) : 1.0;
  const std::int64_t d = 128, f = 512, vocab = 8000;
  const std::vector<Shape> shapes = {
      {"qkv_out", tokens, d, d},         {"ffn_up", tokens, d, f},          {"ffn_down", tokens, f, d},
      {"mlm_decoder", masked, d, vocab}, {"square_2048", 2048, 2048, 2048},
  };
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (const int threads : {1, cores}) {
    torch::set_num_threads(threads);
    for (const auto& s : shapes) {
      std::printf("{\"shape\": \"%s\", \"m\": %lld, \"k\": %lld, \"n\": %lld, \"threads\": %d, \"gflops\": %.3f}\n",
                  s.name.c_str(), static_cast<long long>(s.m), static_cast<long long>(s.k), static_cast<long long>(s.n),
                  threads, gflops(s, seconds));
      std::fflush(stdout);
    }
    if (cores == 1) break;
  }
  return 0;
}
