#pragma once
// Canonicalisation of float outputs before they are mixed into a functional hash: every value
// becomes one 64-bit word that keeps the sign, the exponent and the top m mantissa bits of the
// IEEE-754 double (truncated, as the reference implementation does, or rounded to nearest),
// with -0 folded onto +0, every NaN folded onto one NaN and +-inf kept. Words that no
// canonical float can produce (negative quiet NaNs with a kind tag) carry non-float events:
// a candidate that failed or stopped early at a given output position.
#include <bit>
#include <cmath>
#include <cstdint>
#include <string>

#include "../core/error.hpp"

namespace orchard::fhash {

/// How the mantissa is cut to m bits.
enum class Rounding {
  truncate,  ///< drop the low 52 - m bits (the reference's bit mask)
  nearest    ///< round to nearest at m bits, ties away from zero (may carry into the exponent)
};

inline const char* to_string(Rounding r) {
  return r == Rounding::truncate ? "truncate" : "nearest";
}

inline Rounding parse_rounding(const std::string& name) {
  if (name == "truncate") return Rounding::truncate;
  if (name == "nearest" || name == "round") return Rounding::nearest;
  throw InvalidArgument("orchard: argument 'rounding' = " + name +
                        ": expected 'truncate' or 'nearest'");
}

/// Parameters of the canonical form of one output value.
struct CanonicalParams {
  int mantissa_bits = 24;  ///< m in 1..52: mantissa bits kept
  Rounding rounding = Rounding::truncate;
  double zero_threshold =
      0.0;  ///< |x| < zero_threshold becomes +0 (absolute quantisation near 0; 0 = off)

  void validate() const {
    require(mantissa_bits >= 1 && mantissa_bits <= 52, "mantissa_bits", mantissa_bits,
            "must lie in 1..52 (bits of the double mantissa kept)");
    require(std::isfinite(zero_threshold) && zero_threshold >= 0.0, "zero_threshold",
            zero_threshold, "must be finite and >= 0");
  }
};

/// Kinds of non-float events recorded in the output stream.
enum class TokenKind : std::uint64_t { failure = 1, early_stop = 2, separator = 3 };

inline constexpr std::uint64_t kCanonicalNaN = 0x7FF8000000000000ull;
inline constexpr std::uint64_t kPositiveInf = 0x7FF0000000000000ull;
inline constexpr std::uint64_t kNegativeInf = 0xFFF0000000000000ull;
inline constexpr std::uint64_t kExponentMask = 0x7FF0000000000000ull;
inline constexpr std::uint64_t kMantissaMask = 0x000FFFFFFFFFFFFFull;

/// A token word: a negative quiet NaN whose payload holds the kind (bits 40..47) and a 40-bit
/// position. Canonical floats never take this form (all NaNs become the positive kCanonicalNaN).
constexpr std::uint64_t token(TokenKind kind, std::uint64_t position) {
  return 0xFFF8000000000000ull | (static_cast<std::uint64_t>(kind) << 40) |
         (position & 0xFFFFFFFFFFull);
}

constexpr bool is_token(std::uint64_t word) {
  return (word & 0xFFF8000000000000ull) == 0xFFF8000000000000ull && word != 0xFFF8000000000000ull;
}

/// Canonicalises doubles and floats. Cheap to copy; the hot path is a handful of bit operations.
class Canonicalizer {
 public:
  Canonicalizer() : Canonicalizer(CanonicalParams{}) {}
  explicit Canonicalizer(const CanonicalParams& p) : params_(p) {
    p.validate();
    const int drop = 52 - p.mantissa_bits;
    keep_mask_ = ~((std::uint64_t{1} << drop) - 1);  // drop = 0 keeps everything
    half_ = (p.rounding == Rounding::nearest && drop > 0) ? (std::uint64_t{1} << (drop - 1)) : 0;
  }

  const CanonicalParams& params() const noexcept { return params_; }

  /// The canonical word of x.
  std::uint64_t operator()(double x) const noexcept {
    if (x != x) return kCanonicalNaN;
    if (x == 0.0 || std::fabs(x) < params_.zero_threshold) return 0;  // -0 and +0 -> +0
    const std::uint64_t b = std::bit_cast<std::uint64_t>(x);
    if ((b & kExponentMask) == kExponentMask) return b;  // +-inf (NaN handled above)
    // Rounding adds half of the dropped unit to the magnitude; a carry moves into the exponent,
    // which is exactly the next representable value at m bits.
    return (b + half_) & keep_mask_;
  }
  std::uint64_t operator()(float x) const noexcept { return (*this)(static_cast<double>(x)); }

 private:
  CanonicalParams params_;
  std::uint64_t keep_mask_ = ~0ull;
  std::uint64_t half_ = 0;
};

}  // namespace orchard::fhash
