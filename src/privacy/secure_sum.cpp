#include "moecollab/privacy/secure_sum.h"

#include <sodium.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "moecollab/util/error.h"

namespace moecollab::privacy {
namespace {

void require_sodium() {
  if (sodium_init() < 0) throw Error("secure aggregation: libsodium could not be initialised");
}

template <typename T>
std::vector<std::uint64_t> encode_values(const T* values, std::size_t count, const FixedPoint& format) {
  const double scale = format.scale();
  std::vector<std::uint64_t> words(count);
  for (std::size_t k = 0; k < count; ++k) {
    const double x = static_cast<double>(values[k]);
    if (std::isnan(x)) throw Error("secure aggregation: a NaN cannot be encoded (value " + std::to_string(k) + ")");
    const double clipped = std::clamp(x, -format.clip, format.clip);
    words[k] = static_cast<std::uint64_t>(static_cast<std::int64_t>(std::llround(clipped * scale)));
  }
  return words;
}

template <typename T>
void decode_values(const std::vector<std::uint64_t>& sums, T* out, const FixedPoint& format) {
  const double scale = format.scale();
  for (std::size_t k = 0; k < sums.size(); ++k) {
    out[k] = static_cast<T>(static_cast<double>(static_cast<std::int64_t>(sums[k])) / scale);
  }
}

}  // namespace

double FixedPoint::scale() const { return std::ldexp(1.0, fraction_bits); }

void FixedPoint::check(int ranks) const {
  if (fraction_bits < 0 || fraction_bits > 52) {
    throw Error("secure aggregation: fraction bits must be in [0, 52], not " + std::to_string(fraction_bits));
  }
  if (!(clip > 0)) throw Error("secure aggregation: the clipping range must be > 0");
  const double largest = static_cast<double>(ranks) * (clip * scale() + 0.5);
  if (!(largest < std::ldexp(1.0, 63))) {
    throw Error("secure aggregation: " + std::to_string(ranks) + " ranks x clip " + std::to_string(clip) + " x 2^" +
                std::to_string(fraction_bits) + " can exceed 2^63: lower the clipping range or the fraction bits");
  }
}

double FixedPoint::sum_error_bound(int ranks) const { return ranks * 0.5 / scale(); }

std::vector<std::uint64_t> encode(const float* values, std::size_t count, const FixedPoint& format) {
  return encode_values(values, count, format);
}
std::vector<std::uint64_t> encode(const double* values, std::size_t count, const FixedPoint& format) {
  return encode_values(values, count, format);
}
void decode(const std::vector<std::uint64_t>& sums, float* out, const FixedPoint& format) {
  decode_values(sums, out, format);
}
void decode(const std::vector<std::uint64_t>& sums, double* out, const FixedPoint& format) {
  decode_values(sums, out, format);
}

KeyPair::KeyPair() {
  require_sodium();
  randombytes_buf(secret_.data(), secret_.size());
  if (crypto_scalarmult_base(public_.data(), secret_.data()) != 0) {
    throw Error("secure aggregation: cannot derive a public key");
  }
}

KeyPair::~KeyPair() { sodium_memzero(secret_.data(), secret_.size()); }

PairwiseMasks::PairwiseMasks(int rank, const KeyPair& own, const std::vector<PublicKey>& public_keys)
    : rank_(rank), keys_(public_keys.size()) {
  require_sodium();
  if (rank < 0 || rank >= size()) {
    throw Error("secure aggregation: rank " + std::to_string(rank) + " of " + std::to_string(size()) + " keys");
  }
  if (public_keys[rank] != own.public_key()) {
    throw Error("secure aggregation: rank " + std::to_string(rank) + "'s own public key is not at its place");
  }
  for (int j = 0; j < size(); ++j) {
    if (j == rank) continue;
    if (public_keys[j] == own.public_key()) {
      throw Error("secure aggregation: rank " + std::to_string(j) + " sent rank " + std::to_string(rank) +
                  "'s own public key");
    }
    std::array<unsigned char, 32> shared{};
    if (crypto_scalarmult(shared.data(), own.secret_key(), public_keys[j].data()) != 0) {
      throw Error("secure aggregation: rank " + std::to_string(j) + "'s public key is invalid (a low-order point)");
    }
    // The pair's key: BLAKE2b of the X25519 secret and both public keys, lower rank's first, so
    // that both ranks derive the same key and it is bound to this pair.
    const auto& low = public_keys[std::min(rank, j)];
    const auto& high = public_keys[std::max(rank, j)];
    crypto_generichash_state state;
    crypto_generichash_init(&state, nullptr, 0, keys_[j].size());
    crypto_generichash_update(&state, shared.data(), shared.size());
    crypto_generichash_update(&state, low.data(), low.size());
    crypto_generichash_update(&state, high.data(), high.size());
    crypto_generichash_final(&state, keys_[j].data(), keys_[j].size());
    sodium_memzero(shared.data(), shared.size());
  }
}

PairwiseMasks::~PairwiseMasks() {
  for (auto& key : keys_) sodium_memzero(key.data(), key.size());
}

void PairwiseMasks::apply(std::uint64_t call, std::vector<std::uint64_t>& words) const {
  static_assert(crypto_stream_chacha20_NONCEBYTES == sizeof(std::uint64_t), "ChaCha20's nonce is 64 bits");
  unsigned char nonce[crypto_stream_chacha20_NONCEBYTES];
  for (std::size_t b = 0; b < sizeof nonce; ++b) nonce[b] = static_cast<unsigned char>(call >> (8 * b));
  std::vector<std::uint64_t> mask(words.size());
  for (int j = 0; j < size(); ++j) {
    if (j == rank_) continue;
    crypto_stream_chacha20(reinterpret_cast<unsigned char*>(mask.data()), mask.size() * sizeof(std::uint64_t), nonce,
                           keys_[j].data());
    if (j > rank_) {
      for (std::size_t k = 0; k < words.size(); ++k) words[k] += mask[k];
    } else {
      for (std::size_t k = 0; k < words.size(); ++k) words[k] -= mask[k];
    }
  }
  sodium_memzero(mask.data(), mask.size() * sizeof(std::uint64_t));
}

std::string public_key_bytes(const PublicKey& key) { return std::string(key.begin(), key.end()); }

PublicKey public_key_from_bytes(const std::string& bytes, const std::string& who) {
  PublicKey key{};
  if (bytes.size() != key.size()) {
    throw Error("secure aggregation: " + who + " sent a public key of " + std::to_string(bytes.size()) +
                " bytes, not " + std::to_string(key.size()));
  }
  std::memcpy(key.data(), bytes.data(), key.size());
  return key;
}

}  // namespace moecollab::privacy
