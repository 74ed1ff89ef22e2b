#pragma once
// SHA-256 (FIPS 180-4), used only by the reference-parity mode of the hasher. The round constants
// and initial hash words are derived at compile time from their definition (fractional parts of
// the cube and square roots of the first primes) by exact integer roots, so no table is typed in.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace orchard::fhash {

namespace detail {

__extension__ typedef unsigned __int128 sha_u128;

constexpr std::array<std::uint32_t, 64> first_primes_64() {
  std::array<std::uint32_t, 64> p{};
  std::uint32_t n = 2;
  for (std::size_t k = 0; k < 64; ++n) {
    bool prime = true;
    for (std::uint32_t d = 2; d * d <= n; ++d) {
      if (n % d == 0) {
        prime = false;
        break;
      }
    }
    if (prime) p[k++] = n;
  }
  return p;
}

/// floor(root_k(p) * 2^32) mod 2^32 for k = 2 or 3: the largest y with y^k <= p * 2^(32k).
constexpr std::uint32_t frac_root_bits(std::uint32_t p, int k) {
  const sha_u128 target = static_cast<sha_u128>(p) << (32 * k);
  std::uint64_t lo = 0, hi = std::uint64_t{1} << 40;  // roots of primes < 512 stay below 2^40
  while (hi - lo > 1) {
    const std::uint64_t mid = lo + (hi - lo) / 2;
    sha_u128 v = mid;
    for (int i = 1; i < k; ++i) v *= mid;
    if (v <= target) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return static_cast<std::uint32_t>(lo);
}

constexpr std::array<std::uint32_t, 64> sha256_k() {
  const auto p = first_primes_64();
  std::array<std::uint32_t, 64> k{};
  for (std::size_t i = 0; i < 64; ++i) k[i] = frac_root_bits(p[i], 3);
  return k;
}

constexpr std::array<std::uint32_t, 8> sha256_h0() {
  const auto p = first_primes_64();
  std::array<std::uint32_t, 8> h{};
  for (std::size_t i = 0; i < 8; ++i) h[i] = frac_root_bits(p[i], 2);
  return h;
}

inline constexpr std::array<std::uint32_t, 64> kSha256K = sha256_k();
inline constexpr std::array<std::uint32_t, 8> kSha256H0 = sha256_h0();

constexpr std::uint32_t rotr(std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

}  // namespace detail

/// Incremental SHA-256.
class Sha256 {
 public:
  using Digest = std::array<std::uint8_t, 32>;

  Sha256() { reset(); }

  void reset() {
    h_ = detail::kSha256H0;
    length_ = 0;
    fill_ = 0;
  }

  void update(const void* data, std::size_t n) {
    const auto* p = static_cast<const std::uint8_t*>(data);
    length_ += n;
    while (n > 0) {
      const std::size_t take = std::min<std::size_t>(64 - fill_, n);
      for (std::size_t i = 0; i < take; ++i) block_[fill_ + i] = p[i];
      fill_ += take;
      p += take;
      n -= take;
      if (fill_ == 64) {
        compress();
        fill_ = 0;
      }
    }
  }
  void update(std::string_view s) { update(s.data(), s.size()); }

  /// Pads, finishes and returns the digest; the object must be reset() before reuse.
  Digest finish() {
    const std::uint64_t bit_length = length_ * 8;
    block_[fill_++] = 0x80;
    if (fill_ > 56) {
      while (fill_ < 64) block_[fill_++] = 0;
      compress();
      fill_ = 0;
    }
    while (fill_ < 56) block_[fill_++] = 0;
    for (int i = 7; i >= 0; --i) block_[fill_++] = static_cast<std::uint8_t>(bit_length >> (8 * i));
    compress();
    Digest d{};
    for (std::size_t i = 0; i < 8; ++i) {
      for (std::size_t j = 0; j < 4; ++j) {
        d[4 * i + j] = static_cast<std::uint8_t>(h_[i] >> (24 - 8 * j));
      }
    }
    return d;
  }

  static Digest digest(std::string_view s) {
    Sha256 h;
    h.update(s);
    return h.finish();
  }

  static std::string hex(const Digest& d) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    out.reserve(64);
    for (auto b : d) {
      out.push_back(digits[b >> 4]);
      out.push_back(digits[b & 15]);
    }
    return out;
  }

 private:
  void compress() {
    using detail::rotr;
    std::uint32_t w[64];
    for (int t = 0; t < 16; ++t) {
      w[t] = (std::uint32_t{block_[4 * t]} << 24) | (std::uint32_t{block_[4 * t + 1]} << 16) |
             (std::uint32_t{block_[4 * t + 2]} << 8) | std::uint32_t{block_[4 * t + 3]};
    }
    for (int t = 16; t < 64; ++t) {
      const std::uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
      const std::uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
      w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    std::uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4], f = h_[5], g = h_[6],
                  h = h_[7];
    for (int t = 0; t < 64; ++t) {
      const std::uint32_t big_s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
      const std::uint32_t ch = (e & f) ^ (~e & g);
      const std::uint32_t t1 =
          h + big_s1 + ch + detail::kSha256K[static_cast<std::size_t>(t)] + w[t];
      const std::uint32_t big_s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
      const std::uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
      const std::uint32_t t2 = big_s0 + maj;
      h = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    h_[0] += a;
    h_[1] += b;
    h_[2] += c;
    h_[3] += d;
    h_[4] += e;
    h_[5] += f;
    h_[6] += g;
    h_[7] += h;
  }

  std::array<std::uint32_t, 8> h_{};
  std::array<std::uint8_t, 64> block_{};
  std::uint64_t length_ = 0;
  std::size_t fill_ = 0;
};

}  // namespace orchard::fhash
