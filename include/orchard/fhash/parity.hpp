#pragma once
// Reference-parity mixing: reproduces the official Python `significant_float_mix` of
// google-research/unified_functional_hashing (NAS-Bench-101 hasher) bit for bit, re-expressed
// from its published definition. For each value the running integer `mix` is replaced twice:
//   mix = SHA-256( decimal text of the tuple (mix, bits & exponent_mask) ) read little-endian mod
//   2^63 mix = SHA-256( decimal text of the tuple (mix, bits & top-m-mantissa mask) ) ...
// where bits is the IEEE-754 double reinterpreted as an unsigned 64-bit integer. The sign is not
// mixed (the reference hashes positive accuracies only). Slow by design; used for parity checks.
#include <bit>
#include <cstdint>
#include <span>
#include <string>

#include "../core/error.hpp"
#include "sha256.hpp"

namespace orchard::fhash {

namespace detail {
/// Python's str((a, b)) for two non-negative integers: "(a, b)".
inline std::uint64_t parity_step(std::uint64_t mix, std::uint64_t value) {
  std::string text;
  text.reserve(48);
  text.push_back('(');
  text += std::to_string(mix);
  text += ", ";
  text += std::to_string(value);
  text.push_back(')');
  const auto d = Sha256::digest(text);
  // int.from_bytes(digest, "little") mod 2^63 keeps the low 63 bits of the first 8 bytes.
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | d[static_cast<std::size_t>(i)];
  return v & 0x7FFFFFFFFFFFFFFFull;
}
}  // namespace detail

/// The official `significant_float_mix(values, mantissa_bits)`; result in [0, 2^63).
inline std::uint64_t significant_float_mix(std::span<const double> values, int mantissa_bits) {
  require(mantissa_bits >= 1 && mantissa_bits <= 52, "mantissa_bits", mantissa_bits,
          "must lie in 1..52 (bits of the double mantissa kept)");
  constexpr std::uint64_t exponent_mask = 0x7FF0000000000000ull;
  const std::uint64_t mantissa_mask = (0x000FFFFFFFFFFFFFull >> (52 - mantissa_bits))
                                      << (52 - mantissa_bits);
  std::uint64_t mix = 0;
  for (const double v : values) {
    const auto bits = std::bit_cast<std::uint64_t>(v);
    mix = detail::parity_step(mix, bits & exponent_mask);
    mix = detail::parity_step(mix, bits & mantissa_mask);
  }
  return mix;
}

}  // namespace orchard::fhash
