#pragma once
// Seeded randomness with results fixed by the seed alone: the generator (xoshiro256**, seeded by
// splitmix64) and every distribution are defined here, because the standard library leaves its
// distributions' algorithms to the implementation.
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <utility>
#include <vector>

#include "config.hpp"
#include "error.hpp"

namespace orchard {

namespace detail {
__extension__ typedef unsigned __int128 uint128;  // GCC/Clang/nvcc extension, 64x64->128 product
}  // namespace detail

ORCHARD_HD inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

class Rng {
 public:
  using result_type = std::uint64_t;
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }

  explicit Rng(std::uint64_t seed = 0) { reseed(seed); }

  void reseed(std::uint64_t seed) {
    std::uint64_t sm = seed;
    for (auto& w : s_) w = splitmix64(sm);
    has_spare_ = false;
  }

  /// An independent stream derived from this generator's seed state and `stream` — use one per
  /// task (tree, row block, environment) so results do not depend on which thread runs it.
  Rng split(std::uint64_t stream) const {
    std::uint64_t sm = s_[0] ^ (s_[3] * 0x9E3779B97F4A7C15ull) ^ (stream + 0xD1B54A32D192ED03ull);
    return Rng(splitmix64(sm) ^ stream);
  }

  result_type operator()() { return next(); }

  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  /// Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

  /// Uniform integer in [0, n), unbiased (Lemire's multiply-and-reject).
  std::uint64_t uniform_int(std::uint64_t n) {
    require(n > 0, "n", n, "uniform_int needs a non-empty range");
    detail::uint128 m = static_cast<detail::uint128>(next()) * n;
    auto low = static_cast<std::uint64_t>(m);
    if (low < n) {
      const std::uint64_t threshold = (0 - n) % n;
      while (low < threshold) {
        m = static_cast<detail::uint128>(next()) * n;
        low = static_cast<std::uint64_t>(m);
      }
    }
    return static_cast<std::uint64_t>(m >> 64);
  }

  /// Standard normal (Marsaglia polar method).
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u, v, s;
    do {
      u = 2.0 * uniform() - 1.0;
      v = 2.0 * uniform() - 1.0;
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    const double f = std::sqrt(-2.0 * std::log(s) / s);
    spare_ = v * f;
    has_spare_ = true;
    return u * f;
  }
  double normal(double mean, double sd) { return mean + sd * normal(); }

  bool bernoulli(double p) { return uniform() < p; }

  /// Fisher–Yates shuffle.
  template <class It>
  void shuffle(It first, It last) {
    const auto n = static_cast<std::uint64_t>(last - first);
    for (std::uint64_t i = n; i > 1; --i) {
      const std::uint64_t j = uniform_int(i);
      using std::swap;
      swap(first[i - 1], first[j]);
    }
  }

  /// k distinct indices of [0, n), in increasing order (Knuth's selection sampling, O(n)).
  std::vector<std::int64_t> sample_without_replacement(std::int64_t n, std::int64_t k) {
    require(n >= 0, "n", n, "must be >= 0");
    require(k >= 0 && k <= n, "k", k, "must lie in [0, n]");
    std::vector<std::int64_t> out;
    out.reserve(static_cast<std::size_t>(k));
    std::int64_t needed = k;
    for (std::int64_t i = 0; i < n && needed > 0; ++i) {
      // Knuth's algorithm S: keep row i with probability needed / remaining.
      if (static_cast<std::int64_t>(uniform_int(static_cast<std::uint64_t>(n - i))) < needed) {
        out.push_back(i);
        --needed;
      }
    }
    return out;
  }

  /// Draws an index with probability proportional to weights[i] (weights >= 0, sum > 0).
  template <class Vec>
  std::int64_t categorical(const Vec& weights) {
    double total = 0;
    for (auto w : weights) total += static_cast<double>(w);
    require(total > 0 && std::isfinite(total), "weights.sum", total, "must be positive and finite");
    double u = uniform() * total;
    std::int64_t i = 0, last = 0;
    for (auto w : weights) {
      if (static_cast<double>(w) > 0) last = i;
      u -= static_cast<double>(w);
      if (u < 0) return i;
      ++i;
    }
    return last;
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
  double spare_ = 0;
  bool has_spare_ = false;
};

}  // namespace orchard
