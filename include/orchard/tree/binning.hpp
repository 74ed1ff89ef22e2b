#pragma once
// Quantile binning: every feature is cut into at most `max_bin` value bins once per data set, and
// the data become small integer codes stored feature-major (uint8 when every feature fits 255
// value bins + the missing bin, uint16 otherwise). NaN always has its own bin, the last one of the
// feature, so every split can learn where missing values go.
//
// Bin b of a numeric feature holds the values v with cuts[b-1] < v <= cuts[b] (cuts[-1] = -inf,
// the last value bin is unbounded above): a split "bin <= b" is the raw test "x <= cuts[b]".
// A categorical feature holds integer codes 0..max_bin-1; its bin is the code itself.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <memory>
#include <span>
#include <vector>

#include "../core/context.hpp"
#include "../core/error.hpp"
#include "../core/matrix_view.hpp"
#include "../core/parallel.hpp"
#include "../core/random.hpp"

namespace orchard::tree {

/// The number of sorted cuts c[0..n) that are < x (a branch-free lower bound).
inline std::size_t lower_count(const double* c, std::size_t n, double x) {
  if (n == 0) return 0;
  const double* p = c;
  while (n > 1) {
    const std::size_t half = n / 2;
    p = p[half - 1] < x ? p + half : p;
    n -= half;
  }
  return static_cast<std::size_t>(p - c) + (*p < x ? 1 : 0);
}

namespace detail {
// Order-preserving unsigned keys of floating-point values (NaN excluded by the caller).
inline std::uint32_t sort_key(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return (u & 0x80000000u) ? ~u : u | 0x80000000u;
}
inline std::uint64_t sort_key(double x) {
  std::uint64_t u;
  std::memcpy(&u, &x, sizeof u);
  return (u & 0x8000000000000000ull) ? ~u : u | 0x8000000000000000ull;
}

// LSD radix sort on 8-bit digits; digits shared by every key are skipped. Several times faster
// than a comparison sort on the 10^5-value samples that binning sorts per feature.
template <class T>
void radix_sort(std::vector<T>& v) {
  using Key = decltype(sort_key(T{}));
  const std::size_t n = v.size();
  if (n < 256) {
    std::sort(v.begin(), v.end());
    return;
  }
  std::vector<Key> a(n), b(n);
  for (std::size_t i = 0; i < n; ++i) a[i] = sort_key(v[i]);
  for (unsigned shift = 0; shift < 8 * sizeof(Key); shift += 8) {
    std::size_t count[257] = {0};
    for (std::size_t i = 0; i < n; ++i) ++count[((a[i] >> shift) & 0xFF) + 1];
    if (count[((a[0] >> shift) & 0xFF) + 1] == n) continue;
    for (int d = 0; d < 256; ++d) count[d + 1] += count[d];
    for (std::size_t i = 0; i < n; ++i) b[count[(a[i] >> shift) & 0xFF]++] = a[i];
    a.swap(b);
  }
  for (std::size_t i = 0; i < n; ++i) {
    const Key k = a[i];
    const Key u = (k & (Key{1} << (8 * sizeof(Key) - 1))) ? k & ~(Key{1} << (8 * sizeof(Key) - 1)) : ~k;
    std::memcpy(&v[i], &u, sizeof u);
  }
}

// Sorts keys ascending, carrying ids along; stable (equal keys keep their order), so sorting
// (sort_key(value), position) pairs orders positions by value, ties by position.
// LSD radix on 8-bit digits [first, 8) (one counting pass for all of them; digits shared by every
// key skipped), then, when first > 0, an insertion pass orders keys that share those digits.
// That pass gives up after `budget` moves (many keys sharing their top bits) and the remaining
// digits are sorted by radix instead.
inline void radix_sort_pairs(std::vector<std::uint64_t>& keys, std::vector<std::uint32_t>& ids,
                             unsigned first = 5) {
  const std::size_t n = keys.size();
  std::size_t budget = n < 64 ? n * n : 8 * n;
  if (n < 64) first = 8;
  if (first < 8) {
    std::uint32_t count[8][256] = {};
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t k = keys[i];
      for (unsigned d = first; d < 8; ++d) ++count[d][(k >> (8 * d)) & 0xFF];
    }
    std::vector<std::uint64_t> k2(n);
    std::vector<std::uint32_t> i2(n);
    for (unsigned d = first; d < 8; ++d) {
      std::uint32_t* c = count[d];
      if (c[(keys[0] >> (8 * d)) & 0xFF] == n) continue;
      std::uint32_t sum = 0;
      for (int b = 0; b < 256; ++b) {
        const std::uint32_t t = c[b];
        c[b] = sum;
        sum += t;
      }
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint32_t at = c[(keys[i] >> (8 * d)) & 0xFF]++;
        k2[at] = keys[i];
        i2[at] = ids[i];
      }
      keys.swap(k2);
      ids.swap(i2);
    }
  }
  if (first == 0) return;
  for (std::size_t i = 1; i < n; ++i) {
    if (keys[i - 1] <= keys[i]) continue;
    const std::uint64_t k = keys[i];
    const std::uint32_t id = ids[i];
    std::size_t j = i;
    for (; j > 0 && keys[j - 1] > k && budget > 0; --j, --budget) {
      keys[j] = keys[j - 1];
      ids[j] = ids[j - 1];
    }
    keys[j] = k;
    ids[j] = id;
    if (budget == 0) {  // stable so far: finish with every digit
      radix_sort_pairs(keys, ids, 0);
      return;
    }
  }
}

// Cut points padded with +inf to 2^k - 1 entries: counting the cuts below x then takes exactly
// k branch-free steps.
struct PaddedCuts {
  std::vector<double> c;
  std::size_t top = 0;  ///< 2^(k-1), the first step

  explicit PaddedCuts(const std::vector<double>& cuts) {
    std::size_t p = 1;
    while (p - 1 < cuts.size()) p *= 2;
    c.assign(p - 1, std::numeric_limits<double>::infinity());
    std::copy(cuts.begin(), cuts.end(), c.begin());
    top = p / 2;
  }
  std::size_t count_below(double x) const {
    std::size_t i = 0;
    for (std::size_t s = top; s >= 1; s /= 2) i += c[i + s - 1] < x ? s : 0;
    return i;
  }
};
}  // namespace detail

struct BinParams {
  int max_bin = 255;              ///< value bins per feature, 2..65535 (> 255 gives uint16 codes)
  index_t sample_rows = 200000;   ///< rows sampled to find quantiles (0 = use all rows)
  std::uint64_t seed = 0;         ///< seed of the row sample
  std::vector<int> categorical;   ///< features holding integer category codes 0..max_bin-1
};

/// Per-feature cut points learned from data; maps raw values to bin codes.
class BinMapper {
 public:
  BinMapper() = default;

  template <class T>
  static BinMapper fit(ConstMatrixView<T> X, const BinParams& p, const Context& ctx) {
    require(X.rows > 0, "X.rows", X.rows, "binning needs at least one row");
    require(X.cols > 0, "X.cols", X.cols, "binning needs at least one feature");
    require(p.max_bin >= 2 && p.max_bin <= 65535, "max_bin", p.max_bin, "must lie in [2, 65535]");
    require(p.sample_rows >= 0, "sample_rows", p.sample_rows, "must be >= 0");
    BinMapper m;
    m.max_bin_ = p.max_bin;
    const auto d = static_cast<std::size_t>(X.cols);
    m.cuts_.assign(d, {});
    m.categorical_.assign(d, 0);
    m.num_bins_.assign(d, 0);
    for (int f : p.categorical) {
      require(f >= 0 && f < X.cols, "categorical feature", f, "must be a column index of X");
      m.categorical_[static_cast<std::size_t>(f)] = 1;
    }
    std::vector<std::int64_t> rows;
    const bool sampled = p.sample_rows > 0 && X.rows > p.sample_rows;
    if (sampled) {
      Rng rng(p.seed);
      rows = rng.sample_without_replacement(X.rows, p.sample_rows);
    }
    const index_t ns = sampled ? static_cast<index_t>(rows.size()) : X.rows;
    parallel_for_dynamic(ctx, X.cols, [&](std::int64_t f) {
      const auto fi = static_cast<std::size_t>(f);
      // Sorted as floats when every value is one (data read from float files usually are):
      // half the radix passes of doubles, and widening back is exact.
      std::vector<double> v;
      v.reserve(static_cast<std::size_t>(ns));
      bool all_float = true;
      for (index_t i = 0; i < ns; ++i) {
        const auto x = static_cast<double>(X(sampled ? rows[static_cast<std::size_t>(i)] : i, f));
        if (std::isnan(x)) continue;
        v.push_back(x);
        all_float = all_float && static_cast<double>(static_cast<float>(x)) == x;
      }
      if (all_float) {
        std::vector<float> narrow(v.begin(), v.end());
        detail::radix_sort(narrow);
        std::copy(narrow.begin(), narrow.end(), v.begin());
      } else {
        detail::radix_sort(v);
      }
      if (m.categorical_[fi]) {
        for (double x : v) {
          if (!(x >= 0 && x < p.max_bin && x == std::floor(x))) {
            require(false, "X(categorical feature " + std::to_string(f) + ")", x,
                    "category codes must be integers in [0, max_bin)");
          }
        }
        m.num_bins_[fi] = p.max_bin + 1;  // every code 0..max_bin-1 has a bin, then missing
        return;
      }
      m.cuts_[fi] = find_cuts(v, p.max_bin);
      m.num_bins_[fi] = static_cast<int>(m.cuts_[fi].size()) + 2;
    });
    return m;
  }

  /// A mapper from given cut points (per feature: finite, strictly increasing, at most
  /// max_bin - 1 of them; ignored for categorical features). Used for other candidate rules
  /// (uniform bins) and to restore a saved binning.
  static BinMapper from_cuts(std::vector<std::vector<double>> cuts,
                             const std::vector<int>& categorical, int max_bin) {
    require(max_bin >= 2 && max_bin <= 65535, "max_bin", max_bin, "must lie in [2, 65535]");
    require(!cuts.empty(), "cuts.size", cuts.size(), "needs at least one feature");
    BinMapper m;
    m.max_bin_ = max_bin;
    const std::size_t d = cuts.size();
    m.categorical_.assign(d, 0);
    m.num_bins_.assign(d, 0);
    for (int f : categorical) {
      require(f >= 0 && static_cast<std::size_t>(f) < d, "categorical feature", f,
              "must be a feature index");
      m.categorical_[static_cast<std::size_t>(f)] = 1;
    }
    for (std::size_t f = 0; f < d; ++f) {
      if (m.categorical_[f]) {
        cuts[f].clear();
        m.num_bins_[f] = max_bin + 1;
        continue;
      }
      const auto& c = cuts[f];
      require(static_cast<int>(c.size()) <= max_bin - 1, "cuts.size", c.size(),
              "must be at most max_bin - 1 per feature");
      for (std::size_t k = 0; k < c.size(); ++k) {
        require(std::isfinite(c[k]) && (k == 0 || c[k] > c[k - 1]), "cuts", c[k],
                "must be finite and strictly increasing");
      }
      m.num_bins_[f] = static_cast<int>(c.size()) + 2;
    }
    m.cuts_ = std::move(cuts);
    return m;
  }

  int num_features() const { return static_cast<int>(num_bins_.size()); }
  int max_bin() const { return max_bin_; }
  /// Bins of feature f including the missing bin (the last one).
  int num_bins(int f) const { return num_bins_[static_cast<std::size_t>(f)]; }
  int missing_bin(int f) const { return num_bins(f) - 1; }
  bool categorical(int f) const { return categorical_[static_cast<std::size_t>(f)] != 0; }
  const std::vector<double>& cuts(int f) const { return cuts_[static_cast<std::size_t>(f)]; }
  /// True when some feature needs codes above 255 (uint16 storage).
  bool wide() const {
    return std::any_of(num_bins_.begin(), num_bins_.end(), [](int b) { return b > 256; });
  }
  /// Raw threshold of "bin <= b" (numeric) or the category code b (categorical).
  double threshold(int f, int b) const {
    if (categorical(f)) return static_cast<double>(b);
    const auto& c = cuts(f);
    return b < static_cast<int>(c.size()) ? c[static_cast<std::size_t>(b)]
                                          : std::numeric_limits<double>::infinity();
  }
  /// The bin code of raw value x of feature f.
  int bin(int f, double x) const {
    if (std::isnan(x)) return missing_bin(f);
    if (categorical(f)) {
      if (!(x >= 0 && x < max_bin_ && x == std::floor(x))) {
        require(false, "X(categorical feature " + std::to_string(f) + ")", x,
                "category codes must be integers in [0, max_bin)");
      }
      return static_cast<int>(x);
    }
    const auto& c = cuts(f);
    return static_cast<int>(lower_count(c.data(), c.size(), x));
  }

  /// Cut points of sorted, non-NaN values: midpoints between distinct values, at most
  /// max_bin - 1 of them, placed so that bins hold about equal counts.
  static std::vector<double> find_cuts(const std::vector<double>& sorted, int max_bin) {
    std::vector<double> vals;
    std::vector<std::int64_t> counts;
    for (double x : sorted) {
      if (!vals.empty() && vals.back() == x) {
        ++counts.back();
      } else {
        vals.push_back(x);
        counts.push_back(1);
      }
    }
    std::vector<double> cuts;
    if (vals.size() <= 1) return cuts;
    auto mid = [&](std::size_t i) {
      const double a = vals[i], b = vals[i + 1];
      double c = a + (b - a) / 2;
      if (!(c >= a && c < b) || std::isinf(c)) c = a;  // adjacent doubles or overflow: cut at a
      return c;
    };
    if (static_cast<int>(vals.size()) <= max_bin) {
      for (std::size_t i = 0; i + 1 < vals.size(); ++i) cuts.push_back(mid(i));
      return cuts;
    }
    const double total = static_cast<double>(sorted.size());
    double cum = 0;
    int made = 0;
    for (std::size_t i = 0; i + 1 < vals.size() && made < max_bin - 1; ++i) {
      cum += static_cast<double>(counts[i]);
      // Cut after value i when the running count reaches the next quantile boundary.
      if (cum >= (made + 1) * total / max_bin) {
        cuts.push_back(mid(i));
        ++made;
        while (made < max_bin - 1 && cum >= (made + 1) * total / max_bin) ++made;
      }
    }
    return cuts;
  }

 private:
  int max_bin_ = 255;
  std::vector<std::vector<double>> cuts_;
  std::vector<int> num_bins_;
  std::vector<unsigned char> categorical_;
};

/// The bin codes of a data set, feature-major (column f is rows() contiguous codes).
class BinnedMatrix {
 public:
  BinnedMatrix() = default;

  template <class T>
  static BinnedMatrix build(BinMapper mapper, ConstMatrixView<T> X, const Context& ctx) {
    require(X.cols == mapper.num_features(), "X.cols", X.cols,
            "must equal the binning's feature count " + std::to_string(mapper.num_features()));
    BinnedMatrix b;
    b.rows_ = X.rows;
    b.cols_ = X.cols;
    b.wide_ = mapper.wide();
    b.mapper_ = std::make_shared<BinMapper>(std::move(mapper));
    const auto total = static_cast<std::size_t>(X.rows * X.cols);
    if (b.wide_) {
      b.codes16_.resize(total);
    } else {
      b.codes8_.resize(total);
    }
    const BinMapper& m = *b.mapper_;
    // Row-block tasks; inside a block one feature at a time, so each task writes runs of
    // contiguous codes and the block's rows stay in cache across features.
    constexpr index_t kRows = 1 << 10;
    std::vector<detail::PaddedCuts> cuts;
    cuts.reserve(static_cast<std::size_t>(X.cols));
    for (index_t f = 0; f < X.cols; ++f) cuts.emplace_back(m.cuts(static_cast<int>(f)));
    parallel_blocks(ctx, X.rows, kRows, [&](std::int64_t, std::int64_t r0, std::int64_t r1) {
      for (index_t f = 0; f < X.cols; ++f) {
        const auto fi = static_cast<int>(f);
        const detail::PaddedCuts& pc = cuts[static_cast<std::size_t>(f)];
        const bool cat = m.categorical(fi);
        const int miss = m.missing_bin(fi);
        const auto code = [&](index_t i) {
          const double x = static_cast<double>(X(i, f));
          if (cat) return m.bin(fi, x);
          return std::isnan(x) ? miss : static_cast<int>(pc.count_below(x));
        };
        const auto at = static_cast<std::size_t>(f * X.rows);
        if (b.wide_) {
          for (index_t i = r0; i < r1; ++i) b.codes16_[at + static_cast<std::size_t>(i)] = static_cast<std::uint16_t>(code(i));
        } else {
          for (index_t i = r0; i < r1; ++i) b.codes8_[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(code(i));
        }
      }
    });
    return b;
  }

  /// Wraps bin codes computed elsewhere: feature-major, `rows` codes per feature, in codes8 (or
  /// codes16 when mapper.wide()); each code must be < mapper.num_bins(f).
  static BinnedMatrix from_codes(BinMapper mapper, index_t rows, std::vector<std::uint8_t> codes8,
                                 std::vector<std::uint16_t> codes16) {
    BinnedMatrix b;
    b.rows_ = rows;
    b.cols_ = mapper.num_features();
    b.wide_ = mapper.wide();
    const auto total = static_cast<std::size_t>(rows * b.cols_);
    require(rows > 0, "rows", rows, "must be > 0");
    require((b.wide_ ? codes16.size() : codes8.size()) == total, "codes.size",
            b.wide_ ? codes16.size() : codes8.size(), "must be rows x features");
    for (index_t f = 0; f < b.cols_; ++f) {
      const int nb = mapper.num_bins(static_cast<int>(f));
      for (index_t i = 0; i < rows; ++i) {
        const auto at = static_cast<std::size_t>(f * rows + i);
        const int c = b.wide_ ? codes16[at] : codes8[at];
        if (c >= nb) require(false, "code", c, "must be < the feature's bin count");
      }
    }
    b.codes8_ = std::move(codes8);
    b.codes16_ = std::move(codes16);
    b.mapper_ = std::make_shared<BinMapper>(std::move(mapper));
    return b;
  }

  template <class T>
  static BinnedMatrix fit(ConstMatrixView<T> X, const BinParams& p, const Context& ctx) {
    return build(BinMapper::fit(X, p, ctx), X, ctx);
  }

  index_t rows() const { return rows_; }
  index_t cols() const { return cols_; }
  bool wide() const { return wide_; }
  const BinMapper& mapper() const { return *mapper_; }
  template <class Code>
  const Code* column(index_t f) const {
    if constexpr (sizeof(Code) == 1) {
      return codes8_.data() + f * rows_;
    } else {
      return codes16_.data() + f * rows_;
    }
  }
  int code(index_t i, index_t f) const {
    const auto at = static_cast<std::size_t>(f * rows_ + i);
    return wide_ ? codes16_[at] : codes8_[at];
  }

 private:
  index_t rows_ = 0, cols_ = 0;
  bool wide_ = false;
  std::shared_ptr<const BinMapper> mapper_;
  std::vector<std::uint8_t> codes8_;
  std::vector<std::uint16_t> codes16_;
};

}  // namespace orchard::tree
