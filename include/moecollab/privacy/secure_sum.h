// Secure aggregation of a sum over ranks by pairwise additive masking (Bonawitz et al. 2017,
// the core of Flower's SecAgg+, without its dropout recovery: an MPI job that loses a rank
// ends anyway). Each rank encodes its values in fixed point on the ring of integers modulo
// 2^64, then adds, for every other rank j, a mask drawn from a key it shares with j: + for
// j above it, − for j below. The masks cancel exactly in the sum over ranks, so the sum is
// the sum of the encodings, while one rank's buffer alone is indistinguishable from uniform
// noise to anyone without its pairwise keys. Keys: X25519 (libsodium's crypto_scalarmult)
// on key pairs whose public halves the ranks exchange; masks: ChaCha20 keyed by the pair's
// key, its nonce the number of the aggregation (the same on every rank, collectives being
// ordered). Torch-free; the communicator that uses it exchanges the keys and sums the words.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace moecollab::privacy {

// Fixed point on Z/2^64: a value x is clipped to [-clip, clip] and becomes round(x · 2^fraction_bits)
// as a two's-complement 64-bit word. The sum over W ranks decodes exactly (mod 2^64 wraps back)
// while W · clip · 2^fraction_bits < 2^63; each rank's rounding adds at most 2^-(fraction_bits+1),
// so the decoded sum is within W · 2^-(fraction_bits+1) of the sum of the clipped values.
struct FixedPoint {
  int fraction_bits = 24;  // resolution 2^-24 ≈ 6.0e-8
  double clip = 1 << 20;   // |x| ≤ 2^20 ≈ 1.0e6 per value and rank

  double scale() const;
  // Refuses (Error, naming the bound) a setting whose sum over `ranks` could leave the int64 range.
  void check(int ranks) const;
  // The largest difference between the decoded sum over `ranks` and the sum of the clipped values.
  double sum_error_bound(int ranks) const;
};

std::vector<std::uint64_t> encode(const float* values, std::size_t count, const FixedPoint& format);
std::vector<std::uint64_t> encode(const double* values, std::size_t count, const FixedPoint& format);
// `sums` (mod 2^64) back to values: out[k] = int64(sums[k]) / 2^fraction_bits.
void decode(const std::vector<std::uint64_t>& sums, float* out, const FixedPoint& format);
void decode(const std::vector<std::uint64_t>& sums, double* out, const FixedPoint& format);

using PublicKey = std::array<unsigned char, 32>;

// An X25519 key pair; the secret half is wiped when the pair is destroyed.
class KeyPair {
 public:
  KeyPair();  // a fresh random pair
  ~KeyPair();
  KeyPair(const KeyPair&) = delete;
  KeyPair& operator=(const KeyPair&) = delete;
  const PublicKey& public_key() const { return public_; }
  const unsigned char* secret_key() const { return secret_.data(); }

 private:
  PublicKey public_{};
  std::array<unsigned char, 32> secret_{};
};

// The masks one rank adds: a key shared with every other rank, derived from its own key pair and
// their public keys (`public_keys[r]` is rank r's, this rank's own included at `rank`).
class PairwiseMasks {
 public:
  PairwiseMasks(int rank, const KeyPair& own, const std::vector<PublicKey>& public_keys);
  ~PairwiseMasks();
  PairwiseMasks(const PairwiseMasks&) = delete;
  PairwiseMasks& operator=(const PairwiseMasks&) = delete;

  int rank() const { return rank_; }
  int size() const { return static_cast<int>(keys_.size()); }
  // Adds this rank's masks for aggregation number `call` to `words` (mod 2^64). Every rank must
  // use the same `call` for the same aggregation, and never the same `call` twice.
  void apply(std::uint64_t call, std::vector<std::uint64_t>& words) const;

 private:
  int rank_;
  std::vector<std::array<unsigned char, 32>> keys_;  // keys_[j]: shared with rank j (unused at rank_)
};

// A public key as bytes for an exchange of strings, and back (Error naming `who` on a wrong length).
std::string public_key_bytes(const PublicKey& key);
PublicKey public_key_from_bytes(const std::string& bytes, const std::string& who);

}  // namespace moecollab::privacy
