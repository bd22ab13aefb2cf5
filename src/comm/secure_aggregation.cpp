#include "moecollab/comm/secure_aggregation.h"

#include <limits>

namespace moecollab {
namespace {

// The tensor's values as float64 on the CPU, non-finite ones replaced by 0; `nonfinite` says whether there were any.
torch::Tensor finite_values(const torch::Tensor& tensor, bool& nonfinite) {
  auto values = tensor.detach().to(torch::kCPU, torch::kDouble).contiguous().view(-1);
  const auto finite = torch::isfinite(values);
  nonfinite = !finite.all().item<bool>();
  return nonfinite ? torch::where(finite, values, torch::zeros_like(values)) : values;
}

constexpr std::uint64_t kLow32 = 0xffffffffULL;

}  // namespace

SecureAggregationCommunicator::SecureAggregationCommunicator(Communicator& base, privacy::FixedPoint format)
    : ForwardingCommunicator(base), format_(format) {
  format_.check(size());
  const privacy::KeyPair own;
  const auto exchanged = base.allgather_strings(privacy::public_key_bytes(own.public_key()));
  std::vector<privacy::PublicKey> keys;
  keys.reserve(exchanged.size());
  for (std::size_t r = 0; r < exchanged.size(); ++r) {
    keys.push_back(privacy::public_key_from_bytes(exchanged[r], "rank " + std::to_string(r) + "'s public key"));
  }
  masks_ = std::make_unique<privacy::PairwiseMasks>(rank(), own, keys);
  sync_stats();  // the key exchange
}

SecureAggregationCommunicator::~SecureAggregationCommunicator() = default;

std::vector<std::uint64_t> SecureAggregationCommunicator::masked_words(const torch::Tensor& tensor) const {
  bool nonfinite = false;
  const auto values = finite_values(tensor, nonfinite);
  auto words = privacy::encode(values.data_ptr<double>(), static_cast<std::size_t>(values.numel()), format_);
  words.push_back(nonfinite ? 1 : 0);  // summed over ranks: how many held a NaN or an infinity
  masks_->apply(calls_, words);
  return words;
}

void SecureAggregationCommunicator::allreduce_sum(torch::Tensor& tensor) {
  if (!tensor.is_floating_point()) {
    ForwardingCommunicator::allreduce_sum(tensor);
    return;
  }
  const auto words = masked_words(tensor);
  ++calls_;
  const auto n = static_cast<std::int64_t>(words.size());
  auto lanes = torch::empty({2 * n}, torch::kLong);
  auto* lane = lanes.data_ptr<std::int64_t>();
  for (std::int64_t k = 0; k < n; ++k) {
    lane[2 * k] = static_cast<std::int64_t>(words[k] & kLow32);
    lane[2 * k + 1] = static_cast<std::int64_t>(words[k] >> 32);
  }
  auto on_device = lanes.to(tensor.device());
  ForwardingCommunicator::allreduce_sum(on_device);
  lanes = on_device.to(torch::kCPU).contiguous();
  lane = lanes.data_ptr<std::int64_t>();
  std::vector<std::uint64_t> sums(static_cast<std::size_t>(n));
  for (std::int64_t k = 0; k < n; ++k) {
    sums[k] = static_cast<std::uint64_t>(lane[2 * k]) + (static_cast<std::uint64_t>(lane[2 * k + 1]) << 32);
  }
  const bool nonfinite = sums.back() != 0;
  sums.pop_back();
  auto out = torch::empty({n - 1}, torch::kDouble);
  privacy::decode(sums, out.data_ptr<double>(), format_);
  if (nonfinite) out.fill_(std::numeric_limits<double>::quiet_NaN());
  tensor.copy_(out.view(tensor.sizes()));
}

}  // namespace moecollab
