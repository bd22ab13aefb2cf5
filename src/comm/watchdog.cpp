#include "moecollab/comm/watchdog.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace moecollab {
namespace {

using Clock = std::chrono::steady_clock;

std::atomic<const char*> current_op{nullptr};
std::atomic<std::uint64_t> sequence{0};
std::atomic<std::int64_t> entered_ns{0};
std::atomic<double> timeout_seconds{0};
std::atomic<int> watched_rank{0};
std::atomic<bool> started{false};

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

void watch() {
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    const double limit = timeout_seconds.load();
    const std::uint64_t seen = sequence.load();
    const char* op = current_op.load();
    if (limit <= 0 || op == nullptr) continue;
    const double waited = static_cast<double>(now_ns() - entered_ns.load()) / 1e9;
    if (waited < limit) continue;
    // This thread may have been descheduled between the loads above and the clock (2 busy
    // cores, many ranks): report only when the same collective is still the one waiting.
    if (current_op.load() != op || sequence.load() != seen) continue;
    std::fprintf(stderr,
                 "moecollab: rank %d: collective '%s' (#%llu of this rank) has not completed after %.0f s "
                 "(--collective-timeout %.0f); the ranks without such a line have not reached it. Aborting the job.\n",
                 watched_rank.load(), op, static_cast<unsigned long long>(seen), waited, limit);
    std::fflush(stderr);
    std::this_thread::sleep_for(std::chrono::seconds(3));  // let the other waiting ranks report too
    std::_Exit(3);
  }
}

}  // namespace

void start_collective_watchdog(double seconds, int rank) {
  timeout_seconds = seconds;
  watched_rank = rank;
  if (seconds > 0 && !started.exchange(true)) std::thread(watch).detach();
}

void watchdog_enter(const char* operation) {
  entered_ns = now_ns();
  sequence.fetch_add(1);
  current_op = operation;
}

void watchdog_leave() { current_op = nullptr; }

}  // namespace moecollab
