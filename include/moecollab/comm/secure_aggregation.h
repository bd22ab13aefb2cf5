// Secure aggregation as a Communicator: every floating-point all-reduce of sums (gradients,
// the global mean gate, loss and metric sums) goes through pairwise additive masking
// (privacy/secure_sum.h), so what another rank receives from this one is indistinguishable
// from uniform noise, and only the sum over all ranks is ever in the clear. Every other
// collective (max, gathers, broadcasts of parameters) is delegated unchanged: what those
// carry is what docs/threat-model.md says each exchange mode reveals.
//
// On the wire: each value becomes a 64-bit fixed-point word (FixedPoint: 2^-24 resolution,
// clipped to ±2^20), masked mod 2^64, and is sent as two 32-bit halves in int64 lanes (an
// int64 all-reduce of halves cannot overflow below 2^31 ranks; the halves are rejoined mod
// 2^64), so a float32 all-reduce sends 4x the plain bytes. One more word per call carries
// whether any rank held a NaN or an infinity (its count over ranks, masked too): then every
// rank gets NaN, as with the plain all-reduce.
#pragma once

#include <cstdint>
#include <memory>

#include "moecollab/comm/forwarding_communicator.h"
#include "moecollab/privacy/secure_sum.h"

namespace moecollab {

class SecureAggregationCommunicator : public ForwardingCommunicator {
 public:
  // Collective: every rank makes an X25519 key pair and the ranks exchange their public keys
  // over `base`. Throws Error where `format` could overflow for base.size() ranks.
  // REQUIRES: `base` outlives this object.
  explicit SecureAggregationCommunicator(Communicator& base, privacy::FixedPoint format = {});
  ~SecureAggregationCommunicator() override;

  std::string backend() const override { return ForwardingCommunicator::backend() + "+secagg"; }
  bool hides_contributions() const override { return true; }
  // Floating-point tensors: the masked sum, within format().sum_error_bound(size()) of the
  // plain sum of the values clipped to ±format().clip. Integer tensors: the plain sum.
  void allreduce_sum(torch::Tensor& tensor) override;

  const privacy::FixedPoint& format() const { return format_; }
  // What this rank would send for `values` at the next aggregation (the test of independence
  // looks at it); advances nothing.
  std::vector<std::uint64_t> masked_words(const torch::Tensor& values) const;

 private:
  privacy::FixedPoint format_;
  std::unique_ptr<privacy::PairwiseMasks> masks_;
  std::uint64_t calls_ = 0;  // aggregations so far: the masks' nonce, the same on every rank
};

}  // namespace moecollab
