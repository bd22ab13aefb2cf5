#include "moecollab/comm/communicator.h"

#include "moecollab/comm/watchdog.h"

namespace moecollab {

std::uint64_t CommStats::bytes_sent() const {
  std::uint64_t total = 0;
  for (const auto& [name, op] : ops) total += op.bytes_sent;
  return total;
}

double CommStats::seconds() const {
  double total = 0;
  for (const auto& [name, op] : ops) total += op.seconds;
  return total;
}

OpTimer::OpTimer(CommStats& stats, const char* name, std::uint64_t bytes_sent)
    : op_(stats.ops[name]), start_(std::chrono::steady_clock::now()) {
  op_.calls += 1;
  op_.bytes_sent += bytes_sent;
  watchdog_enter(name);
}

OpTimer::~OpTimer() {
  watchdog_leave();
  op_.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::vector<std::string> Communicator::allgather_strings(const std::string& local) {
  auto bytes = torch::empty({static_cast<std::int64_t>(local.size())}, torch::kUInt8);
  std::copy(local.begin(), local.end(), bytes.data_ptr<std::uint8_t>());
  std::vector<std::int64_t> counts;
  const auto all = allgather_rows(bytes, &counts);
  std::vector<std::string> out;
  const auto* p = reinterpret_cast<const char*>(all.data_ptr<std::uint8_t>());
  for (auto n : counts) {
    out.emplace_back(p, static_cast<std::size_t>(n));
    p += n;
  }
  return out;
}

}  // namespace moecollab
