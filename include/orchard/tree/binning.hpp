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
#include <limits>
#include <string>
#include <memory>
#include <span>
#include <vector>

#include "../core/context.hpp"
#include "../core/error.hpp"
#include "../core/matrix_view.hpp"
#include "../core/parallel.hpp"
#include "../core/random.hpp"

namespace orchard::tree {

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
      std::vector<double> v;
      v.reserve(static_cast<std::size_t>(ns));
      for (index_t i = 0; i < ns; ++i) {
        const double x = static_cast<double>(X(sampled ? rows[static_cast<std::size_t>(i)] : i, f));
        if (!std::isnan(x)) v.push_back(x);
      }
      if (m.categorical_[fi]) {
        for (double x : v) {
          require(x >= 0 && x < p.max_bin && x == std::floor(x), "X(categorical feature " +
                  std::to_string(f) + ")", x, "category codes must be integers in [0, max_bin)");
        }
        m.num_bins_[fi] = p.max_bin + 1;  // every code 0..max_bin-1 has a bin, then missing
        return;
      }
      std::sort(v.begin(), v.end());
      m.cuts_[fi] = find_cuts(v, p.max_bin);
      m.num_bins_[fi] = static_cast<int>(m.cuts_[fi].size()) + 2;
    });
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
      require(x >= 0 && x < max_bin_ && x == std::floor(x),
              "X(categorical feature " + std::to_string(f) + ")", x,
              "category codes must be integers in [0, max_bin)");
      return static_cast<int>(x);
    }
    const auto& c = cuts(f);
    return static_cast<int>(std::lower_bound(c.begin(), c.end(), x) - c.begin());
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
    // Blocks of (feature, row range) tasks; each code is written by exactly one task.
    constexpr index_t kRows = 1 << 16;
    const index_t nrb = num_blocks(X.rows, kRows);
    parallel_for_dynamic(ctx, X.cols * nrb, [&](std::int64_t task) {
      const index_t f = task / nrb, rb = task % nrb;
      const index_t r0 = rb * kRows, r1 = std::min(X.rows, r0 + kRows);
      const int fi = static_cast<int>(f);
      for (index_t i = r0; i < r1; ++i) {
        const int code = m.bin(fi, static_cast<double>(X(i, f)));
        const auto at = static_cast<std::size_t>(f * X.rows + i);
        if (b.wide_) {
          b.codes16_[at] = static_cast<std::uint16_t>(code);
        } else {
          b.codes8_[at] = static_cast<std::uint8_t>(code);
        }
      }
    });
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
